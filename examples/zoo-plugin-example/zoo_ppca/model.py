"""Probabilistic PCA as an image generator (Tipping & Bishop 1999). Only this module imports torch.

The model: x = W z + mean + e, z ~ N(0, I_k), e ~ N(0, noise_var I_D), over
images flattened to D = channels * image_size**2 values in [0, 1].
``forward(z)`` returns the noise-free mean ``W z + mean`` mapped to [-1, 1] (the
zoo's generator convention), so ``sample()`` gives it in [0, 1], clamped.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo.generative import ImageGenerator


class PPCA(ImageGenerator):
    def __init__(self, latent_dim: int = 32, channels: int = 1, image_size: int = 28):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        d = channels * image_size * image_size
        self.weight = nn.Parameter(torch.zeros(d, latent_dim))  # W: (D, k)
        self.mean = nn.Parameter(torch.zeros(d))
        self.register_buffer("noise_var", torch.ones(()))  # sigma^2, the mean discarded eigenvalue

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.addmm(self.mean, z.flatten(1), self.weight.t())
        return (2.0 * x - 1.0).view(-1, self.channels, self.image_size, self.image_size)

    def log_likelihood(self, images: torch.Tensor) -> torch.Tensor:
        """log p(x) per image in nats, x = images in [0, 1] of shape (n, C, H, W) (a density on R^D)."""
        x = images.flatten(1).to(self.weight.dtype) - self.mean
        w, s2 = self.weight, self.noise_var
        d, k = w.shape
        m = w.t() @ w + s2 * torch.eye(k, dtype=w.dtype, device=w.device)  # (k, k)
        chol = torch.linalg.cholesky(m)
        # C = W W^T + s2 I;  C^-1 = (I - W M^-1 W^T) / s2;  log|C| = (d - k) log s2 + log|M|
        proj = torch.cholesky_solve((x @ w).t(), chol).t()  # M^-1 W^T x
        quad = ((x * x).sum(1) - ((x @ w) * proj).sum(1)) / s2
        logdet = (d - k) * torch.log(s2) + 2.0 * torch.log(torch.diagonal(chol)).sum()
        return -0.5 * (quad + logdet + d * math.log(2 * math.pi))


def build(latent_dim: int = 32, channels: int = 1, image_size: int = 28) -> PPCA:
    """The architecture's builder: its arguments are the config keys."""
    return PPCA(latent_dim, channels, image_size)
