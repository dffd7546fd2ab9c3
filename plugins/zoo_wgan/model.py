"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017) networks.

``net="dcgan"``: the DCGAN networks of zoo_dcgan (pytorch/examples layout,
32 or 64 px); ``net="mlp"``: the MLP networks of zoo_gan (eriklindernoren
layout, e.g. 28 px MNIST). The critic is the discriminator without any
sigmoid (the zoo's discriminators return raw scores anyway), shape (n,).

Critic normalisation: WGAN keeps DCGAN's batch norm (Arjovsky et al. used the
DCGAN critic). WGAN-GP's gradient penalty is per sample, so batch norm, which
mixes samples, is wrong there (Gulrajani et al. section 4): ``critic_norm``
is "none" (the default: what their gan_cifar.py DCGAN critic does) or
"layer" (their suggested drop-in: layer norm over C,H,W with per-channel
affine, nn.GroupNorm(1, C)), at the same ``main.N`` indices. The MLP critic
has no normalisation in either variant. The generators keep batch norm.
"""

from __future__ import annotations

from torch import nn

from zoo.errors import ConfigError
from zoo.generative import ImageGenerator


def _check(net: str, image_size: int) -> None:
    if net == "dcgan" and image_size not in (32, 64):
        raise ConfigError(
            f"net 'dcgan' makes 32 or 64 px images, got image_size={image_size}; "
            "use image_size 32 or 64, or net 'mlp' (any size, e.g. 28)"
        )
    if net not in ("dcgan", "mlp"):
        raise ConfigError(f"net must be 'dcgan' or 'mlp', got {net!r}")


def build(
    *,
    net: str = "dcgan",
    nz: int = 100,
    ngf: int = 64,
    ndf: int = 64,
    nc: int = 3,
    image_size: int = 64,
    bn_eps: float = 0.8,
    critic_norm: str | None = None,
) -> ImageGenerator:
    """The generator: DCGAN's (ngf) or the MLP (bn_eps)."""
    _check(net, image_size)
    if net == "dcgan":
        from zoo_dcgan.model import build as dcgan_build

        return dcgan_build(nz=nz, ngf=ngf, ndf=ndf, nc=nc, image_size=image_size)
    from zoo_gan.model import build as mlp_build

    return mlp_build(nz=nz, nc=nc, image_size=image_size, bn_eps=bn_eps)


def build_critic(
    *,
    net: str = "dcgan",
    nz: int = 100,
    ngf: int = 64,
    ndf: int = 64,
    nc: int = 3,
    image_size: int = 64,
    bn_eps: float = 0.8,
    critic_norm: str | None = None,
) -> nn.Module:
    """The critic: x -> scores (n,), no sigmoid. critic_norm None means batch norm (WGAN)."""
    _check(net, image_size)
    if net == "dcgan":
        from zoo_dcgan.model import Discriminator, dcgan_init

        d = Discriminator(ndf=ndf, nc=nc, image_size=image_size, norm=critic_norm or "batch")
        dcgan_init(d)
        return d
    from zoo_gan.model import MLPDiscriminator

    return MLPDiscriminator(nc=nc, image_size=image_size)
