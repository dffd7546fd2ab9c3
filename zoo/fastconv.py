"""Inference kernels for the convolutional stylizers on a CPU: the same numbers as the plain layers, faster.

Measured with ``bench/bench_fastconv.py`` (bf16, channels_last, one thread), the plain ``ReflectionPad2d ->
Conv2d -> ReLU`` spends as long in the pad and the ReLU as in the convolution: bf16 elementwise kernels are
not vectorised the way oneDNN's convolutions are. Each function here gives what the plain layers give, up to
float rounding (tests/test_fastconv.py), without those passes over the full-size activations:

- :func:`conv_reflect`: ``relu?(conv(reflect_pad_p(x)))`` for a k x k conv (p = k // 2). The convolution
  runs with zero padding inside oneDNN; only the p-pixel ring of the output sees the padding, so the ring is
  recomputed from thin reflection-padded strips (the corners come out right because each strip is padded
  along its whole length) and written over it. The ReLU is fused into the convolution (oneDNN's post-op)
  where torch has that kernel; elsewhere it runs in place.
- :func:`upsample_conv`: ``relu?(conv(reflect_pad_1(nearest_upsample_x2(x))))`` from the low resolution,
  as a stride-2 transposed convolution with summed 4x4 taps on the replicate-padded input.
- :func:`max_pool_2x2`: ceil-mode 2x2 max-pooling without the indices aten computes beside it.
- :func:`instance_affine`: ``(x - mean) / std * scale + shift`` per sample and channel with AdaIN's
  unbiased-variance ``std``, as one batch-norm call (one pass for the statistics and the affine).

- :func:`run_banded`: a chain of those layers (:class:`BandOp`) in bands of rows, each band reading the rows
  its receptive field needs (and the image's own padding at its edges), so that large activations stay in
  the CPU's cache: 1.4 to 2.6 times faster than whole-image kernels at 512 x 512 pixels and more.

Everything falls back to the plain computation when autograd is recording (training needs the plain
graph) or when a shape is too small for a trick. The callers (zoo_adain.fastpath, zoo_magenta.layers) also
keep the modules' own forwards while a forward hook watches one of them (:func:`hooked`).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["conv_reflect", "upsample_conv", "max_pool_2x2", "instance_affine", "fused_relu_available", "hooked",
           "BandOp", "run_banded"]


def _mkldnn_op(name: str):  # type: ignore[no-untyped-def]
    """oneDNN's convolution with a fused post-op, as torch registers it for its CPU compiler (inductor);
    None on a build without it."""
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        return getattr(ops, name) if ops is not None else None
    except (AttributeError, RuntimeError):
        return None


_FUSED = _mkldnn_op("_convolution_pointwise")
_FUSED_T = _mkldnn_op("_convolution_transpose_pointwise")


def hooked(mods: Sequence[nn.Module]) -> bool:
    """Whether a forward hook watches any of ``mods`` or their submodules (or every module): these kernels
    call no module, so a caller runs the modules' own forwards for the hooks to see them."""
    from torch.nn.modules import module as _module

    if _module._global_forward_hooks or _module._global_forward_pre_hooks:
        return True
    return any(sub._forward_hooks or sub._forward_pre_hooks for m in mods for sub in m.modules())


def fused_relu_available(x: torch.Tensor) -> bool:
    """Whether ``x`` can go through oneDNN's convolution with a fused ReLU (CPU, float32 or bf16)."""
    return (_FUSED is not None and x.device.type == "cpu" and x.dtype in (torch.float32, torch.bfloat16)
            and torch.backends.mkldnn.is_available())


def _conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int | tuple[int, int],
          relu: bool, stride: int = 1) -> torch.Tensor:
    pad = (padding, padding) if isinstance(padding, int) else padding
    if relu and fused_relu_available(x):
        try:
            return _FUSED(x, weight, bias, list(pad), [stride, stride], [1, 1], 1, "relu", [], "")
        except RuntimeError:  # a build or layout oneDNN refuses: the plain path below
            pass
    y = F.conv2d(x, weight, bias, stride=stride, padding=pad)
    return y.relu_() if relu else y


