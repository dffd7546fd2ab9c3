"""Feature extraction for FID/KID: batched, with a progress bar, and a cache of reference features.

An extractor is a ``torch.nn.Module`` taking float images in [0, 1]
(n, C, H, W) and returning (n, d) features, with ``num_features = d``. The
reference split's features depend only on the extractor, its precision, the
dataset's files and which images were drawn, so they are computed once and
kept in ``$ZOO_FEATURE_CACHE`` (default ``$XDG_CACHE_HOME/zoo/features``, else
``~/.cache/zoo/features``) under a key made of exactly those.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn


def cache_dir() -> Path:
    if os.environ.get("ZOO_FEATURE_CACHE"):
        return Path(os.path.expanduser(os.environ["ZOO_FEATURE_CACHE"]))
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zoo" / "features"


def cache_key(**parts: Any) -> str:
    """A file-name-safe digest of what the features depend on."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def weights_digest(module: nn.Module) -> str:
    """sha256 over a module's state (names, dtypes, shapes and bytes, in order): which weights made the samples."""
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def progress_bar(total: int, desc: str, progress: bool | None = None) -> Any:
    """A tqdm bar on stderr updated after every batch, also for a job of one batch (``progress=False``: None).
    Redrawn on a terminal; into a log file a line every 30 s."""
    if progress is False or total <= 0:
        return None
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit="img", file=sys.stderr, leave=not tty, mininterval=0.5 if tty else 30,
                ascii=not tty)


def extract(extractor: nn.Module, images: torch.Tensor, *, batch_size: int = 200, desc: str = "features",
            progress: bool | None = None) -> torch.Tensor:
    """(n, d) float64 features of ``images`` (uint8, or float in [0, 1]), batch by batch.

    A progress bar with an ETA goes to stderr, updated after every batch (``progress=False`` turns it off):
    redrawn on a terminal, a line every 30 s into a log file.
    """
    n = len(images)
    bar = progress_bar(n, desc, progress)
    out = []
    with torch.inference_mode():
        for i in range(0, n, batch_size):
            x = images[i : i + batch_size]
            x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
            out.append(extractor(x).double())
            if bar is not None:
                bar.update(len(x))
    if bar is not None:
        bar.close()
    return torch.cat(out) if out else torch.zeros(0, getattr(extractor, "num_features", 0), dtype=torch.float64)


def cached_extract(key: str | None, extractor: nn.Module, images: torch.Tensor, **kw: Any) -> torch.Tensor:
    """:func:`extract`, kept on disk under ``key`` (None: no cache)."""
    if key is None:
        return extract(extractor, images, **kw)
    path = cache_dir() / f"{key}.safetensors"
    if path.is_file():
        try:
            feats = load_file(str(path))["features"]
            if len(feats) == len(images):
                return feats
        except Exception:  # a truncated or foreign file: compute again
            pass
    feats = extract(extractor, images, **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file({"features": feats.contiguous()}, str(tmp))
    os.replace(tmp, path)
    return feats


class Precomputed(nn.Module):
    """Hands features through unchanged: lets torchmetrics' FID/KID take features computed here."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
