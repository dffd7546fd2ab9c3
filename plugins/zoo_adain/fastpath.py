"""How AdaIN's VGG-style encoders and decoders run without autograd: zoo.fastconv's kernels, in row bands
where that pays.

A chain of layers (the encoder's ``preprocess`` and stages, or the decoder's stages, flattened) is cut into
groups, one per resolution: a group ends at a pooling and starts at an upsampling, so that a band's halo
stays a few rows. With autograd on, every module runs its own forward (training's graph). Without it, each
group runs as zoo.fastconv kernels, on the whole image or, on a CPU for an image at least
:data:`BAND_MIN_SIDE` high and wide, in bands (``run_banded``) when the group is one that banding speeds up
(:func:`bands_pay`; ``bench/bench_fastconv.py`` measures each group both ways). The numbers are the plain
layers' up to float rounding (tests/test_fastconv.py, tests/test_adain_fastpath.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from zoo.fastconv import BandOp, conv_reflect, hooked, max_pool_2x2, run_banded, upsample_conv

#: images at least this high and wide may run in bands on a CPU
BAND_MIN_SIDE = 96
#: a group runs in bands when its largest activation has at least this many pixels (between the 256 x 256
#: where banding did not pay and the 512 x 512 where it did)
BAND_MIN_PIXELS = 384 * 384


def conv_relu_parts(m: nn.Module) -> tuple[nn.Conv2d, bool] | None:
    """``(conv, relu)`` of a "reflection pad 1, 3x3 conv, optional ReLU" block (zoo_adain.model.ConvReLU)."""
    pad, conv = getattr(m, "pad", None), getattr(m, "conv", None)
    if isinstance(pad, nn.ReflectionPad2d) and tuple(pad.padding) == (1, 1, 1, 1) and isinstance(conv, nn.Conv2d) \
            and conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (0, 0):
        return conv, hasattr(m, "relu")
    return None


def _is_2x2_ceil(m: nn.Module) -> bool:
    return isinstance(m, nn.MaxPool2d) and m.kernel_size in (2, (2, 2)) and m.stride in (2, (2, 2)) \
        and m.padding in (0, (0, 0)) and m.dilation in (1, (1, 1)) and bool(m.ceil_mode)


def _is_up2(m: nn.Module) -> bool:
    return isinstance(m, nn.Upsample) and m.scale_factor in (2, 2.0) and m.mode == "nearest"


def band_groups(mods: Sequence[nn.Module]) -> list[tuple[list[nn.Module], list[BandOp]]] | None:
    """``mods`` cut into one group per resolution, each with its band ops; None if a module is not one the
    band ops cover (a 1x1 conv, a ConvReLU, a 2x2 ceil-mode pooling, a nearest x2 upsampling before a ConvReLU)."""
    groups: list[tuple[list[nn.Module], list[BandOp]]] = [([], [])]
    i = 0
    while i < len(mods):
        m = mods[i]
        parts = conv_relu_parts(m)
        nxt = conv_relu_parts(mods[i + 1]) if i + 1 < len(mods) and _is_up2(m) else None
        if nxt is not None:
            if groups[-1][1]:
                groups.append(([], []))
            groups[-1][0].extend([m, mods[i + 1]])
            groups[-1][1].append(BandOp("up_conv", *nxt))
            i += 2
            continue
        if parts is not None:
            op = BandOp("conv", *parts)
        elif _is_2x2_ceil(m):
            op = BandOp("pool")
        elif isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.stride == (1, 1) and m.padding == (0, 0):
            op = BandOp("pointwise", m)
        else:
            return None
        groups[-1][0].append(m)
        groups[-1][1].append(op)
        if op.kind == "pool":
            groups.append(([], []))
        i += 1
    return [g for g in groups if g[1]]


def bands_pay(ops: Sequence[BandOp], x: torch.Tensor) -> bool:
    """Whether to run this group in bands: on a CPU, when its largest activation (its input, or its output
    after an upsampling) has at least :data:`BAND_MIN_PIXELS` pixels. bench/bench_fastconv.py measured
    banding 1.4 to 2.6 times faster than the whole-image kernels at groups of 512 x 512 pixels and more, and
    as fast or slower (up to 2.2 times slower) at 256 x 256 and less (bf16, one thread)."""
    if x.device.type != "cpu" or min(x.shape[-2:]) < BAND_MIN_SIDE:
        return False
    pixels = x.shape[-2] * x.shape[-1] * (4 if any(op.kind == "up_conv" for op in ops) else 1)
    return pixels >= BAND_MIN_PIXELS


def run_stage_fast(mods: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    """``mods`` on the whole image with zoo.fastconv's kernels (inference)."""
    i = 0
    while i < len(mods):
        m = mods[i]
        nxt = conv_relu_parts(mods[i + 1]) if i + 1 < len(mods) and _is_up2(m) else None
        if nxt is not None:
            x = upsample_conv(x, *nxt)
            i += 2
            continue
        parts = conv_relu_parts(m)
        if parts is not None:
            x = conv_reflect(x, *parts)
        elif _is_2x2_ceil(m):
            x = max_pool_2x2(x)
        else:
            x = m(x)
        i += 1
    return x


def forward_chain(mods: Sequence[nn.Module], x: torch.Tensor, banded: bool = True) -> torch.Tensor:
    """The chain ``mods`` on ``x``: the modules' own forwards with autograd on (or a forward hook set on one
    of them), else the fast kernels per group, in bands where :func:`bands_pay` (unless ``banded`` is False)."""
    if torch.is_grad_enabled() or hooked(mods):
        for m in mods:
            x = m(x)
        return x
    groups = band_groups(mods) if banded else None
    if groups is None:
        return run_stage_fast(mods, x)
    for group, ops in groups:
        x = run_banded(ops, x) if bands_pay(ops, x) else run_stage_fast(group, x)
    return x
