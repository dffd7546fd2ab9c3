"""What a metric's name says: which way is better, and which keys are baselines.

A Weights record's ``metrics`` holds headline numbers (``fid``, ``accuracy``)
and their baselines under ``<metric>_real_baseline`` (or ``<metric>_baseline``):
the score of real data against real data, the floor a perfect model reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

Direction = Literal["lower", "higher"]

# exact names first; then the suffix/word rules below
_KNOWN: dict[str, Direction] = {
    "fid": "lower",
    "kid": "lower",
    "is": "higher",
    "inception_score": "higher",
    "precision": "higher",
    "recall": "higher",
    "density": "higher",
    "coverage": "higher",
    "accuracy": "higher",
    "top1": "higher",
    "top5": "higher",
    "f1": "higher",
    "auc": "higher",
    "psnr": "higher",
    "ssim": "higher",
    "lpips": "lower",
    "mse": "lower",
    "mae": "lower",
    "rmse": "lower",
    "nll": "lower",
    "bpd": "lower",
    "loss": "lower",
    "error": "lower",
}
# words inside a longer name (``test_mse``, ``ssim_to_content``, ``style_loss_judge``)
_HIGHER_WORDS = ("accuracy", "ssim", "psnr", "explained_variance", "precision", "recall", "coverage", "score")
_LOWER_WORDS = ("fid", "kid", "loss", "mse", "mae", "error", "l1", "l2", "lpips", "distance", "difference", "nll")

BASELINE_SUFFIXES = ("_real_baseline", "_baseline")

_LABELS = {"fid": "FID", "kid": "KID", "is": "IS", "psnr": "PSNR", "ssim": "SSIM", "mse": "MSE", "lpips": "LPIPS"}


def direction(metric: str) -> Direction | None:
    """``"lower"`` or ``"higher"`` is better, or None when the name does not say."""
    key = metric.lower()
    if key in _KNOWN:
        return _KNOWN[key]
    # a sample count after a metric's name stays that metric (fid50k_train, kid10k): "fid50k" is "fid"
    words = [re.sub(r"^(fid|kid|is)\d+k?$", r"\1", w) for w in key.replace("-", "_").split("_")]
    for word in _HIGHER_WORDS:
        if word in key and (word in words or "_" in word):
            return "higher"
    for word in _LOWER_WORDS:
        if word in words:
            return "lower"
    return None


def baseline_of(key: str) -> str | None:
    """The metric that ``key`` is the baseline of (``fid_real_baseline`` -> ``fid``), else None."""
    for suffix in BASELINE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return None


def split(metrics: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(headline metrics, baseline of each headline metric that has one)."""
    headline: dict[str, float] = {}
    baselines: dict[str, float] = {}
    for key, value in metrics.items():
        of = baseline_of(key)
        if of is not None:
            baselines.setdefault(of, float(value))
        else:
            headline[key] = float(value)
    return headline, {k: v for k, v in baselines.items() if k in headline}


def label(metric: str) -> str:
    """How a metric is named for people: ``fid`` -> ``FID``, ``test_mse`` -> ``test mse``."""
    return _LABELS.get(metric.lower(), metric.replace("_", " "))


def fmt(value: float | None) -> str:
    """A metric value to four significant digits (``20.74``, ``0.9933``, ``-0.0033``)."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.4g}"
