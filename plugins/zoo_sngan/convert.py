"""Converters into the zoo's SN-GAN generators.

- "w86763777": pytorch-gan-collections ``source/models/sngan.py`` generators
  (``Generator32`` -> net cnn, ``ResGenerator32`` -> net resnet). The zoo
  keeps that layout; the generators have no spectral norm, so keys pass
  unchanged. Its training script saves ``{"net_G": ..., "net_D": ...}``;
  the ``net_G`` entry is picked.
- "studiogan-resnet": PyTorch-StudioGAN ``src/models/resnet.py`` 32 px
  generator (its CIFAR-10 SNGAN), keys ``linear0``, ``blocks.i.0.{bn1,
  conv2d1, bn2, conv2d2, conv2d0}``, ``bn4``, ``conv2d5``; batch norm eps
  1e-4 (StudioGAN's batchnorm_2d).
- "studiogan-deep-conv": StudioGAN ``src/models/deep_conv.py`` 32 px
  generator (its CIFAR-10 "DCGAN", which is the SN-GAN paper's standard CNN
  generator without batch norm after the dense layer: g_linear_bn=False).

A generator saved with the old ``torch.nn.utils.spectral_norm`` (StudioGAN's
g_spectral_norm) has its normalisation folded into plain weights, exactly as
it computes them in eval mode (along dim 1 for the deconv layers, which are
ConvTranspose2d).

Which StudioGAN configs convert: those whose generator is unconditional,
``MODEL.g_cond_mtd: "W/O"`` (StudioGAN's default, src/config.py), at 32 px:
``backbone: "deep_conv"`` (its CIFAR-10 DCGAN.yaml, LSGAN.yaml, GGAN.yaml) with
studiogan-deep-conv, ``backbone: "resnet"`` with studiogan-resnet. Its CIFAR-10
SNGAN.yaml and every SNGAN-*.yaml set ``g_cond_mtd: "cBN"``: class-conditional
batch norm (``bnX.bn`` without affine, plus ``bnX.embed0``/``embed1`` class
embeddings, src/utils/ops.py ConditionalBatchNorm2d); the zoo's generators are
unconditional, so those are refused with an error that says so.
"""

from __future__ import annotations

import re
from typing import Any

from zoo.convert import StateDict, fold_spectral_norm, merge_config, rename, require_keys, single
from zoo.errors import ConversionError


def _is_discriminator(state: StateDict) -> bool:
    return any(k.endswith(("weight_orig", "parametrizations.weight.original")) for k in state) and not any(
        k.endswith("running_mean") for k in state
    )


def _reject_discriminator(state: StateDict, layout: str) -> None:
    if _is_discriminator(state):
        raise ConversionError(
            f"{layout}: this looks like a discriminator (spectral norm, no batch norm); convert the "
            "generator: zoo.load returns generators"
        )


_CBN = re.compile(r"(.*\.bn\d*)\.(embed[01]\.weight|bn\.running_mean)$")


def _reject_conditional(state: StateDict, layout: str) -> None:
    """A StudioGAN generator trained with MODEL.g_cond_mtd "cBN" (class-conditional batch norm) is refused."""
    hits = sorted(k for k in state if _CBN.match(k))
    if not hits:
        return
    embed = next((state[k] for k in hits if k.endswith("embed0.weight")), None)
    classes = f"{int(embed.shape[0])} classes, " if embed is not None and embed.dim() == 2 else ""
    raise ConversionError(
        f"{layout}: this generator is class-conditional ({classes}conditional batch norm: keys such as "
        f"{hits[0]!r}). StudioGAN builds it when the config sets MODEL.g_cond_mtd: \"cBN\", as its CIFAR-10 "
        "SNGAN.yaml and SNGAN-*.yaml do. The zoo's SN-GAN generators are unconditional (sample(n) takes no "
        "labels), so it cannot be converted. What converts: a 32 px StudioGAN generator trained with "
        "MODEL.g_cond_mtd: \"W/O\" (StudioGAN's default): backbone \"deep_conv\" (CIFAR-10 DCGAN.yaml, "
        "LSGAN.yaml, GGAN.yaml) with --layout studiogan-deep-conv, backbone \"resnet\" with --layout "
        "studiogan-resnet (docs/convert.md)."
    )


