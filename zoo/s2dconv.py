"""Full-resolution layers with few channels, run at half the resolution with four times the channels.

A convolution whose input or output has 3 to 16 channels at full resolution (the first and last layers of
a feed-forward stylizer) keeps oneDNN's vector units mostly idle: the Magenta transformer's 9x9 conv from 8
channels to 3 at 1024 x 1024 took 26 ms in bf16 on one thread, the same arithmetic on 32 channels at 512 x 512
4 ms (docs/magenta.md; ``bench/bench_magenta.py --plain`` times the port with and without this module).
Space-to-depth (each 2x2 block of pixels becomes one pixel with four
times the channels) turns these layers into convolutions on 4C channels at a quarter of the pixels with the
same results up to float rounding:

- a k x k conv (stride 1, reflection padding k // 2) between space-to-depth images is a K x K conv with
  K = 2 * ceil(k / 4) + 1 on the space-to-depth image padded by ceil(k / 4) (:func:`conv_reflect_s2d`, and
  :func:`conv_reflect_to_s2d` from a full-resolution image);
- a 3x3 conv at stride 2 with reflection padding 1 reads a space-to-depth image as a 2x2 conv whose
  padding (one row above, one column to the left) is a replicated edge (:func:`conv_stride2_from_s2d`);
- nearest x2 upsampling, reflection padding 1 and a 3x3 conv, written straight into space-to-depth form,
  is a 3x3 conv on the replicate-padded low resolution with 4 times the outputs (:func:`upsample_conv_to_s2d`);
- instance norm: each channel's mean and variance gathered over its four phases (:func:`instance_norm_s2d`),
  the affine and ReLU as one depthwise 1x1 conv with a fused ReLU.

The channel order of a space-to-depth image here is (row phase, column phase, channel), so that an NHWC
(channels_last) image becomes one and back by a single reshaping copy (:func:`to_s2d`, :func:`from_s2d`).
The weights are rearranged once per conv and kept until the conv's weight changes. Inference only: callers
check ``torch.is_grad_enabled()`` first (training keeps the plain layers).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from zoo.fastconv import _FUSED, _conv, _version_of, fused_relu_available

__all__ = ["to_s2d", "from_s2d", "conv_reflect_to_s2d", "conv_reflect_s2d", "conv_stride2_from_s2d",
           "upsample_conv_to_s2d", "instance_norm_s2d", "s2d_pad", "instance_norm", "channel_stats"]


# ------------------------------------------------------------------------- layouts
def to_s2d(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W), H and W even -> (N, 4C, H/2, W/2) channels_last, channel ``(qi * 2 + qj) * C + c`` holding
    pixel ``(2i + qi, 2j + qj)`` of channel c."""
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"space-to-depth needs even sides, got {h} x {w}")
    nhwc = x.permute(0, 2, 3, 1)  # a view; contiguous when x is channels_last
    blocks = nhwc.reshape(n, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5)
    return blocks.reshape(n, h // 2, w // 2, 4 * c).permute(0, 3, 1, 2)


def from_s2d(y: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_s2d`: (N, 4C, h, w) -> (N, C, 2h, 2w) with channels_last memory."""
    n, c4, h, w = y.shape
    c = c4 // 4
    nhwc = y.permute(0, 2, 3, 1).reshape(n, h, w, 2, 2, c).permute(0, 1, 3, 2, 4, 5)
    return nhwc.reshape(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)


def s2d_pad(y: torch.Tensor, p: int) -> torch.Tensor:
    """The space-to-depth form of the full-resolution image reflection-padded by 2p: ``y`` padded by p
    pixels, each border built from a thin full-resolution strip (the corners with the top and bottom)."""
    n, c4, h, w = y.shape
    if p == 0:
        return y
    if 2 * p + 1 > 2 * min(h, w) - 1:
        raise ValueError(f"a {2 * h} x {2 * w} image is too small to reflect by {2 * p}")
    out = torch.empty(n, c4, h + 2 * p, w + 2 * p, dtype=y.dtype, device=y.device, memory_format=torch.channels_last)
    out[:, :, p:p + h, p:p + w].copy_(y)
    q = 2 * p
    top = F.pad(from_s2d(y[:, :, :p + 1]), (q, q, q, 0), mode="reflect")[:, :, :q]
    bottom = F.pad(from_s2d(y[:, :, h - p - 1:]), (q, q, 0, q), mode="reflect")[:, :, -q:]
    left = F.pad(from_s2d(y[:, :, :, :p + 1]), (q, 0, 0, 0), mode="reflect")[..., :q]
    right = F.pad(from_s2d(y[:, :, :, w - p - 1:]), (0, q, 0, 0), mode="reflect")[..., -q:]
    out[:, :, :p].copy_(to_s2d(top.contiguous(memory_format=torch.channels_last)))
    out[:, :, p + h:].copy_(to_s2d(bottom.contiguous(memory_format=torch.channels_last)))
    out[:, :, p:p + h, :p].copy_(to_s2d(left.contiguous(memory_format=torch.channels_last)))
    out[:, :, p:p + h, p + w:].copy_(to_s2d(right.contiguous(memory_format=torch.channels_last)))
    return out


# ------------------------------------------------------------------------- weights
_CACHE: "weakref.WeakKeyDictionary[nn.Conv2d, dict[str, tuple[tuple, torch.Tensor]]]" = weakref.WeakKeyDictionary()


def _cached(conv: nn.Conv2d, kind: str, make: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    w = conv.weight
    key = (_version_of(w), w.data_ptr(), w.dtype, w.device)
    per = _CACHE.setdefault(conv, {})
    hit = per.get(kind)
    if hit is None or hit[0] != key:
        with torch.no_grad():
            hit = (key, make(w.float()).to(w.dtype).contiguous(memory_format=torch.channels_last))
        per[kind] = hit
    return hit[1]


def _same_taps(k: int, device: torch.device) -> torch.Tensor:
    """T[a, q, R, d] = 1 where output phase a reads, through kernel row d, the input phase q at s2d offset
    R - P (P = ceil(p / 2), p = k // 2): d - p = 2 (R - P) + q - a."""
    p = k // 2
    pp = -(-p // 2)
    t = torch.zeros(2, 2, 2 * pp + 1, k, device=device)
    for a in range(2):
        for q in range(2):
            for r in range(2 * pp + 1):
                d = 2 * (r - pp) + q - a + p
                if 0 <= d < k:
                    t[a, q, r, d] = 1.0
    return t


def _same_weight(w: torch.Tensor) -> torch.Tensor:
    """(O, C, k, k) -> (4O, 4C, K, K): the stride-1 conv between space-to-depth images."""
    o, c, k, _ = w.shape
    t = _same_taps(k, w.device)
    ws = torch.einsum("aqRy,brSx,ocyx->aboqrcRS", t, t, w)
    kk = t.shape[2]
    return ws.reshape(4 * o, 4 * c, kk, kk)


def _stride2_weight(w: torch.Tensor) -> torch.Tensor:
    """(O, C, 3, 3) -> (O, 4C, 2, 2): kernel row d (0..2) reads s2d row offset R - 1 at phase q with
    d - 1 = 2 (R - 1) + q."""
    o, c, _, _ = w.shape
    t = torch.zeros(2, 2, 3, device=w.device)
    for q in range(2):
        for r in range(2):
            d = 2 * (r - 1) + q + 1
            if 0 <= d < 3:
                t[q, r, d] = 1.0
    return torch.einsum("qRy,rSx,ocyx->oqrcRS", t, t, w).reshape(o, 4 * c, 2, 2)


def _upsample_weight(w: torch.Tensor) -> torch.Tensor:
    """(O, C, 3, 3) -> (4O, C, 3, 3): output phase a through kernel row d reads low-resolution row offset
    floor((a + d - 1) / 2) (nearest upsampling; the reflected edge of the upsampled image is the replicated
    edge of the low resolution)."""
    o, c, _, _ = w.shape
    t = torch.zeros(2, 3, 3, device=w.device)
    for a in range(2):
        for d in range(3):
            t[a, (a + d - 1) // 2 + 1, d] = 1.0
    return torch.einsum("aRy,bSx,ocyx->abocRS", t, t, w).reshape(4 * o, c, 3, 3)


def _bias4(conv: nn.Conv2d) -> torch.Tensor | None:
    return None if conv.bias is None else conv.bias.repeat(4)


# ------------------------------------------------------------------------- layers
def _run(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, padding: tuple[int, int],
         relu: bool) -> torch.Tensor:
    return _conv(x.contiguous(memory_format=torch.channels_last), w, b, padding, relu)


def conv_reflect_to_s2d(x: torch.Tensor, conv: nn.Conv2d, relu: bool = False) -> torch.Tensor:
    """``relu?(conv(reflect_pad_{k//2}(x)))`` for a full-resolution ``x`` (stride 1, odd k), returned in
    space-to-depth form."""
    k = conv.kernel_size[0]
    pp = -(-(k // 2) // 2)
    xs = to_s2d(F.pad(x, (2 * pp,) * 4, mode="reflect").contiguous(memory_format=torch.channels_last))
    return _run(xs, _cached(conv, "same", _same_weight), _bias4(conv), (0, 0), relu)


def _redo_ring(y: torch.Tensor, x: torch.Tensor, pad: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor,
               b: torch.Tensor | None, relu: bool, p: int, top: int, left: int, bottom: int, right: int) -> None:
    """Overwrite the outputs of a zero-padded conv (``y``, from ``x``) that read its padding: ``top``
    rows, ``bottom`` rows, ``left`` and ``right`` columns, each recomputed without padding from a strip of
    ``x`` (``p`` lines deep, whole along the other side) padded by ``pad`` as the whole image is."""
    h, wd = x.shape[-2:]
    if top:
        y[:, :, :top].copy_(_conv(pad(x[:, :, :p]), w, b, 0, relu)[:, :, :top])
    if bottom:
        y[:, :, -bottom:].copy_(_conv(pad(x[:, :, h - p:]), w, b, 0, relu)[:, :, -bottom:])
    if left:
        y[..., :left].copy_(_conv(pad(x[..., :p]), w, b, 0, relu)[..., :left])
    if right:
        y[..., -right:].copy_(_conv(pad(x[..., wd - p:]), w, b, 0, relu)[..., -right:])


def conv_reflect_s2d(ys: torch.Tensor, conv: nn.Conv2d, relu: bool = False) -> torch.Tensor:
    """The same conv as :func:`conv_reflect_to_s2d` on a space-to-depth image, space-to-depth out: the conv
    zero-padded inside oneDNN (no padded copy of the image), then its ring of outputs that read the padding
    recomputed from thin strips padded by :func:`s2d_pad`."""
    k = conv.kernel_size[0]
    pp = -(-(k // 2) // 2)
    w, b = _cached(conv, "same", _same_weight), _bias4(conv)
    ys = ys.contiguous(memory_format=torch.channels_last)
    if min(ys.shape[-2:]) < 4 * pp:  # too small for strips: the padded copy
        return _run(s2d_pad(ys, pp), w, b, (0, 0), relu)
    y = _conv(ys, w, b, (pp, pp), relu)
    _redo_ring(y, ys, lambda s: s2d_pad(s, pp), w, b, relu, 2 * pp, pp, pp, pp, pp)
    return y


def conv_stride2_from_s2d(ys: torch.Tensor, conv: nn.Conv2d, relu: bool = False) -> torch.Tensor:
    """``relu?(conv(reflect_pad_1(x)))`` for a 3x3 stride-2 ``conv``, ``x`` given in space-to-depth form;
    the output (half resolution) in the ordinary layout. The 2x2 kernel reads the row above and the column
    to the left, whose reflection is the replicated edge: it runs as a 3x3 kernel (its last row and column
    zero) with oneDNN's zero padding, and the first row and column are recomputed with the edge replicated."""
    w2 = _cached(conv, "stride2", _stride2_weight)
    ys = ys.contiguous(memory_format=torch.channels_last)
    if min(ys.shape[-2:]) < 2:
        return _run(F.pad(ys, (1, 0, 1, 0), mode="replicate"), w2, conv.bias, (0, 0), relu)
    w3 = _cached(conv, "stride2_3x3", lambda w: F.pad(_stride2_weight(w), (0, 1, 0, 1)))
    y = _conv(ys, w3, conv.bias, (1, 1), relu)
    _redo_ring(y, ys, lambda s: F.pad(s, (1, 0, 1, 0), mode="replicate"), w2, conv.bias, relu, 1, 1, 1, 0, 0)
    return y


def upsample_conv_to_s2d(x: torch.Tensor, conv: nn.Conv2d, relu: bool = False) -> torch.Tensor:
    """``relu?(conv(reflect_pad_1(nearest_upsample_x2(x))))`` for a 3x3 stride-1 ``conv``, returned in
    space-to-depth form (its side is ``x``'s): a 3x3 conv on the low resolution with oneDNN's zero padding,
    its edge outputs recomputed from strips with the edge replicated (the upsampled image's reflection)."""
    w, b = _cached(conv, "upsample", _upsample_weight), _bias4(conv)
    x = x.contiguous(memory_format=torch.channels_last)
    if min(x.shape[-2:]) < 2:
        return _run(F.pad(x, (1, 1, 1, 1), mode="replicate"), w, b, (0, 0), relu)
    y = _conv(x, w, b, (1, 1), relu)
    _redo_ring(y, x, lambda s: F.pad(s, (1, 1, 1, 1), mode="replicate"), w, b, relu, 2, 1, 1, 1, 1)
    return y


def instance_norm_s2d(ys: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float,
                      relu: bool) -> torch.Tensor:
    """Instance norm (biased variance) of the full-resolution image whose space-to-depth form is ``ys``:
    ``(x - mean) / sqrt(var + eps) * gamma + beta`` per sample and channel, then ReLU if ``relu``.
    ``gamma``, ``beta``: (N or 1, C). Each channel's statistics gather its four phases (their means and
    variances, combined in float64); the affine and ReLU run as one depthwise 1x1 conv."""

    def stats(mean: torch.Tensor, var: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m, v = mean.view(4, -1), var.view(4, -1)
        centre = m.mean(0)
        return centre, (v + (m - centre) ** 2).mean(0)  # within the phases, plus between them (no cancellation)

    return _normalise(ys, gamma, beta, eps, relu, stats, phases=4)


def instance_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float,
                  relu: bool) -> torch.Tensor:
    """The same instance norm (biased variance, then ReLU if ``relu``) on an ordinary image: each sample's
    statistics by :func:`channel_stats`, the affine and ReLU as one depthwise 1x1 conv (one pass over the
    image fewer than batch norm followed by a ReLU). Inference only."""
    return _normalise(x, gamma, beta, eps, relu, lambda mean, var: (mean, var), phases=1)


def _normalise(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float, relu: bool,
               combine: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
               phases: int) -> torch.Tensor:
    """Per sample: the channels' mean and biased variance (float64; ``combine`` turns them into the
    image channels' own), then ``relu?((x - mean) / sqrt(var + eps) * gamma + beta)`` by :func:`_affine`."""
    n, c_all = x.shape[:2]
    c = c_all // phases
    cnt = x.shape[-2] * x.shape[-1]
    sd = torch.float64 if x.dtype == torch.float64 else torch.float32  # batch norm's statistics dtype
    outs = []
    for i in range(n):
        xi = x[i:i + 1]
        rm = torch.zeros(c_all, dtype=sd, device=x.device)
        rv = torch.ones(c_all, dtype=sd, device=x.device)
        channel_stats(xi, rm, rv)
        mean, var = combine(rm.double(), rv.double() * ((cnt - 1) / cnt if cnt > 1 else 1.0))  # unbiased -> biased
        g = gamma[min(i, gamma.shape[0] - 1)].double().reshape(c)
        b = beta[min(i, beta.shape[0] - 1)].double().reshape(c)
        scale = g / torch.sqrt(var.clamp_min(0.0) + eps)
        outs.append(_affine(xi, scale.repeat(phases), (b - mean * scale).repeat(phases), relu))
    return outs[0] if n == 1 else torch.cat(outs)


def channel_stats(y: torch.Tensor, mean_out: torch.Tensor, var_out: torch.Tensor) -> None:
    """Each channel's mean and unbiased variance over (N, H, W) of ``y``, written into ``mean_out`` and
    ``var_out`` (fp32 for bf16/fp32 input, accumulated as batch norm does): ATen's batch-norm statistics
    without the normalised output (a fifth of batch norm's time on a 32-channel channels_last bf16 image)."""
    try:
        torch.ops.aten.batch_norm_update_stats(y, mean_out, var_out, 1.0)  # momentum 1: this input's statistics
    except (RuntimeError, AttributeError):  # a build without it: batch norm, its output dropped
        F.batch_norm(y, mean_out, var_out, None, None, True, 1.0, 0.0)


def _affine(y: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, relu: bool) -> torch.Tensor:
    """``relu?(y * scale + shift)`` per channel, as a depthwise 1x1 conv (oneDNN, ReLU fused) where it runs."""
    c = y.shape[1]
    if fused_relu_available(y) and y.is_contiguous(memory_format=torch.channels_last):
        wt = scale.to(y.dtype).view(c, 1, 1, 1)
        try:
            return _FUSED(y, wt, shift.to(y.dtype), [0, 0], [1, 1], [1, 1], c, "relu" if relu else "none", [], "")
        except RuntimeError:  # a layout or build oneDNN refuses: the plain path below
            pass
    pd = torch.float64 if y.dtype == torch.float64 else torch.float32
    out = (y.to(pd) * scale.to(pd).view(1, c, 1, 1) + shift.to(pd).view(1, c, 1, 1)).to(y.dtype)
    return out.relu_() if relu else out