def _plain_reflect(x: torch.Tensor, conv: nn.Conv2d, relu: bool) -> torch.Tensor:
    p = conv.kernel_size[0] // 2
    y = F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), conv.weight, conv.bias, stride=conv.stride)
    return torch.relu(y) if relu else y


def conv_reflect(x: torch.Tensor, conv: nn.Conv2d, relu: bool = True) -> torch.Tensor:
    """``relu?(conv(reflect_pad_p(x)))`` for a square k x k (k odd, p = k // 2), unpadded ``conv`` at any
    square stride, without the padded copy: oneDNN's zero-padded conv, then the output rows and columns that
    read the padding (p of them at each side for stride 1; the first, and the last for an odd side, for 3x3
    at stride 2) recomputed from strips of the edge rows (columns), reflection-padded as the whole image would
    be (the corners come out right because each strip is padded along its whole length)."""
    h, w = x.shape[-2:]
    k, st = conv.kernel_size[0], conv.stride[0]
    p = k // 2
    if (torch.is_grad_enabled() or conv.kernel_size != (k, k) or k % 2 == 0 or conv.stride != (st, st)
            or conv.padding != (0, 0) or conv.dilation != (1, 1) or conv.groups != 1 or min(h, w) <= 2 * k):
        return _plain_reflect(x, conv, relu)
    wt, b = conv.weight, conv.bias
    y = _conv(x, wt, b, p, relu, st)
    if p == 0:
        return y
    _redo_edges(y, x, conv, relu, 2, (p, p, 0, 0))
    _redo_edges(y, x, conv, relu, 3, (0, 0, p, p))
    return y


