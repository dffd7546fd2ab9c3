"""SN-GAN (Miyato et al. 2018): the standard CNN and the ResNet generator and
discriminator for 32x32 images, with spectral normalisation on every layer
of the discriminator (torch.nn.utils.parametrizations.spectral_norm).

Layout (module names) follows w86763777/pytorch-gan-collections
``source/models/sngan.py`` (commit f553c71b as the search tool stores it),
whose checkpoints are the best-known public PyTorch ones:

- CNN generator: ``linear`` (z -> 4x4x512), ``main`` = BN, ReLU, then three
  (ConvTranspose 4x4 s2, BN, ReLU), Conv 3x3 -> nc, tanh.
- CNN discriminator: ``main`` = seven convs (3x3 s1 / 4x4 s2 alternating,
  LeakyReLU 0.1), ``linear`` (flatten -> 1).
- ResNet generator: ``linear`` (z -> 4x4x256), ``blocks`` = 3 up-blocks
  (``residual``: BN, ReLU, up, conv3x3, BN, ReLU, conv3x3; ``shortcut``: up,
  conv1x1), ``output`` = BN, ReLU, conv3x3, tanh.
- ResNet discriminator: ``model`` = optimized block, a down block, two plain
  blocks, ReLU; global sum pooling; ``linear`` (no bias).

Paper versus code: Table 3 of the paper lists the CNN discriminator's
widths as 64, 64, 128, 128, 256, 256, 512; the authors' Chainer code
(sngan_projection) and w86763777 use 64, 128, 128, 256, 256, 512, 512. The
zoo follows the code, since its checkpoints are what users load.

Spectral-norm state-dict keys: ``<layer>.parametrizations.weight.original``,
``<layer>.parametrizations.weight.0._u`` and ``._v``, plus ``<layer>.bias``.
In eval mode the stored u, v are used without a power iteration, so outputs
are deterministic; in train mode each forward does one power iteration.

The generators end in tanh ([-1, 1]); the discriminators return raw scores
of shape (n,) for the hinge loss.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from zoo.errors import ConfigError
from zoo.generative import ImageGenerator

__all__ = ["CNNGenerator", "CNNDiscriminator", "ResNetGenerator", "ResNetDiscriminator", "build", "build_discriminator"]


def _sn(m: nn.Module) -> nn.Module:
    return spectral_norm(m)


# -- standard CNN ---------------------------------------------------------------------


class CNNGenerator(ImageGenerator):
    """z (n, nz) -> (n, nc, M, M), M = 8 * bottom (32 px: bottom 4)."""

    def __init__(self, nz: int = 128, nc: int = 3, image_size: int = 32, ch: int = 512, bn_eps: float = 1e-5, linear_bn: bool = True):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = nz, nc, image_size
        self.bottom = image_size // 8
        self.ch = ch
        self.linear = nn.Linear(nz, self.bottom * self.bottom * ch)
        c = [ch, ch // 2, ch // 4, ch // 8]
        layers: list[nn.Module] = (
            [nn.BatchNorm2d(ch, eps=bn_eps), nn.ReLU(True)] if linear_bn else [nn.Identity(), nn.Identity()]
        )
        for a, b in zip(c, c[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.BatchNorm2d(b, eps=bn_eps), nn.ReLU(True)]
        layers += [nn.Conv2d(c[-1], nc, 3, 1, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        for m in self.modules():  # w86763777 / DCGAN-style init
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.linear(z.flatten(1)).view(z.shape[0], self.ch, self.bottom, self.bottom)
        return self.main(x)


class CNNDiscriminator(nn.Module):
    """(n, nc, M, M) -> scores (n,); every layer spectrally normalised."""

    def __init__(self, nc: int = 3, image_size: int = 32, ch: int = 512):
        super().__init__()
        self.channels, self.image_size = nc, image_size
        c = [ch // 8, ch // 4, ch // 4, ch // 2, ch // 2, ch, ch]
        specs = [(nc, c[0], 3, 1, 1)]
        for i in range(1, 7):
            k, s, p = (4, 2, 1) if i % 2 == 1 else (3, 1, 1)
            specs.append((c[i - 1], c[i], k, s, p))
        layers: list[nn.Module] = []
        for cin, cout, k, s, p in specs:
            conv = nn.Conv2d(cin, cout, k, s, p)
            nn.init.normal_(conv.weight, std=0.02)
            nn.init.zeros_(conv.bias)
            layers += [_sn(conv), nn.LeakyReLU(0.1, inplace=True)]
        self.main = nn.Sequential(*layers)
        side = image_size // 8
        lin = nn.Linear(side * side * ch, 1)
        nn.init.normal_(lin.weight, std=0.02)
        nn.init.zeros_(lin.bias)
        self.linear = _sn(lin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(torch.flatten(self.main(x), 1)).view(-1)


# -- ResNet ---------------------------------------------------------------------------


class ResGenBlock(nn.Module):
    def __init__(self, cin: int, cout: int, bn_eps: float = 1e-5):
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(cin, eps=bn_eps),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(cin, cout, 3, 1, 1),
            nn.BatchNorm2d(cout, eps=bn_eps),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1),
        )
        self.shortcut = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 1, 1, 0))
        for m in self.residual.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight, math.sqrt(2))
                nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.shortcut[1].weight)
        nn.init.zeros_(self.shortcut[1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ResNetGenerator(ImageGenerator):
    """z (n, nz) -> (n, nc, 32, 32): 4x4 -> three up-blocks -> 32x32."""

    def __init__(self, nz: int = 128, nc: int = 3, image_size: int = 32, ch: int = 256, bn_eps: float = 1e-5):
        super().__init__()
        if image_size != 32:
            raise ConfigError(f"the SN-GAN ResNet is the 32 px network; got image_size={image_size}")
        self.latent_dim, self.channels, self.image_size, self.ch = nz, nc, image_size, ch
        self.linear = nn.Linear(nz, 4 * 4 * ch)
        self.blocks = nn.Sequential(*(ResGenBlock(ch, ch, bn_eps) for _ in range(3)))
        self.output = nn.Sequential(nn.BatchNorm2d(ch, eps=bn_eps), nn.ReLU(True), nn.Conv2d(ch, nc, 3, 1, 1), nn.Tanh())
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        nn.init.xavier_uniform_(self.output[2].weight)
        nn.init.zeros_(self.output[2].bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.linear(z.flatten(1)).view(z.shape[0], self.ch, 4, 4)
        return self.output(self.blocks(x))


def _sn_conv(cin: int, cout: int, k: int, p: int, gain: float) -> nn.Module:
    conv = nn.Conv2d(cin, cout, k, 1, p)
    nn.init.xavier_uniform_(conv.weight, gain)
    nn.init.zeros_(conv.bias)
    return _sn(conv)


class OptimizedDisBlock(nn.Module):
    """The first discriminator block: conv, ReLU, conv, pool + pool, 1x1 conv."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), _sn_conv(cin, cout, 1, 0, 1.0))
        self.residual = nn.Sequential(
            _sn_conv(cin, cout, 3, 1, math.sqrt(2)),
            nn.ReLU(),
            _sn_conv(cout, cout, 3, 1, math.sqrt(2)),
            nn.AvgPool2d(2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ResDisBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool = False):
        super().__init__()
        shortcut: list[nn.Module] = []
        if cin != cout or down:
            shortcut.append(_sn_conv(cin, cout, 1, 0, 1.0))
        if down:
            shortcut.append(nn.AvgPool2d(2))
        self.shortcut = nn.Sequential(*shortcut)
        residual: list[nn.Module] = [
            nn.ReLU(),
            _sn_conv(cin, cout, 3, 1, math.sqrt(2)),
            nn.ReLU(),
            _sn_conv(cout, cout, 3, 1, math.sqrt(2)),
        ]
        if down:
            residual.append(nn.AvgPool2d(2))
        self.residual = nn.Sequential(*residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class ResNetDiscriminator(nn.Module):
    """(n, nc, 32, 32) -> scores (n,)."""

    def __init__(self, nc: int = 3, image_size: int = 32, ch: int = 128):
        super().__init__()
        if image_size != 32:
            raise ConfigError(f"the SN-GAN ResNet is the 32 px network; got image_size={image_size}")
        self.channels, self.image_size = nc, image_size
        self.model = nn.Sequential(
            OptimizedDisBlock(nc, ch),
            ResDisBlock(ch, ch, down=True),
            ResDisBlock(ch, ch),
            ResDisBlock(ch, ch),
            nn.ReLU(),
        )
        lin = nn.Linear(ch, 1, bias=False)
        nn.init.xavier_uniform_(lin.weight)
        self.linear = _sn(lin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.model(x).sum(dim=(2, 3))).view(-1)


# -- builders -------------------------------------------------------------------------

DEFAULT_G_CH = {"cnn": 512, "resnet": 256}
DEFAULT_D_CH = {"cnn": 512, "resnet": 128}


def _check(net: str, image_size: int) -> None:
    if net == "resnet" and image_size != 32:
        raise ConfigError(f"net 'resnet' is the 32 px network, got image_size={image_size}; use 32, or net 'cnn'")


def build(
    *,
    net: str = "cnn",
    nz: int = 128,
    nc: int = 3,
    image_size: int = 32,
    g_ch: int | None = None,
    d_ch: int | None = None,
    bn_eps: float = 1e-5,
    g_linear_bn: bool = True,
) -> ImageGenerator:
    """The generator (no spectral norm: the paper normalises only the discriminator)."""
    _check(net, image_size)
    ch = g_ch or DEFAULT_G_CH[net]
    if net == "cnn":
        return CNNGenerator(nz=nz, nc=nc, image_size=image_size, ch=ch, bn_eps=bn_eps, linear_bn=g_linear_bn)
    if not g_linear_bn:
        raise ConfigError("g_linear_bn=False applies to net 'cnn' only")
    return ResNetGenerator(nz=nz, nc=nc, image_size=image_size, ch=ch, bn_eps=bn_eps)


def build_discriminator(
    *,
    net: str = "cnn",
    nz: int = 128,
    nc: int = 3,
    image_size: int = 32,
    g_ch: int | None = None,
    d_ch: int | None = None,
    bn_eps: float = 1e-5,
    g_linear_bn: bool = True,
) -> nn.Module:
    """The spectrally normalised discriminator: x -> scores (n,)."""
    _check(net, image_size)
    ch = d_ch or DEFAULT_D_CH[net]
    if net == "cnn":
        return CNNDiscriminator(nc=nc, image_size=image_size, ch=ch)
    return ResNetDiscriminator(nc=nc, image_size=image_size, ch=ch)
