"""The AdaIN operation and a style's statistics: a leaf that the model and ``stylize`` both use.

Adaptive instance normalisation (Huang and Belongie 2017, eq. 8): the content features
normalised per channel, then scaled and shifted to the style's mean and std. Re-exported by
:mod:`zoo_adain.model`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
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
    """A style's statistics at the AdaIN layer: mean and std, each (N, C, 1, 1) float32.

    Compute once with :meth:`AdaIN.style_stats` and pass as ``style`` to reuse.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    @staticmethod
    def mix(stats: Sequence[StyleStats], weights: Sequence[float]) -> StyleStats:
        """Weighted mix: equal to the weighted sum of the AdaIN outputs (weights sum to 1)."""
        mean = sum(w * s.mean for s, w in zip(stats, weights))
        std = sum(w * s.std for s, w in zip(stats, weights))
        return StyleStats(mean, std)  # type: ignore[arg-type]