def _redo_edges(y: torch.Tensor, x: torch.Tensor, conv: nn.Conv2d, relu: bool, dim: int,
                other: tuple[int, int, int, int]) -> None:
    """Overwrite the output lines of ``y`` (rows: ``dim`` 2, columns: 3) that read the zero padding along
    ``dim`` with the reflect-padded conv's, from strips of ``x``'s edge lines padded by reflection along
    ``dim`` and by ``other`` along the other dimension (as the conv that gave ``y`` padded it there)."""
    k, st = conv.kernel_size[0], conv.stride[0]
    p, size = k // 2, x.shape[dim]
    n_out = y.shape[dim]
    top = min(n_out, -(-p // st))  # output lines [0, top) read the padding before the image
    first_bottom = max((size - k + p) // st + 1, top)  # and [first_bottom, n_out) the padding after it
    if st > 1:  # a strided bf16 conv one line wide comes out wrong in torch 2.14's oneDNN: two at least
        top = min(max(top, 2), n_out)
        first_bottom = min(first_bottom, max(n_out - 2, top)) if first_bottom < n_out else first_bottom
    if top > 0:
        strip = _pad_line(x.narrow(dim, 0, min(st * (top - 1) - p + k, size)), dim, other, before=p, after=0)
        y.narrow(dim, 0, top).copy_(_conv(strip, conv.weight, conv.bias, 0, relu, st))
    if first_bottom < n_out:
        start = st * first_bottom - p
        after = st * (n_out - 1) - p + k - size
        strip = _pad_line(x.narrow(dim, start, size - start), dim, other, before=0, after=after)
        y.narrow(dim, first_bottom, n_out - first_bottom).copy_(_conv(strip, conv.weight, conv.bias, 0, relu, st))


def _pad_line(x: torch.Tensor, dim: int, other: tuple[int, int, int, int], before: int, after: int) -> torch.Tensor:
    """``x`` reflection-padded by ``before``/``after`` along ``dim`` (2: rows, 3: columns) and by ``other``."""
    pad = (other[0], other[1], before, after) if dim == 2 else (before, after, other[2], other[3])
    return F.pad(x, pad, mode="reflect")


#: nearest x2 upsampling followed by a 3-tap kernel (w0, w1, w2) is a stride-2 transposed conv with the
#: 4-tap kernel (w2, w1 + w2, w0 + w1, w0): row k of this matrix picks its taps
_UPSAMPLE_TAPS = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 0.0, 0.0))


def upsample_conv(x: torch.Tensor, conv: nn.Conv2d, relu: bool = False) -> torch.Tensor:
    """``relu?(conv(reflect_pad_1(nearest_upsample_x2(x))))`` computed from the low resolution: reflecting
    the upsampled image by one pixel repeats its edge, which is the low-resolution image padded by
    replication, and an upsampling followed by a 3x3 conv is a stride-2 transposed conv with summed 4x4 taps.
    The same numbers up to float rounding (tests/test_magenta_convert.py, tests/test_fastconv.py), without
    the upsampled intermediate or its padding. Differentiable (it is used in training too)."""
    return _transpose_conv(F.pad(x, (1, 1, 1, 1), mode="replicate"), conv, relu, (3, 3))


_TAPS_CACHE: "weakref.WeakKeyDictionary[nn.Conv2d, tuple[tuple, torch.Tensor]]" = weakref.WeakKeyDictionary()


def _summed_taps(conv: nn.Conv2d, fmt: torch.memory_format) -> torch.Tensor:
    """The transposed conv's (in, out, 4, 4) weights for the 3x3 ``conv``; without autograd they are kept per
    conv (and its weight's storage, dtype and version: an optimizer step, a load_state_dict or a .to() makes
    them anew), since a bf16 einsum costs a millisecond and a banded layer asks for them at every band."""
    w = conv.weight

    def make() -> torch.Tensor:
        a = torch.tensor(_UPSAMPLE_TAPS, dtype=w.dtype, device=w.device)
        return torch.einsum("ka,ocab,lb->cokl", a, w, a).contiguous(memory_format=fmt)  # conv_transpose2d's layout

    if torch.is_grad_enabled() and w.requires_grad:
        return make()
    key = (_version_of(w), w.data_ptr(), w.dtype, w.device, fmt)
    hit = _TAPS_CACHE.get(conv)
    if hit is None or hit[0] != key:
        with torch.no_grad():
            hit = (key, make())
        _TAPS_CACHE[conv] = hit
    return hit[1]


def _version_of(w: torch.Tensor) -> object:
    """What changes when ``w`` is changed in place: its version counter, or, for a tensor made under
    ``torch.inference_mode()`` (which keeps none), a fingerprint of its values."""
    if w.is_inference():
        f = w.detach().float()
        return float(f.sum()), float(f.abs().sum()), float((f * f).sum())
    return w._version


def _transpose_conv(xp: torch.Tensor, conv: nn.Conv2d, relu: bool, padding: tuple[int, int]) -> torch.Tensor:
    """The stride-2 transposed conv of :func:`upsample_conv` on the padded ``xp``."""
    fmt = torch.channels_last if xp.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
    wt = _summed_taps(conv, fmt)
    if relu and not torch.is_grad_enabled() and _FUSED_T is not None and fused_relu_available(xp):
        try:
            return _FUSED_T(xp, wt, conv.bias, list(padding), [0, 0], [2, 2], [1, 1], 1, "relu", [], "")
        except RuntimeError:  # a build or layout oneDNN refuses: the plain path below
            pass
    y = F.conv_transpose2d(xp, wt, conv.bias, stride=2, padding=padding)
    if not relu:
        return y
    return y.relu_() if not torch.is_grad_enabled() else torch.relu(y)


def max_pool_2x2(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``max_pool2d(x, 2, 2, ceil_mode=True)``; for even sides, the maximum of the four strided views, written
    into ``out`` if it is given and has the result's shape (a band of a larger output: no copy afterwards)."""
    h, w = x.shape[-2:]
    if torch.is_grad_enabled() or h % 2 or w % 2:
        return F.max_pool2d(x, 2, 2, ceil_mode=True)
    a = torch.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2])
    b = torch.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])
    if out is not None and out.shape == a.shape and out.dtype == a.dtype:
        return torch.maximum(a, b, out=out)
    return torch.maximum(a, b, out=a)


