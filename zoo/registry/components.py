"""The records of what a plugin brings besides models: :class:`Loss`, :class:`TrainingRecipe`,
:class:`Command` and :class:`Evaluator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRecordError
from .names import (
    _ARCH_RE, _COMMAND_RE, _frozen, _IMPORT_PATH_RE, _LOSS_RE, _plain_data_problem, _TAG_RE, _TASK_RE,
    normalise_loss_name,
)


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
