"""The layers of the Magenta networks: fake quantisation, TF-style padding and upsampling, instance
norms (conditional and per-style tables), convolutions and residual blocks. Part of
:mod:`zoo_magenta.model`, which re-exports every name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from zoo.fastconv import conv_reflect, hooked, upsample_conv  # noqa: F401  (upsample_conv: re-exported by zoo_magenta.model)
from zoo.s2dconv import instance_norm as fast_instance_norm


STYLE_DIM = 100
STYLE_SIZE = 256  # the style network's input side in Magenta's models and the wheel
MULTIPLE = 4  # the transformers downsample by 4
#: False: the transformers' modules and batch-norm instance norms even without autograd, as before
#: zoo_magenta.fastpath and zoo.s2dconv (bench/bench_magenta.py --plain times both in one run)
FAST_PATH = True
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


# ------------------------------------------------------------------ the arbitrary transformer
def instance_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float, relu: bool) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps) * gamma + beta`` per sample and channel (biased variance), then ReLU.

    ``gamma``, ``beta``: (N or 1, C). Computed per sample by ATen's batch norm in training mode (a batch of
    one: its statistics are the sample's own, accumulated in fp32 for bf16 input), which is several times
    faster on a CPU than a reduction followed by an affine, channels_last included. Without autograd on a
    CPU, zoo.s2dconv.instance_norm: the same statistics, the affine and ReLU in one pass."""
    if FAST_PATH and not torch.is_grad_enabled() and x.device.type == "cpu" \
            and x.dtype in (torch.float32, torch.bfloat16):
        return fast_instance_norm(x, gamma, beta, eps, relu)
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

    def affine(self, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-channel (gamma, beta), each (N or 1, C), for style vectors (N or 1, 100)."""
        return self.gamma(style.to(self.gamma.weight.dtype)), self.beta(style.to(self.beta.weight.dtype))

    def forward(self, x: torch.Tensor, style: torch.Tensor, fake_quant: bool = False) -> torch.Tensor:
        n, c = x.shape[:2]
        if not fake_quant:
            gamma, beta = self.affine(style)
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


class ConvLayer(nn.Module):
    """Reflection padding of k // 2, then a k x k conv (bias) at ``stride``."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.pad = k // 2
        self.conv = nn.Conv2d(cin, cout, k, stride, bias=bias)

    def forward(self, x: torch.Tensor, exact: bool = False, relu: bool = False) -> torch.Tensor:
        """``exact``: summed in onnxruntime's order (zoo_magenta.ortmath), for ``fake_quant``; ``relu``: a ReLU
        after (fused into the conv by zoo.fastconv.conv_reflect without autograd)."""
        if not exact and not torch.is_grad_enabled() and not hooked([self.conv]):
            return conv_reflect(x, self.conv, relu)  # the same numbers without the padded copy
        x = F.pad(x, (self.pad,) * 4, mode="reflect")
        if relu and not exact:
            return self.conv(x).relu_()
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
        if not fake_quant:
            return self.layer(x, relu=True)
        return fq(self.layer(x, exact=True).relu_(), self.q_out)


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


# ------------------------------------------------------------------ the 26-style network
class StyleTableNorm(nn.Module):
    """Conditional instance norm with one (gamma, beta) row per style; a style-weight vector blends them."""

    def __init__(self, channels: int, num_styles: int = NUM_STYLES, relu: bool = True) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))
        self.relu = relu

    eps = EPS

    def affine(self, weights: torch.Tensor, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-channel (gamma, beta), each (N or 1, C), blended by style weights (N or 1, 26)."""
        w = weights.to(dtype)
        return w @ self.gamma.to(dtype), w @ self.beta.to(dtype)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(weights, torch.float64 if x.dtype == torch.float64 else torch.float32)
        return instance_norm(x, gamma, beta, EPS, self.relu)


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
