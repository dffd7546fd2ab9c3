"""The published CIFAR-10 FID protocol: 50,000 samples against the statistics of the 50,000 training images.

This is how the numbers users compare with were measured (Heusel et al.'s TTUR code, pytorch-gan-collections,
StudioGAN's "train" statistics): the FID Inception's pool3 features, a Gaussian fitted to all 50,000
training images, another to 50,000 generated ones, and the Fréchet distance between the two.

The metric is stored under the key ``fid50k_train`` with its protocol beside it. The training set's
statistics (mean and covariance, 33 MB, not the 800 MB of features) are computed once per machine and kept
in the feature cache (zoo.metrics.features.cache_dir) under a key made of the dataset files' sha256, the
extractor's weights sha256, its precision and the batch size. Generated features are never kept: each batch
is folded into running sums (float64), so memory stays at the size of one batch; the generated statistics
are kept under a key of the generator's weights (their sha256), the seed and the sample count.

Both are resumable: on a CPU the 100,000 Inception passes take hours, so every ``checkpoint_every`` images
(default 2,000; ``$ZOO_STATS_CHECKPOINT``) the running sums go to a ``.partial`` file beside the final one,
and a run that was stopped goes on from there (same key: same images, same extractor, same batches). The
sums are order-free float64, so a resumed figure equals an unbroken one to rounding.

The real-vs-real baseline of this protocol is the test split (10,000 real images) against the same training
statistics: about the floor a perfect generator would reach with 10k samples (with 50k it is lower still).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import DataError
from .features import cache_dir, cache_key, progress_bar, weights_digest

KEY = "fid50k_train"


# Precisions whose FID under this protocol was checked against fp32's: bf16 moved dcgan.cifar10's FID by
# 0.04% at 10,000 samples (32.396 against 32.382; the bound set was 0.5%; docs/training.md, "bf16 against
# fp32"). A figure in either is the protocol's figure; its precision is stored beside it (``*_precision``).
CHECKED_PRECISIONS = ("fp32", "bf16")


def result_key(n_samples: int, precision: str) -> str:
    """The metric key of this computation: ``fid50k_train`` for the published protocol (50,000 samples, in a
    checked precision); another sample count gets its own (``fid12_train``), never the published one's, and so
    would a precision that was never checked against fp32 (``fid50k_train_fp16``)."""
    count = f"{n_samples // 1000}k" if n_samples % 1000 == 0 else str(n_samples)
    return f"fid{count}_train" + ("" if precision in CHECKED_PRECISIONS else f"_{precision}")


def is_result_key(key: str) -> bool:
    """Whether a metrics key belongs to a figure of this protocol (``fid50k_train``, ``fid12_train``,
    ``fid50k_train_fp16``) or to what is stored beside one (``fid50k_train_real_baseline``, ``..._command``)."""
    return re.fullmatch(r"fid[0-9]+k?_train(_\w+)?", key) is not None


def replace_folder_metrics(folder: str | Path, metrics: dict[str, Any]) -> None:
    """Store a 10k-vs-test evaluation's ``metrics`` in place of the folder's, keeping this protocol's figures
    (``fid50k_train`` and what is stored beside it), which that evaluation does not measure."""
    from .evaluate import update_folder

    cfg = json.loads((Path(folder) / "config.json").read_text())
    kept = {k: v for k, v in (cfg.get("metrics") or {}).items() if is_result_key(k)}
    update_folder(folder, {**kept, **metrics})


@dataclass(frozen=True)
class PublishedProtocol:
    """FID of ``n_samples`` generated images (seed ``seed``) against all training images."""

    n_samples: int = 50_000
    seed: int = 0
    batch_size: int = 250

    def describe(self, extractor: str) -> str:
        return (f"FID of {self.n_samples} samples (seed {self.seed}) against the statistics of the whole train "
                f"split (the published protocol), on {extractor} features")


class GaussianStats:
    """Running mean and covariance of feature batches (float64 sums; one batch in memory at a time)."""

    def __init__(self, dim: int):
        self.n = 0
        self.sum = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)

    def update(self, feats: torch.Tensor) -> None:
        f = feats.detach().to("cpu", torch.float64)
        self.n += len(f)
        self.sum += f.sum(0)
        self.outer += f.T @ f

    def tensors(self) -> dict[str, torch.Tensor]:
        """The running sums, to save (``from_tensors`` reads them back)."""
        return {"sum": self.sum.contiguous(), "outer": self.outer.contiguous(), "n": torch.tensor(self.n)}

    @classmethod
    def from_tensors(cls, t: dict[str, torch.Tensor]) -> GaussianStats:
        stats = cls(int(t["sum"].shape[0]))
        stats.sum, stats.outer, stats.n = t["sum"].double(), t["outer"].double(), int(t["n"].item())
        return stats

    def mean_cov(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.n < 2:
            raise DataError(f"a covariance needs at least 2 images, got {self.n}")
        mu = self.sum / self.n
        cov = (self.outer - self.n * torch.outer(mu, mu)) / (self.n - 1)
        return mu, cov


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^1/2), the trace of the square root from the eigenvalues of
    C1 C2 (real and non-negative for two covariance matrices; rounding's tiny imaginary parts dropped)."""
    diff = (mu1 - mu2).double()
    eig = torch.linalg.eigvals(cov1.double() @ cov2.double())
    tr_sqrt = eig.sqrt().real.sum()
    return float(diff.dot(diff) + torch.trace(cov1.double()) + torch.trace(cov2.double()) - 2 * tr_sqrt)


