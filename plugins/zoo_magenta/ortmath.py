"""Float32 arithmetic in the order onnxruntime's CPU kernels use, for ``fake_quant=True``.

A quantised network amplifies one-step rounding flips (an instance-norm mean that lands on the other
side of a rounding boundary moves a whole channel), so reproducing the int8 graph end to end needs the
reference's float32 sums bit for bit, not only its operations. Measured against onnxruntime 1.32.0
(CPU, ORT_DISABLE_ALL) on the wheel's graphs, bit-identical on every output tested:

- Conv (MLAS: im2col, then SGEMM): for each output, the products over ``k = (input channel, kernel
  row, kernel column)`` are accumulated one by one with fused multiply-adds, in blocks of 128 values of
  ``k`` (more when the output has few pixels: :func:`stride_k`) each summed from zero; each block's
  sum is added to the running total; the bias comes last. Bit-identical on every conv of the transformer and on the style
  network's full and 1x1 convs.
- Depthwise conv: not identified (sequential, by rows, bias first or last, with and without fused
  multiply-adds: none is bit-identical); :func:`depthwise` sums the nine taps in order, which gives
  the same int8 activations but for a few per million.
- GlobalAveragePool (Eigen): four running lanes over the spatial positions in memory order (lane ``i``
  takes positions ``i, i + 4, ...``), then ``(l0 + l2) + (l1 + l3)``, the remainder added one by one,
  then divided by the count.

The fused multiply-add is emulated in float64 (a float32 product is exact there) followed by a
rounding to float32; this double rounding differs from a true FMA only on exact ties, which have not
been seen. Slow (seconds at 384 x 384): it is a checking mode, not the fast path.
"""

from __future__ import annotations

import torch

SGEMM_STRIDE_N = 128  # MLAS_SGEMM_STRIDEN
SGEMM_STRIDE_K = 128  # MLAS_SGEMM_STRIDEK


def stride_k(k: int, n: int) -> int:
    """The block of the K dimension MLAS's SGEMM takes for a (M x K) @ (K x N) product: 128, traded against
    the N block when one of K or N is small (as ``MlasSgemmOperation`` does)."""
    sn, sk = SGEMM_STRIDE_N, SGEMM_STRIDE_K
    if n >= k:
        while sk // 2 >= k:
            sn, sk = sn * 2, sk // 2
    else:
        while sn > 16 and sn // 2 >= n:
            sn, sk = sn // 2, sk * 2
    return sk


def conv2d(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, stride: int = 1) -> torch.Tensor:
    """``F.conv2d(x, w, b, stride)`` (no padding, groups 1) summed as MLAS's SGEMM sums. fp32 out."""
    n, ci, h, wd = x.shape
    o, ci2, kh, kw = w.shape
    if ci2 != ci:
        raise ValueError(f"input has {ci} channels, the kernel {ci2}")
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    xd, wdd = x.double(), w.double()
    block = stride_k(ci * kh * kw, ho * wo)
    total = None
    part = torch.zeros(n, o, ho, wo, dtype=torch.float64, device=x.device)
    k = 0
    for c in range(ci):
        for ky in range(kh):
            for kx in range(kw):
                if k and k % block == 0:
                    total = part if total is None else (total + part).float().double()
                    part = torch.zeros_like(part)
                patch = xd[:, c, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
                part = torch.addcmul(part, patch[:, None], wdd[:, c, ky, kx].view(1, o, 1, 1)).float().double()
                k += 1
    total = part if total is None else (total + part).float().double()
    if b is not None:
        total = (total + b.double().view(1, o, 1, 1)).float().double()
    return total.float()


def linear(v: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A 1x1 conv of a (N, D) vector with (O, D) weights, as :func:`conv2d` sums it."""
    return conv2d(v.float()[:, :, None, None], w.float()[:, :, None, None], b.float()).flatten(1)


def global_mean(x: torch.Tensor) -> torch.Tensor:
    """GlobalAveragePool of (N, C, H, W) as Eigen sums it: (N, C, 1, 1) fp32."""
    n, c, h, w = x.shape
    flat = x.float().reshape(n, c, h * w)
    hw = h * w
    main = hw - hw % 4
    lanes = torch.zeros(n, c, 4, dtype=torch.float32, device=x.device)
    blocks = flat[..., :main].reshape(n, c, main // 4, 4)
    for i in range(main // 4):
        lanes = lanes + blocks[:, :, i]
    s = (lanes[..., 0] + lanes[..., 2]) + (lanes[..., 1] + lanes[..., 3])
    for j in range(main, hw):
        s = s + flat[..., j]
    return (s / torch.tensor(float(hw), dtype=torch.float32, device=x.device)).view(n, c, 1, 1)


__all__ = ["conv2d", "global_mean", "linear"]


def depthwise(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, stride: int = 1) -> torch.Tensor:
    """A depthwise conv (groups = channels, no padding): each channel's taps accumulated one by one with
    fused multiply-adds in (row, column) order, then the bias, as :func:`conv2d` for one channel."""
    n, c, h, wd = x.shape
    kh, kw = w.shape[-2:]
    ho, wo = (h - kh) // stride + 1, (wd - kw) // stride + 1
    xd, wdd = x.double(), w.double().reshape(c, kh, kw)
    part = torch.zeros(n, c, ho, wo, dtype=torch.float64, device=x.device)
    for ky in range(kh):
        for kx in range(kw):
            patch = xd[:, :, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            part = torch.addcmul(part, patch, wdd[:, ky, kx].view(1, c, 1, 1)).float().double()
    if b is not None:
        part = (part + b.double().view(1, c, 1, 1)).float().double()
    return part.float()