def from_w86763777(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    layout = "w86763777"
    state = single(states, layout=layout)
    _reject_discriminator(state, layout)
    require_keys(state, ["linear.weight"], layout=layout)
    lin = state["linear.weight"]
    nz = int(lin.shape[1])
    if "blocks.0.residual.0.weight" in state:
        ch = int(state["blocks.0.residual.3.weight"].shape[0])
        nc = int(state["output.2.weight"].shape[0])
        inferred = {"net": "resnet", "nz": nz, "nc": nc, "image_size": 32, "g_ch": ch}
        if lin.shape[0] != 16 * ch:
            raise ConversionError(f"{layout}: linear.weight {tuple(lin.shape)} does not fit a 4x4x{ch} start")
    else:
        require_keys(state, ["main.0.running_mean", "main.11.weight"], layout=layout)
        ch = int(state["main.0.running_mean"].shape[0])
        cells = lin.shape[0] // ch
        bottom = int(round(cells**0.5))
        if bottom * bottom * ch != lin.shape[0]:
            raise ConversionError(f"{layout}: linear.weight {tuple(lin.shape)} is not bottom^2 x {ch}")
        nc = int(state["main.11.weight"].shape[0])
        inferred = {"net": "cnn", "nz": nz, "nc": nc, "image_size": bottom * 8, "g_ch": ch}
    return fold_spectral_norm(state), merge_config(inferred, config, layout=layout)


_RES_BLOCK = {"bn1": "residual.0", "conv2d1": "residual.3", "bn2": "residual.4", "conv2d2": "residual.6", "conv2d0": "shortcut.1"}


def _studiogan_resnet_key(k: str) -> str | None:
    m = re.fullmatch(r"blocks\.(\d+)\.0\.(\w+)\.(\w+)", k)
    if m:
        part = _RES_BLOCK.get(m.group(2))
        if part is None:
            raise ConversionError(f"studiogan-resnet: unexpected block key {k!r} (attention or conditional BN?)")
        return f"blocks.{m.group(1)}.{part}.{m.group(3)}"
    for old, new in (("linear0.", "linear."), ("bn4.", "output.0."), ("conv2d5.", "output.2.")):
        if k.startswith(old):
            return new + k[len(old) :]
    raise ConversionError(f"studiogan-resnet: unexpected key {k!r}; is this a 32 px unconditional generator?")


def from_studiogan_resnet(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    layout = "studiogan-resnet"
    raw = single(states, layout=layout)
    _reject_conditional(raw, layout)
    state = fold_spectral_norm(raw)
    _reject_discriminator(state, layout)
    require_keys(state, ["linear0.weight", "bn4.running_mean", "conv2d5.weight"], layout=layout)
    if "blocks.3.0.bn1.weight" in state:
        raise ConversionError(f"{layout}: four or more blocks: a 64 px or larger generator; the zoo's SN-GAN ResNet is 32 px")
    out = rename(state, _studiogan_resnet_key)
    ch = int(state["bn4.running_mean"].shape[0])
    inferred = {
        "net": "resnet",
        "nz": int(state["linear0.weight"].shape[1]),
        "nc": int(state["conv2d5.weight"].shape[0]),
        "image_size": 32,
        "g_ch": ch,
    }
    cfg = merge_config(inferred, config, layout=layout)
    cfg.setdefault("bn_eps", 1e-4)
    return out, cfg


def _studiogan_deep_conv_key(k: str) -> str | None:
    m = re.fullmatch(r"blocks\.(\d+)\.0\.(deconv0|bn0)\.(\w+)", k)
    if m:
        i = int(m.group(1))
        return f"main.{2 + 3 * i + (0 if m.group(2) == 'deconv0' else 1)}.{m.group(3)}"
    for old, new in (("linear0.", "linear."), ("conv4.", "main.11.")):
        if k.startswith(old):
            return new + k[len(old) :]
    raise ConversionError(f"studiogan-deep-conv: unexpected key {k!r}; is this an unconditional generator?")


def from_studiogan_deep_conv(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    layout = "studiogan-deep-conv"
    raw = single(states, layout=layout)
    _reject_conditional(raw, layout)
    # its deconv layers are ConvTranspose2d, which torch's spectral_norm normalises along dim 1
    deconvs = {k[: -len(".weight_orig")]: 1 for k in raw if re.fullmatch(r"blocks\.\d+\.0\.deconv0\.weight_orig", k)}
    state = fold_spectral_norm(raw, dims=deconvs)
    _reject_discriminator(state, layout)
    require_keys(state, ["linear0.weight", "blocks.2.0.deconv0.weight", "conv4.weight"], layout=layout)
    out = rename(state, _studiogan_deep_conv_key)
    ch = int(state["blocks.0.0.deconv0.weight"].shape[0])
    if state["linear0.weight"].shape[0] != 16 * ch:
        raise ConversionError(f"{layout}: linear0 does not fit a 4x4x{ch} start (32 px)")
    inferred = {
        "net": "cnn",
        "nz": int(state["linear0.weight"].shape[1]),
        "nc": int(state["conv4.weight"].shape[0]),
        "image_size": 32,
        "g_ch": ch,
        "g_linear_bn": False,
    }
    cfg = merge_config(inferred, config, layout=layout)
    cfg.setdefault("bn_eps", 1e-4)
    return out, cfg
