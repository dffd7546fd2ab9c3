"""The tensor operations of AdaIN's ``stylize``: colour (YIQ, CORAL, luminance), sizes and padding as the
reference does them, and masks (regions of several styles). Part of :mod:`zoo_adain.stylize`, which
re-exports every name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zoo.errors import ConfigError, ImageError
from zoo.images import open_image, rgb_to_yiq, shorter_side, yiq_to_rgb  # noqa: F401

from .ops import EPS, StyleStats, wct_from_stats


# ----------------------------------------------------------------- colour helpers


def _sym_power(cov: torch.Tensor, p: float) -> torch.Tensor:
    """``cov ** p`` of a symmetric positive definite matrix (eigen-decomposition)."""
    vals, vecs = torch.linalg.eigh(cov)
    return vecs @ torch.diag(vals.clamp_min(1e-12) ** p) @ vecs.T


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``source`` (3, H, W) with its colours aligned to ``target``'s: the transform of the
    reference's ``--preserve_color`` (naoto0804/pytorch-AdaIN function.py ``coral``).

    As there: each colour channel of both images is standardised by its own mean and
    standard deviation (unbiased); with ``G = X_norm @ X_norm.T + I`` (the sum of products over
    the pixels, not divided by their number, plus the identity), the source is mapped by
    ``sqrt(G_target) @ inv(sqrt(G_source))`` (symmetric matrix square roots) and given the
    target's channel std and mean. Nothing is clamped: the result may leave [0, 1], and
    the reference encodes it so. Because ``G`` sums over the pixels, the colour statistics
    come out exactly the target's only when both images have the same number of pixels;
    otherwise the spread is scaled by about sqrt(N_target / N_source), as the reference's. Computed in float64 (the reference: float32), returned
    in ``source``'s dtype; equal to the reference's to 1e-5.
    """
    def standardised(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = x.reshape(3, -1).double()
        mean, std = f.mean(1, keepdim=True), f.std(1, keepdim=True)
        # a constant channel (std 0) gives the reference NaNs; here its normalised values are 0
        safe = torch.where(std > 0, std, torch.ones_like(std))
        return (f - mean) / safe, mean, std

    s_norm, _, _ = standardised(source)
    t_norm, t_mean, t_std = standardised(target)
    eye = torch.eye(3, dtype=torch.float64, device=s_norm.device)
    g_s = s_norm @ s_norm.T + eye
    g_t = t_norm @ t_norm.T + eye
    mapped = _sym_power(g_t, 0.5) @ _sym_power(g_s, -0.5) @ s_norm
    return (mapped * t_std + t_mean).reshape(source.shape).to(source.dtype)


# ------------------------------------------------------------------ the pieces
def _out_size(h: int, w: int, size: int | tuple[int, int] | None) -> tuple[int, int]:
    if size is None:
        return h, w
    if isinstance(size, int):
        return shorter_side(h, w, size)
    return size


def reference_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) with the shorter side ``size`` and the longer ``int(size * long / short)``
    (truncated), as torchvision's ``Resize(int)`` that the reference's test.py uses."""
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def reference_resize(img: Any, size: int) -> Any:
    """``img`` resized as the reference's ``transforms.Resize(size)``: a PIL image with PIL's
    bilinear filter (on its 8-bit pixels), a tensor (N, C, H, W) with antialiased bilinear."""
    if isinstance(img, torch.Tensor):
        h, w = reference_size(img.shape[-2], img.shape[-1], size)
        if (h, w) == tuple(img.shape[-2:]):
            return img
        return F.interpolate(img, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    from PIL import Image

    h, w = reference_size(img.height, img.width, size)
    if (h, w) == (img.height, img.width):
        return img
    return img.resize((w, h), Image.BILINEAR)


def pad_small(x: torch.Tensor, m: int) -> torch.Tensor:
    """Pad (N, C, H, W) at the bottom and right to at least ``2 * m`` per side (the deepest
    features need 2 pixels for their reflection padding), reflect or replicate; larger
    images are left alone."""
    h, w = x.shape[-2:]
    ph, pw = max(2 * m - h, 0), max(2 * m - w, 0)
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def pad_to_multiple(x: torch.Tensor, m: int) -> torch.Tensor:
    """Pad (N, C, H, W) at the bottom and right up to multiples of ``m``, and to at least
    ``2 * m`` (the deepest features need 2 pixels for their reflection padding); reflect,
    or replicate when the image is too small to reflect."""
    h, w = x.shape[-2:]
    ph, pw = max(-(-h // m) * m, 2 * m) - h, max(-(-w // m) * m, 2 * m) - w
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def luminance(x: torch.Tensor) -> torch.Tensor:
    return rgb_to_yiq(x)[:, :1]


def laplacian(x: torch.Tensor, pool: int = 2) -> torch.Tensor:
    """The 3x3 four-neighbour Laplacian of the luminance of ``x`` (N, 3, H, W) after ``pool`` x ``pool`` average
    pooling: Li, Xu, Nie, Zhao, "Laplacian-Steered Neural Style Transfer" (ACM MM 2017), their D_p(x), on the
    luminance only here (so the style is free to move colour), without padding."""
    if pool < 1:
        raise ConfigError(f"laplacian_pool must be at least 1 (1: no pooling), got {pool}")
    y = luminance(x.float())
    if pool > 1:
        y = F.avg_pool2d(y, pool)
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], device=y.device).view(1, 1, 3, 3)
    return F.conv2d(y, k)


def laplacian_loss(out: torch.Tensor, content: torch.Tensor, pool: int = 2) -> torch.Tensor:
    """Mean squared difference of the two images' :func:`laplacian`: the photo's edges and fine structure kept
    in the stylization (the paper sums the squares; a mean here, so the weight does not scale with the crop)."""
    return F.mse_loss(laplacian(out, pool), laplacian(content, pool))


def _load_mask(src: Any, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """A (1, 1, h, w) float mask in [0, 1] at ``size``."""
    if isinstance(src, torch.Tensor):
        m = src.detach()
        m = m.float() / 255.0 if m.dtype == torch.uint8 else m.float()
        while m.dim() > 2 and m.shape[0] == 1:
            m = m[0]
        if m.dim() != 2:
            raise ImageError(f"a mask tensor must be (H, W) or (1, H, W), got {tuple(src.shape)}")
        m = m[None, None]
    else:
        img = open_image(src).convert("L")
        m = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[None, None]
    m = F.interpolate(m.to(device), size=size, mode="bilinear", align_corners=False, antialias=True)
    return m.clamp_(0.0, 1.0)


def masked_adain(feat: torch.Tensor, styles: Sequence[StyleStats], masks: torch.Tensor, wct_mix: float = 0.0
                 ) -> torch.Tensor:
    """Each mask region of ``feat`` (N, C, h, w) normalised with its own statistics and given
    its style's; ``masks`` (K, 1, h, w). Uncovered places keep ``feat``. With ``wct_mix`` > 0, each region
    is whitened by its own covariance and coloured with its style's (:func:`zoo_adain.ops.wct_from_stats`)."""
    f = feat.float()
    out = torch.zeros_like(f)
    cover = torch.zeros_like(f[:, :1])
    for stats, m in zip(styles, masks):
        m = m[None]  # (1, 1, h, w)
        wsum = m.sum()
        if float(wsum) < 1e-6:
            continue
        if wct_mix > 0:
            t = wct_from_stats(f, stats, wct_mix, weight=m)
        else:
            mean = (f * m).sum((2, 3), keepdim=True) / wsum
            var = ((f - mean) ** 2 * m).sum((2, 3), keepdim=True) / (wsum - 1).clamp_min(1e-6)
            std = (var + EPS).sqrt()
            t = (f - mean) / std * stats.std + stats.mean
        out += m * t
        cover += m
    result = torch.where(cover > 0, out / cover.clamp_min(1e-6), f)
    return result.to(feat.dtype)


def _mask_native_size(mask: Any) -> tuple[int, int]:
    if isinstance(mask, torch.Tensor):
        return int(mask.shape[-2]), int(mask.shape[-1])
    img = open_image(mask)
    return img.height, img.width
