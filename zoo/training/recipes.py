"""Training recipes: what a registered recipe's settings mean to the trainer.

Plugins register recipes as plain mappings (``zoo.TrainingRecipe`` records, or
an Architecture record's ``recipes``), so that registration imports no torch. :func:`recipe_from_mapping` reads one into a
typed :class:`Recipe`, accepting the spellings the plugins use
(``optimizer``/``optimiser``, ``clip``/``clip_value``, ``gp_lambda``/``lambda_gp``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .losses import get_loss
from .schedule import LR_SCHEDULES

_SYNONYMS = {
    "optimiser": "optimizer",
    "opt": "optimizer",
    "lr": "lr",
    "clip_value": "clip",
    "weight_clip": "clip",
    "clamp": "clip",
    "lambda_gp": "gp_lambda",
    "gp_weight": "gp_lambda",
    "lambda": "gp_lambda",
    "critic_iters": "n_critic",
    "d_steps": "n_critic",
    "batch": "batch_size",
}


@dataclass(frozen=True)
class Recipe:
    """The settings of one adversarial training run (a generator step is one ``step``)."""

    loss: str = "bce-nonsaturating"
    optimizer: str = "adam"  # "adam" or "rmsprop"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 64
    n_critic: int = 1  # discriminator updates per generator update
    clip: float | None = None  # weight clipping of the critic after each of its updates
    gp_lambda: float = 0.0  # gradient-penalty weight (wasserstein-gp)
    steps: int | None = None  # generator updates of the paper's run, when it gives one
    # exponential moving average of the generator's weights (decay per generator step); when set, the
    # published generator is the average (its buffers are the trained generator's), not the raw one
    ema: float | None = None
    # generator steps during which only the critic is updated, when a run continues from a folder that has no
    # discriminator (zoo train --init-from): a fresh critic's first gradients are noise that a trained
    # generator would follow (seen: WGAN-GP and SN-GAN continued that way got worse)
    critic_warmup: int = 0
    # the learning rate against steps (zoo.training.schedule): "constant", or "linear-decay" from the base
    # rate at lr_decay_start to zero at lr_decay_end (default: the run's --steps), as pytorch-gan-collections
    lr_schedule: str = "constant"
    lr_decay_start: int = 0
    lr_decay_end: int | None = None
    source: str = ""

    def __post_init__(self) -> None:
        loss = get_loss(self.loss)  # raises ConfigError on an unknown loss, naming the registered ones
        if loss.kind != "adversarial":
            raise ConfigError(f"the {loss.name} loss is a {loss.kind} loss; a GAN recipe's loss must be adversarial "
                              "(a d/g pair: bce-nonsaturating, wasserstein, hinge, ...; `zoo plugins` lists them)")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ConfigError(f"recipe optimizer must be 'adam' or 'rmsprop', got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"recipe lr_schedule is one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.critic_warmup < 0:
            raise ConfigError(f"recipe critic_warmup is a number of steps >= 0, got {self.critic_warmup!r}")
        if self.n_critic < 1 or self.batch_size < 1:
            raise ConfigError("recipe n_critic and batch_size must be >= 1")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ConfigError(f"recipe ema is a decay in (0, 1), e.g. 0.9999; got {self.ema!r}")
        if loss.gradient_penalty and self.gp_lambda <= 0:
            raise ConfigError(f"the {loss.name} loss adds a gradient penalty and needs gp_lambda > 0 "
                              "(Gulrajani et al. use 10)")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


def recipe_from_mapping(mapping: Mapping[str, Any] | None, **overrides: Any) -> Recipe:
    """A :class:`Recipe` from an architecture's recipe mapping plus overrides; unknown keys are kept out."""
    fields = {f.name for f in dataclasses.fields(Recipe)}
    values: dict[str, Any] = {}
    for src in (dict(mapping or {}), overrides):
        for key, value in src.items():
            key = _SYNONYMS.get(key, key)
            if key == "lr":
                values["lr_g"] = values["lr_d"] = float(value)
            elif key in fields and value is not None:
                values[key] = value
    if "optimizer" in values:
        values["optimizer"] = str(values["optimizer"]).lower()
    if "betas" in values:
        values["betas"] = tuple(float(b) for b in values["betas"])
    for key in ("lr_g", "lr_d", "gp_lambda", "ema"):
        if key in values:
            values[key] = float(values[key])
    if values.get("ema") in (0, 0.0):
        values.pop("ema")
    if "clip" in values:
        values["clip"] = float(values["clip"])
    if "lr_schedule" in values:
        values["lr_schedule"] = str(values["lr_schedule"])
    for key in ("batch_size", "n_critic", "steps", "critic_warmup", "lr_decay_start", "lr_decay_end"):
        if key in values:
            values[key] = int(values[key])
    if "source" in values:
        values["source"] = str(values["source"])
    return Recipe(**values)


def architecture_recipe(arch: Any, name: str | None = None, **overrides: Any) -> Recipe:
    """The recipe ``name`` (default: the architecture's default recipe) of an Architecture record.

    A registered architecture's ``recipes`` hold every plugin's recipes for it (register_recipes hooks
    and the record's own ``recipes``).
    """
    recipes = dict(getattr(arch, "recipes", {}) or {})
    name = name or getattr(arch, "default_recipe", "") or None
    if name is None:
        return recipe_from_mapping({}, **overrides)
    if name not in recipes:
        raise ConfigError(
            f"architecture {arch.name!r} has no recipe {name!r}; its recipes: {describe_recipes(arch)}. "
            "`zoo info` lists them; a plugin adds one with a register_recipes hook (docs/plugins.md)."
        )
    return recipe_from_mapping(recipes[name], **overrides)


def describe_recipes(arch: Any) -> str:
    """``name (plugin P, loss L)`` for each recipe of a registered architecture, the default marked."""
    from ..plugins import get_host

    return get_host().registry.describe_recipes(arch)
