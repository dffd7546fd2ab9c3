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

import copy
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
    mods = fold_pointwise(mods)
    groups = band_groups(mods) if banded else None
    if groups is None:
        return run_stage_fast(mods, x)
    for group, ops in groups:
        x = run_banded(ops, x) if bands_pay(ops, x) else run_stage_fast(group, x)
    return x


def forward_affine_chain(mods: Sequence[nn.Module], x: torch.Tensor, scale: torch.Tensor,
                         shift: torch.Tensor) -> torch.Tensor:
    """The chain ``mods`` on ``x * scale + shift`` (``scale``, ``shift``: (N or 1, C, 1, 1), per sample and
    channel; AdaIN with its alpha blend, :func:`zoo_adain.ops.adain_affine`), or with ``scale`` a matrix (N or 1,
    C, C), on ``scale @ x + shift`` at every pixel (the whitening-colouring transform, :func:`zoo_adain.ops.
    wct_affine`). Without autograd, when the chain starts with a reflect-padded 3x3 conv, the map goes into that
    conv's weights and bias (reflection padding commutes with a per-pixel linear map): no pass over ``x`` and no
    copy of it. Otherwise the map is applied, then :func:`forward_chain`."""
    matrix = scale.dim() == 3
    parts = conv_relu_parts(mods[0]) if mods else None
    if parts is None or torch.is_grad_enabled() or hooked(mods):
        if matrix:
            from .ops import apply_linear

            return forward_chain(mods, apply_linear(x, scale, shift))
        return forward_chain(mods, x * scale.to(x.dtype) + shift.to(x.dtype))

    def mix(a: torch.Tensor) -> torch.Tensor:
        return a if matrix else a.reshape(-1)

    if scale.shape[0] == 1 and shift.shape[0] == 1:
        return forward_chain([folded(mods[0], parts[0], mix(scale[0]), shift[0].reshape(-1)), *mods[1:]], x)
    outs = []
    for i in range(x.shape[0]):
        a, b = scale[min(i, scale.shape[0] - 1)], shift[min(i, shift.shape[0] - 1)]
        outs.append(forward_chain([folded(mods[0], parts[0], mix(a), b.reshape(-1)), *mods[1:]], x[i : i + 1]))
    return torch.cat(outs)


def _is_pointwise(m: nn.Module) -> bool:
    return isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) and m.stride == (1, 1) and m.padding == (0, 0) \
        and m.dilation == (1, 1) and m.groups == 1


def fold_pointwise(mods: Sequence[nn.Module]) -> list[nn.Module]:
    """``mods`` with a leading 1x1 conv (the VGG encoders' input normalisation) folded into the reflect-padded
    3x3 conv after it (a pointwise map commutes with reflection padding): one full-resolution pass fewer."""
    mods = list(mods)
    parts = conv_relu_parts(mods[1]) if len(mods) > 1 and _is_pointwise(mods[0]) else None
    if parts is None:
        return mods
    pw = mods[0]
    assert isinstance(pw, nn.Conv2d)
    shift = pw.bias if pw.bias is not None else torch.zeros(pw.out_channels, device=pw.weight.device)
    return [folded(mods[1], parts[0], pw.weight[:, :, 0, 0], shift), *mods[2:]]


def folded(block: nn.Module, conv: nn.Conv2d, mix: torch.Tensor, shift: torch.Tensor) -> nn.Module:
    """A copy of the conv block ``block`` whose conv, applied to ``x``, gives the original's on ``mix * x +
    shift`` per pixel: ``mix`` a (C,) scale per channel or a (C, C') matrix (a 1x1 conv's weights), ``shift``
    (C,). The weights are mixed over the input channels, the shift's response is added to the bias (in
    float32, then in the weights' dtype and memory format)."""
    w = conv.weight.float()
    m, b = mix.float(), shift.reshape(-1).float()
    wf = w * m.view(1, -1, 1, 1) if m.dim() == 1 else torch.einsum("ojhw,jc->ochw", w, m)
    bias = w.sum((2, 3)) @ b + (conv.bias.float() if conv.bias is not None else 0.0)
    fmt = torch.channels_last if conv.weight.is_contiguous(memory_format=torch.channels_last) \
        and not conv.weight.is_contiguous() else torch.contiguous_format
    new = torch.nn.utils.skip_init(nn.Conv2d, wf.shape[1], conv.out_channels, conv.kernel_size,
                                   device=conv.weight.device, dtype=conv.weight.dtype)
    new.weight.data = wf.to(conv.weight.dtype).contiguous(memory_format=fmt)
    new.bias.data = bias.to(conv.weight.dtype)
    out = copy.copy(block)
    out._modules = {**block._modules, "conv": new}
    return out
