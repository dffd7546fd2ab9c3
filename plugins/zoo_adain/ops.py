"""The AdaIN operation and a style's statistics: a leaf that the model and ``stylize`` both use.

Adaptive instance normalisation (Huang and Belongie 2017, eq. 8): the content features
normalised per channel, then scaled and shifted to the style's mean and std. Re-exported by
:mod:`zoo_adain.model`.

The whitening-colouring transform (WCT; Li, Fang, Yang, Wang, Lu, Yang, "Universal Style Transfer via
Feature Transforms", NeurIPS 2017, section 3.1) is AdaIN's generalisation: the content features
whitened by their own covariance, then coloured with the style's, so the output has the style's
covariance (which channels fire together), not only its per-channel means and stds. ``wct_mix`` mixes
the two: ``wct_mix * WCT + (1 - wct_mix) * AdaIN``, one linear map of the centred features.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from zoo.errors import ConfigError
from zoo.fastconv import instance_affine
from zoo.s2dconv import channel_stats

EPS = 1e-5


# --------------------------------------------------------------------------- the op
def calc_mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and std over space of ``feat`` (N, C, H, W).

    Returns two (N, C, 1, 1) tensors; std = sqrt(unbiased variance + eps). Computed
    in float32 whatever the input dtype.
    """
    if feat.dim() != 4:
        raise ValueError(f"expected features of shape (N, C, H, W), got {tuple(feat.shape)}")
    n, c = feat.shape[:2]
    n_pix = feat.shape[-2] * feat.shape[-1]
    if not torch.is_grad_enabled() and n_pix > 1 and feat.dtype in (torch.float32, torch.bfloat16):
        return _fast_mean_std(feat, eps)
    flat = feat.reshape(n, c, -1).float()
    var, mean = torch.var_mean(flat, dim=2, correction=1 if flat.shape[2] > 1 else 0)
    return mean.view(n, c, 1, 1), (var + eps).sqrt().view(n, c, 1, 1)


def _fast_mean_std(feat: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`calc_mean_std` without autograd: each sample's statistics by zoo.s2dconv.channel_stats (ATen's
    batch-norm statistics, one pass in the input's dtype and memory format, accumulated in float32, where
    ``var_mean`` on a channels-last bf16 map first makes a float32 NCHW copy: 3 against 130 ms at 256 x 256 x
    256 on one core)."""
    n, c = feat.shape[:2]
    mean = torch.zeros(n, c, dtype=torch.float32, device=feat.device)
    var = torch.ones(n, c, dtype=torch.float32, device=feat.device)
    for i in range(n):
        channel_stats(feat[i : i + 1], mean[i], var[i])  # the unbiased variance, as var_mean's correction=1
    return mean.view(n, c, 1, 1), (var + eps).sqrt().view(n, c, 1, 1)


def adain_affine(
    content_feat: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor, alpha: float = 1.0,
    eps: float = EPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """AdaIN, and its blend with the content (``alpha``), as a per-sample, per-channel affine map of the content
    features: ``(scale, shift)``, float32 (N, C, 1, 1), such that ``alpha * AdaIN(x) + (1 - alpha) * x`` equals
    ``x * scale + shift``. (A decoder can take it folded into its first convolution.)"""
    c_mean, c_std = calc_mean_std(content_feat, eps)
    scale = style_std / c_std
    shift = style_mean - c_mean * scale
    if alpha != 1.0:
        scale, shift = alpha * scale + (1.0 - alpha), alpha * shift
    return scale, shift


def adain_from_stats(
    content_feat: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor, eps: float = EPS
) -> torch.Tensor:
    """AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y), with y's statistics given.

    Without autograd it is one batch-norm call per sample (zoo.fastconv.instance_affine: the same numbers,
    several times faster in bf16 on a CPU)."""
    if not torch.is_grad_enabled():
        return instance_affine(content_feat, style_std, style_mean, eps)
    c_mean, c_std = calc_mean_std(content_feat, eps)
    scale = (style_std / c_std).to(content_feat.dtype)
    shift = (style_mean - c_mean * style_std / c_std).to(content_feat.dtype)
    return content_feat * scale + shift


def adain(content_feat: torch.Tensor, style_feat: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Adaptive instance normalisation of ``content_feat`` to ``style_feat``'s statistics.

    The style batch is either the same size as the content batch or 1 (broadcast).
    """
    if content_feat.shape[1] != style_feat.shape[1]:
        raise ValueError(
            f"content has {content_feat.shape[1]} channels, style {style_feat.shape[1]}: "
            "both must come from the same encoder"
        )
    s_mean, s_std = calc_mean_std(style_feat, eps)
    return adain_from_stats(content_feat, s_mean, s_std, eps)


@dataclass(frozen=True)
class StyleStats:
    """A style's statistics at the AdaIN layer: mean and std, each (N, C, 1, 1) float32, and for the
    whitening-colouring transform ``colour``, (N, C, C) float32: the symmetric square root of the
    features' covariance (None where only AdaIN needs them).

    Compute once with :meth:`AdaIN.style_stats` and pass as ``style`` to reuse.
    """

    mean: torch.Tensor
    std: torch.Tensor
    colour: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    @staticmethod
    def mix(stats: Sequence[StyleStats], weights: Sequence[float]) -> StyleStats:
        """Weighted mix: equal to the weighted sum of the AdaIN (and of the WCT) outputs (weights sum to 1)."""
        mean = sum(w * s.mean for s, w in zip(stats, weights))
        std = sum(w * s.std for s, w in zip(stats, weights))
        colour = None
        if all(s.colour is not None for s in stats):
            colour = sum(w * s.colour for s, w in zip(stats, weights))  # type: ignore[operator]
        return StyleStats(mean, std, colour)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- WCT
