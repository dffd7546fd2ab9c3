"""A tiny generator/discriminator pair for fast training tests (not a test module)."""

from __future__ import annotations

import torch
from torch import nn


class TinyG(nn.Module):
    def __init__(self, latent_dim: int = 8, size: int = 8, channels: int = 1, bn: bool = True):
        super().__init__()
        self.latent_dim, self.image_size, self.channels = latent_dim, size, channels
        layers: list[nn.Module] = [nn.Linear(latent_dim, 32)]
        if bn:
            layers.append(nn.BatchNorm1d(32))
        layers += [nn.ReLU(), nn.Linear(32, channels * size * size), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, self.channels, self.image_size, self.image_size)

    def sample(self, n: int, *, seed: int | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed or 0)
        was = self.training
        self.eval()
        with torch.no_grad():
            x = self(self.latent(n, g)).add(1).mul(0.5).clamp(0, 1)
        self.train(was)
        return x


class TinyD(nn.Module):
    def __init__(self, size: int = 8, channels: int = 1):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def tiny_images(n: int = 256, size: int = 8, seed: int = 0) -> torch.Tensor:
    """uint8 images (n, 1, size, size): bright squares at random places on black."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, size, size, dtype=torch.uint8)
    pos = torch.randint(0, size - 3, (n, 2), generator=g)
    for i, (r, c) in enumerate(pos.tolist()):
        x[i, 0, r : r + 3, c : c + 3] = 255
    return x
