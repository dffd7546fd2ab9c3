"""The lsgan networks: a 32 px transposed-convolution generator and a convolutional discriminator."""

from __future__ import annotations

import torch
from torch import nn

from zoo.generative import ImageGenerator


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Generator(ImageGenerator):
    """z (n, nz) -> images (n, nc, 32, 32) in [-1, 1]; ImageGenerator gives it sample(n, seed=...)."""

    def __init__(self, nz: int = 64, ngf: int = 32, nc: int = 1, image_size: int = 32):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = nz, nc, image_size
        self.ngf = ngf
        self.project = nn.Sequential(nn.Linear(nz, 4 * ngf * 4 * 4, bias=False), nn.BatchNorm1d(4 * ngf * 4 * 4),
                                     nn.ReLU(True))
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(2 * ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False),  # 16x16
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1),  # 32x32
            nn.Tanh(),
        )
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z.flatten(1)).view(z.shape[0], 4 * self.ngf, 4, 4)
        return self.net(x)


class Discriminator(nn.Module):
    """images (n, nc, 32, 32) in [-1, 1] -> raw scores (n,): no sigmoid, the loss is least squares."""

    def __init__(self, ndf: int = 32, nc: int = 1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1),  # 16x16
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(2 * ndf),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1, bias=False),  # 4x4
            nn.BatchNorm2d(4 * ndf),
            nn.LeakyReLU(0.2, True),
        )
        self.head = nn.Linear(4 * ndf * 4 * 4, 1)
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net(x).flatten(1)).view(-1)


def build(nz: int = 64, ngf: int = 32, ndf: int = 32, nc: int = 1, image_size: int = 32) -> Generator:
    """The architecture's builder: its arguments are the config keys of the schema."""
    return Generator(nz, ngf, nc, image_size)


def build_discriminator(nz: int = 64, ngf: int = 32, ndf: int = 32, nc: int = 1, image_size: int = 32) -> Discriminator:
    """The 'discriminator' component: called with the same config as build()."""
    return Discriminator(ndf, nc)
