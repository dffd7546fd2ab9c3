"""Vanilla GAN (Goodfellow et al. 2014): MLP generator and discriminator for
flattened 28x28 images, laid out as eriklindernoren/PyTorch-GAN
``implementations/gan/gan.py`` (commit 022e6aa2 as the search tool stores it):
``nn.Sequential`` named ``model``, keys ``model.0.weight`` ... ``model.11.bias``
(generator) and ``model.0`` / ``model.2`` / ``model.4`` (discriminator).

Batch norm eps: the reference writes ``nn.BatchNorm1d(n, 0.8)``. The second
positional argument of BatchNorm1d is ``eps``, not ``momentum``, so the
reference trains with eps=0.8 and momentum 0.1. The zoo's default is the
textbook ``bn_eps=1e-5``: trained here with eps=0.8 the generator partly
collapsed (after 20,000 steps no 0 and no 6 among 10,000 samples), with 1e-5 it drew all ten by
8,000 steps (same recipe and seed; see cards/zoo/gan-mnist). The reference's
checkpoints need eps=0.8 to give the same outputs: ``zoo convert gan`` sets
it, and ``zoo.build("gan", bn_eps=0.8)`` builds that variant.

The generator ends in tanh ([-1, 1]) and reshapes to (n, nc, H, W). The
discriminator returns logits of shape (n,): the reference's parameter-free
final ``nn.Sigmoid`` is left to the loss (BCEWithLogits) or ``probability``.
"""

from __future__ import annotations

import torch
from torch import nn

from zoo.generative import ImageGenerator

__all__ = ["MLPGenerator", "MLPDiscriminator", "build", "build_discriminator"]

G_WIDTHS = (128, 256, 512, 1024)
D_WIDTHS = (512, 256)


class MLPGenerator(ImageGenerator):
    """z (n, nz) -> image (n, nc, image_size, image_size) in [-1, 1]."""

    def __init__(self, nz: int = 100, nc: int = 1, image_size: int = 28, bn_eps: float = 1e-5):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = nz, nc, image_size
        layers: list[nn.Module] = [nn.Linear(nz, G_WIDTHS[0]), nn.LeakyReLU(0.2, inplace=True)]
        for a, b in zip(G_WIDTHS, G_WIDTHS[1:]):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b, eps=bn_eps), nn.LeakyReLU(0.2, inplace=True)]
        layers += [nn.Linear(G_WIDTHS[-1], nc * image_size * image_size), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z.flatten(1)).view(z.shape[0], self.channels, self.image_size, self.image_size)


class MLPDiscriminator(nn.Module):
    """image (n, nc, image_size, image_size) -> logits (n,)."""

    def __init__(self, nc: int = 1, image_size: int = 28):
        super().__init__()
        self.channels, self.image_size = nc, image_size
        self.model = nn.Sequential(
            nn.Linear(nc * image_size * image_size, D_WIDTHS[0]),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(D_WIDTHS[0], D_WIDTHS[1]),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(D_WIDTHS[1], 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1)).view(-1)

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        """The reference's output: ``sigmoid(logits)``, shape (n,)."""
        return torch.sigmoid(self(x))


def build(*, nz: int = 100, nc: int = 1, image_size: int = 28, bn_eps: float = 1e-5) -> MLPGenerator:
    """The generator; PyTorch's default initialisation, as the reference uses."""
    return MLPGenerator(nz=nz, nc=nc, image_size=image_size, bn_eps=bn_eps)


def build_discriminator(*, nz: int = 100, nc: int = 1, image_size: int = 28, bn_eps: float = 1e-5) -> MLPDiscriminator:
    """The discriminator (nz and bn_eps are unused)."""
    return MLPDiscriminator(nc=nc, image_size=image_size)
