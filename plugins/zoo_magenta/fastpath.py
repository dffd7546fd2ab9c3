"""How the Magenta transformers run without autograd: their full-resolution layers in space-to-depth form.

Both transformers (arbitrary and 26-style) have two convolutions at the image's full resolution with 3 to 32
channels (the 9x9 conv in, and the 9x9 conv out), a stride-2 conv that reads full resolution and an
upsampling conv that writes it, with instance norms between. Without autograd (``stylize``, anything under
``torch.no_grad()`` or ``torch.inference_mode()``), on a CPU, with no forward hook on the transformer (and
``zoo_magenta.layers.FAST_PATH`` left on), those
four layers and their norms run through :mod:`zoo.s2dconv` on 2x2 blocks of pixels (four times the channels
at a quarter of the pixels); the rest (half resolution and below) runs as the modules do. The numbers are
the modules' up to float rounding (tests/test_magenta_fastpath.py); ``bench/bench_magenta.py`` measures the
gain. ``fake_quant`` (the int8 graph's arithmetic) always runs the modules.
"""

from __future__ import annotations

import torch
from torch import nn
from zoo.fastconv import hooked
from zoo.s2dconv import (conv_reflect_s2d, conv_reflect_to_s2d, conv_stride2_from_s2d, from_s2d,
                         instance_norm_s2d, upsample_conv_to_s2d)

from . import layers
from .layers import PlainConv

#: the fast path needs sides (multiples of 4) at least this long: the 9x9 convs reflect 4 pixels
MIN_SIDE = 16


def applies(transformer: nn.Module, x: torch.Tensor) -> bool:
    """Whether ``transformer`` can run ``x`` (N, 3, H, W) through :func:`forward`."""
    h, w = x.shape[-2:]
    first, down = transformer.contract[0].layer.conv, transformer.contract[1].layer.conv
    up, last = transformer.expand[-2], transformer.expand[-1]
    shapes = (first.stride == (1, 1) and first.kernel_size[0] % 2 == 1 and down.stride == (2, 2)
              and down.kernel_size == (3, 3) and up.upsample and up.layer.conv.kernel_size == (3, 3)
              and not last.upsample and last.layer.conv.stride == (1, 1) and last.layer.conv.kernel_size[0] % 2 == 1)
    return (layers.FAST_PATH and shapes and not torch.is_grad_enabled() and x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.bfloat16) and h % 4 == 0 and w % 4 == 0 and min(h, w) >= MIN_SIDE
            and not hooked([transformer]))


def _parts(layer: nn.Module) -> tuple[nn.Conv2d, nn.Module | None, bool]:
    """(conv, norm or None, relu) of a PlainConv, NormConv or TableConv."""
    norm = getattr(layer, "norm", None)
    return layer.layer.conv, norm, (bool(norm.relu) if norm is not None else True)


def _norm(ys: torch.Tensor, norm: nn.Module | None, cond: torch.Tensor, relu: bool) -> torch.Tensor:
    if norm is None:
        return ys
    gamma, beta = norm.affine(cond)  # fp32 (or the model's dtype): as the modules' forwards blend them
    return instance_norm_s2d(ys, gamma, beta, float(norm.eps), relu)


def forward(transformer: nn.Module, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """``transformer(x, cond)`` (its modules' numbers up to float rounding) for an ``x`` that :func:`applies`.
    ``cond``: the style vectors (arbitrary) or style weights (26-style), (N or 1, D)."""
    c0, c1 = transformer.contract[0], transformer.contract[1]
    conv, norm, relu = _parts(c0)
    ys = conv_reflect_to_s2d(x, conv, relu=relu and norm is None)
    ys = _norm(ys, norm, cond, relu)
    conv, norm, relu = _parts(c1)
    h = conv_stride2_from_s2d(ys, conv, relu=relu and norm is None)
    if norm is not None:
        h = norm(h, cond)
    for layer in transformer.contract[2:]:
        h = layer(h) if isinstance(layer, PlainConv) else layer(h, cond)
    for block in transformer.residual:
        h = block(h, cond)
    for layer in transformer.expand[:-2]:
        h = layer(h, cond)
    up, last = transformer.expand[-2], transformer.expand[-1]
    conv, norm, relu = _parts(up)
    ys = _norm(upsample_conv_to_s2d(h, conv, relu=relu and norm is None), norm, cond, relu)
    conv, norm, relu = _parts(last)
    ys = _norm(conv_reflect_s2d(ys, conv, relu=relu and norm is None), norm, cond, relu)
    return from_s2d(torch.sigmoid(ys))
