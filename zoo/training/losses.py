"""Adversarial losses as small named pieces.

Every discriminator (critic) here returns raw scores: logits for the BCE
losses, unbounded critic values for the Wasserstein and hinge losses. Each
loss is a pair: ``d(real_scores, fake_scores)`` for the discriminator and
``g(fake_scores)`` for the generator, both returning a scalar to minimise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError


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
    """The hinge discriminator loss of SN-GAN: E[relu(1 - f(x))] + E[relu(1 + f(G(z)))]."""
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
class Loss:
    """A named pair of discriminator and generator losses."""

    name: str
    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    gradient_penalty: bool = False


LOSSES: dict[str, Loss] = {
    "bce-nonsaturating": Loss("bce-nonsaturating", bce_d, bce_g_nonsaturating),
    "bce-minimax": Loss("bce-minimax", bce_d, bce_g_minimax),
    "wasserstein": Loss("wasserstein", wasserstein_d, wasserstein_g),
    "wasserstein-gp": Loss("wasserstein-gp", wasserstein_d, wasserstein_g, gradient_penalty=True),
    "hinge": Loss("hinge", hinge_d, wasserstein_g),
}

_ALIASES = {
    "nonsaturating": "bce-nonsaturating",
    "non-saturating": "bce-nonsaturating",
    "bce": "bce-nonsaturating",
    "ns": "bce-nonsaturating",
    "minimax": "bce-minimax",
    "bce-minmax": "bce-minimax",
    "wgan": "wasserstein",
    "wasserstein-clip": "wasserstein",
    "wgan-gp": "wasserstein-gp",
    "wasserstein_gp": "wasserstein-gp",
    "wgan_gp": "wasserstein-gp",
}


def get_loss(name: str) -> Loss:
    key = str(name).strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[key]