def _device_of(module: nn.Module) -> torch.device:
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def checkpoint_every_default() -> int:
    raw = os.environ.get("ZOO_STATS_CHECKPOINT", "2000")
    try:
        value = int(raw)
    except ValueError:
        raise DataError(f"ZOO_STATS_CHECKPOINT={raw!r}: give a number of images (0: no partial files)") from None
    return max(0, value)


def _partial_path(path: Path) -> Path:
    return path.with_name(path.stem + ".partial.safetensors")


def _resume_point(partial: Path, dim: int, total: int, batch_size: int) -> GaussianStats | None:
    """The saved running sums of an interrupted computation, if they fit this one (else None: start over)."""
    if not partial.is_file():
        return None
    try:
        stats = GaussianStats.from_tensors(load_file(str(partial)))
    except Exception:  # a truncated or foreign file
        return None
    if stats.sum.shape != (dim,) or not 0 < stats.n < total or stats.n % batch_size:
        return None
    return stats


def _cached(path: Path | None, n: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(mean, covariance) kept at ``path`` for ``n`` images, or None (no file, another count, a bad file)."""
    if path is None or not path.is_file():
        return None
    try:
        saved = load_file(str(path))
        if int(saved["n"].item()) == n:
            return saved["mu"], saved["cov"]
    except Exception:  # a truncated or foreign file: compute again
        pass
    return None


def streamed_statistics(extractor: nn.Module, images: torch.Tensor, path: Path | None, *, batch_size: int, desc: str,
                        progress: bool | None = None, checkpoint_every: int | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance) of ``images``' features, kept at ``path`` (read back when it is there), computed
    batch by batch with the running sums saved to ``path``'s ``.partial`` file every ``checkpoint_every``
    images, from which an interrupted call resumes. ``path`` None: nothing is read or kept."""
    saved = _cached(path, len(images))
    if saved is not None:
        return saved
    every = checkpoint_every_default() if checkpoint_every is None else checkpoint_every
    partial = _partial_path(path) if path is not None else None
    dim = int(extractor.num_features)
    stats = (_resume_point(partial, dim, len(images), batch_size) if partial else None) or GaussianStats(dim)
    if stats.n:
        print(f"{desc}: resuming at {stats.n}/{len(images)} images from {partial}", file=sys.stderr)
    bar = progress_bar(len(images), desc, progress)
    if bar is not None and stats.n:
        bar.update(stats.n)
    device = _device_of(extractor)
    last_saved = stats.n
    with torch.inference_mode():
        for i in range(stats.n, len(images), batch_size):
            x = images[i : i + batch_size].to(device)
            x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
            stats.update(extractor(x))
            if bar is not None:
                bar.update(len(x))
            if partial and every and stats.n - last_saved >= every and stats.n < len(images):
                _atomic_save(stats.tensors(), partial)
                last_saved = stats.n
    if bar is not None:
        bar.close()
    mu, cov = stats.mean_cov()
    if path is not None and partial is not None:
        _atomic_save({"mu": mu.contiguous(), "cov": cov.contiguous(), "n": torch.tensor(stats.n)}, path)
        partial.unlink(missing_ok=True)
    return mu, cov


def reference_statistics(extractor: nn.Module, images: torch.Tensor, *, key_parts: dict[str, Any], batch_size: int,
                         desc: str, progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance) of ``images``' features, cached on disk under a key of ``key_parts`` (resumable)."""
    path = cache_dir() / f"stats-{cache_key(kind='gaussian', batch=batch_size, **key_parts)}.safetensors"
    return streamed_statistics(extractor, images, path, batch_size=batch_size, desc=desc, progress=progress)


def generator_statistics(G: nn.Module, extractor: nn.Module, p: PublishedProtocol, progress: bool | None = None,
                         key_parts: dict[str, Any] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Statistics of ``p.n_samples`` images of ``G``: the same images as ``G.sample(n, seed=seed)`` (sampled
    batch by batch through the generator's own batching, then fed to the extractor). With ``key_parts`` (the
    extractor's), kept and resumable under a key of the generator's weights, the seed and the count."""
    if key_parts is None:
        images = G.sample(p.n_samples, seed=p.seed, device=_device_of(G))
        return streamed_statistics(extractor, images, None, batch_size=p.batch_size, desc="generated samples",
                                   progress=progress)
    parts = {**key_parts, "generator": weights_digest(G), "seed": p.seed, "n": p.n_samples, "split": "generated"}
    path = cache_dir() / f"stats-{cache_key(kind='gaussian', batch=p.batch_size, **parts)}.safetensors"
    saved = _cached(path, p.n_samples)
    if saved is not None:  # kept: the samples are not even drawn
        return saved
    images = G.sample(p.n_samples, seed=p.seed, device=_device_of(G))
    return streamed_statistics(extractor, images, path, batch_size=p.batch_size, desc="generated samples",
                               progress=progress)


def _extractor_on(G: nn.Module, precision: str, device: str
                  ) -> tuple[nn.Module, str, str, dict[str, Any], nn.Module]:
    """The Inception and its description, the resolved precision, the extractor's part of every cache key
    (its weights' sha256, the precision and the device type: a GPU's and a CPU's float32 convolutions round
    differently) and ``G``, on ``device``."""
    from ..machine import resolve_precision
    from .evaluate import inception_extractor

    model, name, digest = inception_extractor(precision)
    prec = resolve_precision(precision, device)
    if device != "cpu":
        if device.startswith("cuda") and prec == "fp32":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        model = model.to(device)
        G = G.to(device)
    return model, name, prec, dict(extractor=digest, precision=prec, device=torch.device(device).type), G


def cache_generator_statistics(G: nn.Module, p: PublishedProtocol = PublishedProtocol(), precision: str = "fp32",
                               progress: bool | None = None, device: str = "cpu") -> dict[str, Any]:
    """The generated half of ``fid50k_train`` alone: ``p.n_samples`` samples' statistics, kept in the feature
    cache under the key that :func:`evaluate_fid50k_train` reads. It needs no training images, so the
    generation can run beside the once-per-machine train statistics (another core, another process); the
    later full evaluation then pays only for what is not cached. Returns what was computed."""
    model, _name, prec, ext, G = _extractor_on(G, precision, device)
    t0 = time.perf_counter()
    generator_statistics(G, model, p, progress, key_parts=ext)
    return {"n_samples": p.n_samples, "seed": p.seed, "precision": prec, "device": ext["device"],
            "seconds": round(time.perf_counter() - t0, 1)}


def evaluate_fid50k_train(G: nn.Module, dataset: str, data: str | Path, p: PublishedProtocol = PublishedProtocol(),
                          precision: str = "fp32", with_baseline: bool = True,
                          progress: bool | None = None, device: str = "cpu") -> dict[str, Any]:
    """``fid50k_train`` of ``G`` and (``with_baseline``) the test split against the same statistics.

    ``device``: where the generator and the Inception run (on CUDA in fp32, TF32 is switched off so that
    the figure is a float32 one)."""
    from ..training.data import load_dataset, resolve_data_dir

    if dataset != "cifar10":
        raise DataError(f"the published 50k-vs-train protocol is CIFAR-10's (Inception features); {dataset!r} "
                        "is evaluated with `zoo eval` without --protocol")
    root = resolve_data_dir(data, dataset)
    train = load_dataset(dataset, root, "train")
    model, name, prec, ext, G = _extractor_on(G, precision, device)
    parts = dict(ext, files=train.files, split="train", n=len(train))
    t0 = time.perf_counter()
    mu_t, cov_t = reference_statistics(model, train.images, key_parts=parts, batch_size=p.batch_size,
                                       desc="train statistics (once per machine)", progress=progress)
    key = result_key(p.n_samples, prec)
    out: dict[str, Any] = {}
    mu_g, cov_g = generator_statistics(G, model, p, progress, key_parts=ext)
    out[key] = frechet_distance(mu_g, cov_g, mu_t, cov_t)
    if with_baseline:
        test = load_dataset(dataset, root, "test")
        mu_r, cov_r = reference_statistics(model, test.images, key_parts={**parts, "split": "test", "n": len(test)},
                                           batch_size=p.batch_size, desc="test statistics", progress=progress)
        out[f"{key}_real_baseline"] = frechet_distance(mu_r, cov_r, mu_t, cov_t)
    out[f"{key}_n_samples"] = p.n_samples
    out[f"{key}_n_train"] = len(train)
    out[f"{key}_precision"] = prec
    out[f"{key}_device"] = torch.device(device).type
    out[f"{key}_protocol"] = p.describe(name) + (
        "; real-vs-real baseline: the whole test split against the same statistics" if with_baseline else "")
    # wall time of this run: the whole computation only when no statistics came from the cache
    out[f"{key}_seconds"] = round(time.perf_counter() - t0, 1)
    return out
