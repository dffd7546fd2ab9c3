"""DCGAN generator and discriminator (Radford et al. 2016), in the layout of
pytorch/examples ``dcgan/main.py`` (commit 00b1e34c as stored by the search
tool): one ``nn.Sequential`` named ``main`` with the same layer order, so its
state dicts (``main.0.weight``, ``main.1.running_mean``, ...) load unchanged.

64 px is the reference network. 32 px drops the first (ngf*8 / ndf*8) stage:
the generator starts at ngf*4 channels at 4x4, the discriminator stops at
ndf*4; keys then follow the same pattern with fewer layers.

The generator ends in tanh, output in [-1, 1]; ``sample`` maps to [0, 1].
The discriminator returns **logits** of shape (N,): the reference's final
``nn.Sigmoid`` (no parameters, so no state-dict key) is left out so that the
trainer can use ``BCEWithLogitsLoss``; ``probability(x)`` gives the
reference's output, ``sigmoid(logits)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo.generative import ImageGenerator

__all__ = ["Generator", "Discriminator", "build", "build_discriminator", "dcgan_init"]


def _stages(image_size: int) -> int:
    """Number of stride-2 stages between 4x4 and ``image_size`` (3 at 32 px, 4 at 64 px)."""
    if image_size not in (32, 64):
        raise ValueError(f"DCGAN image_size must be 32 or 64, got {image_size}")
    return int(math.log2(image_size)) - 2


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation, as pytorch/examples' ``weights_init``:
    conv weights N(0, 0.02); batch-norm (and layer-norm) weight N(1, 0.02), bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(ImageGenerator):
    """z (n, nz, 1, 1) or (n, nz) -> image (n, nc, image_size, image_size) in [-1, 1]."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, image_size: int = 64):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = nz, nc, image_size
        k = _stages(image_size)
        mult = 2 ** (k - 1)  # 8 at 64 px, 4 at 32 px
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, ngf * mult, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * mult),
            nn.ReLU(True),
        ]
        while mult > 1:
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * mult // 2),
                nn.ReLU(True),
            ]
            mult //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, 1, 1, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # layer norm over (C, H, W) with a per-channel affine, as in WGAN-GP
        return nn.GroupNorm(1, channels)
    if kind == "none":  # keeps the layer indices (main.N) of the batch-norm layout
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {kind!r}")


class Discriminator(nn.Module):
    """image (n, nc, image_size, image_size) in [-1, 1] -> logits (n,).

    ``norm`` replaces the batch norms ("batch", the reference) by layer norm
    ("layer") or nothing ("none") at the same indices, for WGAN-GP critics.
    """

    def __init__(self, ndf: int = 64, nc: int = 3, image_size: int = 64, norm: str = "batch"):
        super().__init__()
        self.channels, self.image_size = nc, image_size
        k = _stages(image_size)
        layers: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        mult = 1
        for _ in range(k - 1):
            layers += [
                nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 1, bias=False),
                _norm(norm, ndf * mult * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            mult *= 2
        layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)

    def probability(self, x: torch.Tensor) -> torch.Tensor:
        """The reference's output: ``sigmoid(logits)``, shape (n,)."""
        return torch.sigmoid(self(x))


def build(*, nz: int = 100, ngf: int = 64, ndf: int = 64, nc: int = 3, image_size: int = 64) -> Generator:
    """The DCGAN generator, initialised as in the paper (ndf is accepted and unused)."""
    g = Generator(nz=nz, ngf=ngf, nc=nc, image_size=image_size)
    dcgan_init(g)
    return g


def build_discriminator(
    *, nz: int = 100, ngf: int = 64, ndf: int = 64, nc: int = 3, image_size: int = 64
) -> Discriminator:
    """The DCGAN discriminator, initialised as in the paper (nz and ngf are unused)."""
    d = Discriminator(ndf=ndf, nc=nc, image_size=image_size)
    dcgan_init(d)
    return d