def instance_affine(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps) * scale + shift`` with each sample's and channel's mean and unbiased
    variance over the pixels (AdaIN's ``calc_mean_std``), ``scale`` and ``shift`` of shape (N, C, 1, 1).

    Batch norm on one sample normalises by the biased variance: ``var_u + eps = n / (n - 1) * (var_b + eps')``
    with ``eps' = eps (n - 1) / n``, so the factor goes into the scale and the same numbers come out."""
    n_pix = x.shape[-2] * x.shape[-1]
    if n_pix < 2:  # one pixel: AdaIN's std is sqrt(eps) (no correction), which batch norm cannot take
        return (shift + 0.0 * x.float()).to(x.dtype)
    k = (n_pix / (n_pix - 1)) ** -0.5
    outs = []
    for i in range(x.shape[0]):
        j = i if scale.shape[0] > 1 else 0  # one style for a batch of contents
        g = (scale[j].reshape(-1).float() * k).to(x.dtype)
        s = shift[j].reshape(-1).to(x.dtype)
        outs.append(F.batch_norm(x[i:i + 1], None, None, g, s, True, 0.0, eps * (n_pix - 1) / n_pix))
    return outs[0] if len(outs) == 1 else torch.cat(outs, 0)


# ------------------------------------------------------------------------- banded execution
@dataclass(frozen=True)
class BandOp:
    """One layer of a chain run in bands (:func:`run_banded`): ``"conv"`` (3x3, reflection padding 1),
    ``"pointwise"`` (1x1), ``"pool"`` (2x2 max, ceil mode) or ``"up_conv"`` (nearest x2, then ``"conv"``)."""

    kind: str
    conv: nn.Conv2d | None = None
    relu: bool = False

    def out_height(self, h: int) -> int:
        return -(-h // 2) if self.kind == "pool" else 2 * h if self.kind == "up_conv" else h

    def needs(self, a: int, b: int, h_in: int) -> tuple[int, int]:
        """The input rows that output rows [a, b) read (an image's edge rows stand for its padding)."""
        if self.kind == "conv":
            return max(a - 1, 0), min(b + 1, h_in)
        if self.kind == "pool":
            return 2 * a, min(2 * b, h_in)
        if self.kind == "up_conv":
            return max((a - 1) // 2, 0), min(-(-(b + 1) // 2), h_in)
        return a, b

    def run(self, t: torch.Tensor, lo: int, hi: int, h: int,
            dest: tuple[torch.Tensor, int] | None = None) -> tuple[torch.Tensor, int, int]:
        """This layer on rows [lo, hi) of an input ``h`` rows high: the output rows it can give, and where.
        ``dest = (out, row)``: a pooling whose output rows start at ``row`` writes them into ``out`` there."""
        top, bottom = int(lo == 0), int(hi == h)
        if self.kind == "pointwise":
            return _conv(t, self.conv.weight, self.conv.bias, 0, self.relu), lo, hi
        if self.kind == "conv":
            return _conv_rows(t, self.conv, self.relu, top, bottom), lo + 1 - top, hi - 1 + bottom
        if self.kind == "pool":
            if lo % 2:
                t, lo = t[:, :, 1:], lo + 1
            if not bottom and (hi - lo) % 2:
                t, hi = t[:, :, :-1], hi - 1
            o_lo, o_hi = lo // 2, -(-hi // 2)
            into = None
            if dest is not None and dest[1] == o_lo and o_hi <= dest[0].shape[2]:
                into = dest[0][:, :, o_lo:o_hi]
            return max_pool_2x2(t, into), o_lo, o_hi
        # up_conv: the transposed conv of upsample_conv without padding along the rows, except at the image's
        # edges; output row j of the band is image row j + 2 * vlo - 1, valid for j in [2, 2n)
        tp = F.pad(t, (1, 1, top, bottom), mode="replicate")
        vlo, vhi = lo - top, hi + bottom
        y = _transpose_conv(tp, self.conv, self.relu, (0, 3))
        y = y[:, :, 2: 2 * (vhi - vlo)]
        o_lo = 2 * vlo + 1
        if o_lo < 0:
            y, o_lo = y[:, :, -o_lo:], 0
        o_hi = min(2 * vhi - 1, 2 * h)
        return y[:, :, : o_hi - o_lo], o_lo, o_hi


def _conv_rows(t: torch.Tensor, conv: nn.Conv2d, relu: bool, top: int, bottom: int) -> torch.Tensor:
    """The 3x3 reflect-padded conv of a band whose rows carry their own context: padded by reflection only
    at the image's top (``top``) and bottom (``bottom``); the columns' reflection is the zero-padded conv
    with its two edge columns recomputed (:func:`_redo_edges`; no padded copy of the band). At the image's top
    or bottom the conv pads rows with zeros too, and the one output row that read them is recomputed from a
    three-row strip (no copy of the band with its reflected row)."""
    if t.shape[-1] < 3:
        if top or bottom:
            t = torch.cat([*([t.narrow(2, 1, 1)] if top else []), t,
                           *([t.narrow(2, t.shape[2] - 2, 1)] if bottom else [])], 2)
        return _conv(F.pad(t, (1, 1, 0, 0), mode="reflect"), conv.weight, conv.bias, 0, relu)
    ph = int(bool(top or bottom))
    y = _conv(t, conv.weight, conv.bias, (ph, 1), relu)
    if ph and not (top and bottom):  # oneDNN pads both ends: drop the row outside the band's valid rows
        y = y[:, :, 1:] if bottom else y[:, :, :-1]
    if top:
        y.narrow(2, 0, 1).copy_(_conv(F.pad(t.narrow(2, 0, 2), (1, 1, 1, 0), mode="reflect"),
                                      conv.weight, conv.bias, 0, relu))
    if bottom:
        y.narrow(2, y.shape[2] - 1, 1).copy_(_conv(F.pad(t.narrow(2, t.shape[2] - 2, 2), (1, 1, 0, 1),
                                                         mode="reflect"), conv.weight, conv.bias, 0, relu))
    _redo_edges(y, t, conv, relu, 3, (0, 0, top, bottom))  # columns; rows reflected at the image's edges
    return y


#: elements of a band's largest activation: 64 rows of a 1024-wide, 64-channel image (8 MiB in bf16); 32 rows
#: were measured best for that layer alone (bench/bench_fastconv.py), 64 for the whole default ``adain`` at
#: 1024 px (docs/magenta.md, seventh session)
BAND_ELEMENTS = 64 * 64 * 1024


def _band_rows(ops: list[BandOp], x: torch.Tensor, heights: list[int]) -> int:
    """Output rows per band such that no layer's activation in a band holds more than BAND_ELEMENTS."""
    c, w = x.shape[1], x.shape[-1]
    h_out = heights[-1]
    rows = h_out
    for op, h_in, h in zip(ops, heights[:-1], heights[1:]):
        if op.conv is not None:
            c = op.conv.out_channels
        w = op.out_height(w)  # widths change as heights do
        per_out_row = c * w * h / max(h_out, 1)  # elements of this layer per output row of the band
        rows = min(rows, int(BAND_ELEMENTS // max(per_out_row, 1)))
    return max(4, rows)


def _same_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.data_ptr() == b.data_ptr() and a.shape == b.shape and a.stride() == b.stride()


def run_banded(ops: list[BandOp], x: torch.Tensor, band_rows: int | None = None) -> torch.Tensor:
    """The chain ``ops`` on ``x`` (N, C, H, W), computed in bands of output rows so that each band's
    activations stay in the CPU's cache: each band reads the input rows its receptive field needs and the
    image's own padding at its edges, so the result is the whole-image computation's, up to float rounding."""
    heights = [x.shape[-2]]
    for op in ops:
        heights.append(op.out_height(heights[-1]))
    h_out = heights[-1]
    rows = band_rows or _band_rows(ops, x, heights)
    out: torch.Tensor | None = None
    for a in range(0, h_out, rows):
        b = min(a + rows, h_out)
        spans = [(a, b)]
        for op, h_in in zip(reversed(ops), reversed(heights[:-1])):
            spans.append(op.needs(*spans[-1], h_in))
        lo, hi = spans[-1]
        t = x[:, :, lo:hi]
        for i, (op, h_in) in enumerate(zip(ops, heights[:-1])):
            last = i == len(ops) - 1 and out is not None
            t, lo, hi = op.run(t, lo, hi, h_in, (out, a) if last else None)
        y = t[:, :, a - lo: b - lo]
        if out is None:
            fmt = torch.channels_last if y.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format
            out = torch.empty((*y.shape[:2], h_out, y.shape[-1]), dtype=y.dtype, device=y.device, memory_format=fmt)
        if not _same_memory(y, out[:, :, a:b]):  # a last pooling writes its rows into out itself
            out[:, :, a:b] = y
    assert out is not None
    return out
