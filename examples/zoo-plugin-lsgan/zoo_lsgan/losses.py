"""The least-squares GAN loss (Mao et al. 2017) with the 0-1 coding a=0, b=1, c=1.

The discriminator's raw scores are regressed onto b=1 for real images and a=0 for
generated ones; the generator pushes the scores of its images towards c=1.
"""

from __future__ import annotations

import torch


def d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * (real - 1.0).pow(2).mean() + 0.5 * fake.pow(2).mean()


def g_loss(fake: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * (fake - 1.0).pow(2).mean()