def _exact(fn):
    """Run ``fn`` with autocast off: under a training step's bf16 autocast its matrix products would round the
    Gram matrix to bf16, and the covariance taken from it (Gram minus the means' product) loses every digit."""

    @functools.wraps(fn)
    def run(feat: torch.Tensor, *args, **kwargs):
        with torch.autocast(feat.device.type, enabled=False):
            return fn(feat, *args, **kwargs)

    return run


@_exact
def covariance(feat: torch.Tensor, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (N, C, 1, 1), covariance (N, C, C)) of ``feat`` (N, C, H, W) over space, float32, unbiased; with
    ``weight`` (1 or N, 1, H, W), of the places it covers, each counted by its weight (a mask region)."""
    n, c = feat.shape[:2]
    x = feat.float()
    if weight is None:
        # the pixels as rows: a view of a channels_last map, so no copy beyond the float one
        rows = x.permute(0, 2, 3, 1).reshape(n, -1, c)
        p = rows.shape[1]
        mean = rows.mean(1)
        gram = rows.transpose(1, 2) @ rows
        cov = (gram - p * mean[:, :, None] * mean[:, None, :]) / max(p - 1, 1)
        return mean.view(n, c, 1, 1), cov
    x = x.reshape(n, c, -1)
    w = weight.float().reshape(weight.shape[0], 1, -1).expand(n, 1, -1)
    total = w.sum(2, keepdim=True).clamp_min(1e-6)
    mean = (x * w).sum(2, keepdim=True) / total
    xc = x - mean
    cov = (xc * w) @ xc.transpose(1, 2) / (total - 1).clamp_min(1e-6)
    return mean.view(n, c, 1, 1), cov


def _eig(cov: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (at least ``eps``) and eigenvectors of each symmetric (C, C) matrix, in float64."""
    c = cov.shape[-1]
    vals, vecs = torch.linalg.eigh(cov.double() + eps * torch.eye(c, dtype=torch.float64, device=cov.device))
    return vals.clamp_min(eps), vecs


@_exact
def colouring(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (N, C, 1, 1), colour (N, C, C)): the style side of WCT, colour = covariance ** 0.5."""
    mean, cov = covariance(feat)
    vals, vecs = _eig(cov, eps)
    colour = vecs @ torch.diag_embed(vals.sqrt()) @ vecs.transpose(1, 2)
    return mean, colour.float()


def stats_of(feat: torch.Tensor, wct_mix: float = 0.0) -> StyleStats:
    """A style's :class:`StyleStats` from its features: mean and std, and the colour matrix if ``wct_mix`` > 0."""
    mean, std = calc_mean_std(feat)
    return StyleStats(mean, std, colouring(feat)[1] if wct_mix > 0 else None)


@_exact
def wct_affine(content_feat: torch.Tensor, style: StyleStats, mix: float = 1.0, alpha: float = 1.0,
               eps: float = EPS, weight: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``mix * WCT(x) + (1 - mix) * AdaIN(x)``, blended with the content by ``alpha``, as one linear map of each
    pixel's features: ``(linear (N, C, C), shift (N, C, 1, 1))``, float32, such that the output is ``linear @ x +
    shift`` at every pixel (a decoder can take it folded into its first convolution). ``style.colour`` is needed
    for mix > 0; a style batch of 1 or N. ``weight``: the content's statistics from that region only (masks)."""
    if mix > 0 and style.colour is None:
        raise ConfigError("the whitening-colouring transform needs the style's colour matrix: compute the "
                          "StyleStats with the model whose wct_mix > 0 (AdaIN.style_stats), or pass the style image")
    mean_c, cov_c = covariance(content_feat, weight)
    n, c = content_feat.shape[:2]
    std_c = (torch.diagonal(cov_c, dim1=1, dim2=2) + eps).sqrt()  # AdaIN's per-channel std, as calc_mean_std
    linear = torch.diag_embed((style.std.reshape(-1, c) / std_c).double()) * (1.0 - mix)
    if mix > 0:
        vals, vecs = _eig(cov_c, eps)
        whiten = vecs @ torch.diag_embed(vals.rsqrt()) @ vecs.transpose(1, 2)
        linear = linear + mix * (style.colour.double() @ whiten)  # type: ignore[union-attr]
    shift = alpha * (style.mean.reshape(-1, c, 1).double() - linear @ mean_c.reshape(n, c, 1).double())
    if alpha != 1.0:
        linear = alpha * linear + (1.0 - alpha) * torch.eye(c, dtype=torch.float64, device=linear.device)
    return linear.float(), shift.float().reshape(n, c, 1, 1)


@_exact
def apply_linear(feat: torch.Tensor, linear: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``linear @ x + shift`` at every pixel of ``feat`` (N, C, H, W); ``linear`` (N or 1, C, C), ``shift``
    (N or 1, C, 1, 1); in ``feat``'s dtype."""
    out = torch.einsum("ncd,ndhw->nchw", linear.to(torch.float32), feat.float()) + shift.float()
    return out.to(feat.dtype)


def wct_from_stats(content_feat: torch.Tensor, style: StyleStats, mix: float = 1.0, eps: float = EPS,
                   weight: torch.Tensor | None = None) -> torch.Tensor:
    """``mix * WCT(x) + (1 - mix) * AdaIN(x)`` with the style's statistics, in ``content_feat``'s dtype
    (:func:`wct_affine` applied)."""
    linear, shift = wct_affine(content_feat, style, mix, eps=eps, weight=weight)
    return apply_linear(content_feat, linear, shift)
