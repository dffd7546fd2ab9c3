"""Losses: generic adversarial loss functions, and the lookup of the losses plugins register.

A registered :class:`zoo.Loss` is either adversarial (a d/g pair, below) or of another kind
(perceptual, pixel, regulariser, ...: one function ``fn``, whose arguments the trainer that
uses it documents); :func:`get_loss` resolves both.

The names come from plugins (``register_losses`` hooks, :class:`zoo.Loss`
records naming their functions by import path); the functions below are the
generic math that several of them name. Every discriminator (critic) returns
raw scores: logits for the BCE losses, unbounded critic values for the
Wasserstein and hinge losses. Each loss is a pair: ``d(real_scores,
fake_scores)`` for the discriminator and ``g(fake_scores)`` for the generator,
both returning a scalar to minimise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError, PluginError
from ..importing import import_object
from ..registry import Loss as LossRecord
from ..registry import normalise_loss_name


def bce_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al.'s discriminator loss: -log D(x) - log(1 - D(G(z))), from logits."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def bce_g_minimax(fake: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss: minimise log(1 - D(G(z))) = -softplus(logit)."""
    return -F.softplus(fake).mean()


def bce_g_nonsaturating(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: minimise -log D(G(z)) = softplus(-logit)."""
    return F.softplus(-fake).mean()


def wasserstein_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's loss E[f(G(z))] - E[f(x)] (Arjovsky et al. 2017)."""
    return fake.mean() - real.mean()


def wasserstein_g(fake: torch.Tensor) -> torch.Tensor:
    """The generator's Wasserstein loss -E[f(G(z))]; also the hinge generator loss."""
    return -fake.mean()


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The hinge discriminator loss (Lim & Ye 2017; Miyato et al. 2018): E[relu(1 - f(x))] + E[relu(1 + f(G(z)))]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Gulrajani et al.'s penalty E[(||grad f(x_hat)||_2 - 1)^2] on random interpolates x_hat.

    Returned without the lambda factor. ``generator`` draws the interpolation weights.
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(shape, generator=generator, dtype=real.dtype).to(real.device)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.float().flatten(1).norm(2, dim=1)  # float32 even under bf16 autocast
    return ((norms - 1.0) ** 2).mean()


@dataclass(frozen=True)
class ResolvedLoss:
    """A registered :class:`zoo.Loss` with its functions imported (``d`` and ``g`` for an adversarial
    loss, ``fn`` for every other kind; the others are None)."""

    name: str
    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None
    g: Callable[[torch.Tensor], torch.Tensor] | None
    gradient_penalty: bool = False
    plugin: str = ""
    record: LossRecord | None = None
    kind: str = "adversarial"
    fn: Callable[..., torch.Tensor] | None = None

    def __call__(self, *args: object, **kwargs: object) -> torch.Tensor:
        """A non-adversarial loss called directly: ``fn(*args, **kwargs)``."""
        if self.fn is None:
            raise ConfigError(f"the {self.name} loss is adversarial: call its .d(real, fake) and .g(fake)")
        return self.fn(*args, **kwargs)


def available_losses() -> list[LossRecord]:
    """Every registered loss, by name."""
    from ..plugins import get_host

    return sorted(get_host().registry.losses.values(), key=lambda r: r.name)


def describe_losses(records: list[LossRecord]) -> str:
    """``name (plugin P; also a, b)``, one per loss, for error messages and listings."""
    parts = []
    for r in records:
        also = f"; also {', '.join(r.aliases)}" if r.aliases else ""
        kind = "" if r.kind == "adversarial" else f", {r.kind}"
        parts.append(f"{r.name} (plugin {r.plugin}{kind}{also})")
    return ", ".join(parts) or "none (no loaded plugin registers a loss)"


def get_loss(name: str) -> ResolvedLoss:
    """The loss registered as ``name`` (or an alias of it), its functions imported.

    Unknown: a ConfigError listing every registered loss and the plugin that gives it. Its functions
    failing to import: the plugin's PluginError.
    """
    from ..plugins import get_host

    registry = get_host().registry
    record = registry.find_loss(name)
    if record is None:
        claimed = registry.broken_names.get(f"loss:{normalise_loss_name(name)}")
        if claimed is not None and claimed in registry.plugin_errors:
            raise PluginError(claimed, registry.plugin_errors[claimed])
        raise ConfigError(
            f"unknown loss {name!r}; choose one of {describe_losses(available_losses())}. A plugin adds a loss "
            "with a register_losses hook (docs/plugins.md); `zoo plugins` shows which plugins are loaded."
        )
    if record.kind != "adversarial":
        fn = import_loss_function(record, "fn")
        return ResolvedLoss(record.name, None, None, False, record.plugin, record, record.kind, fn)
    d = import_loss_function(record, "d")
    g = import_loss_function(record, "g")
    return ResolvedLoss(record.name, d, g, record.gradient_penalty, record.plugin, record)


def get_losses(names: Mapping[str, str], kind: str | None = None) -> dict[str, ResolvedLoss]:
    """``{role: resolved loss}`` for a recipe's ``{role: loss name}`` (e.g. AdaIN's
    ``{"content": "adain-content", "style": "adain-style"}``); with ``kind``, each must be of that kind."""
    out = {}
    for role, name in names.items():
        loss = get_loss(name)
        if kind is not None and loss.kind != kind:
            raise ConfigError(f"the {role} loss {name!r} is a {loss.kind} loss, not a {kind} one; choose one of "
                              f"{describe_losses([r for r in available_losses() if r.kind == kind])}")
        out[role] = loss
    return out


def import_loss_function(record: LossRecord, which: str) -> Callable[..., torch.Tensor]:
    """Import ``record.d``, ``record.g`` or ``record.fn``; a failure is the registering plugin's error."""
    path = getattr(record, which)
    obj, error = import_object(path)
    if error is not None:
        raise PluginError(record.plugin or "?", f"cannot import the {which} function {path!r} of loss "
                                                f"{record.name!r}: {error}")
    if not callable(obj):
        raise PluginError(record.plugin or "?", f"the {which} function {path!r} of loss {record.name!r} is a "
                                                f"{type(obj).__name__}, not a function")
    return obj
