"""The published CIFAR-10 FID protocol: 50,000 samples against the statistics of the 50,000 training images.

This is how the numbers users compare with were measured (Heusel et al.'s TTUR code, pytorch-gan-collections,
StudioGAN's "train" statistics): the FID Inception's pool3 features, a Gaussian fitted to all 50,000
training images, another to 50,000 generated ones, and the Fréchet distance between the two.

The metric is stored under the key ``fid50k_train`` with its protocol beside it. The training set's
statistics (mean and covariance, 33 MB, not the 800 MB of features) are computed once per machine and kept
in the feature cache (zoo.metrics.features.cache_dir) under a key made of the dataset files' sha256, the
extractor's weights sha256, its precision and the batch size. Generated features are never kept: each batch
is folded into running sums (float64), so memory stays at the size of one batch.

The real-vs-real baseline of this protocol is the test split (10,000 real images) against the same training
statistics: about the floor a perfect generator would reach with 10k samples (with 50k it is lower still).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import DataError
from .features import cache_dir, cache_key, progress_bar

KEY = "fid50k_train"


def result_key(n_samples: int, precision: str) -> str:
    """The metric key of this computation: ``fid50k_train`` for the published protocol (50,000 samples, fp32);
    another sample count or precision gets its own (``fid12_train_bf16``), never the published one's."""
    count = f"{n_samples // 1000}k" if n_samples % 1000 == 0 else str(n_samples)
    return f"fid{count}_train" + ("" if precision == "fp32" else f"_{precision}")


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


def _extract_into(stats: GaussianStats, extractor: nn.Module, images: torch.Tensor, batch_size: int, desc: str,
                  progress: bool | None) -> None:
    bar = progress_bar(len(images), desc, progress)
    device = _device_of(extractor)
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = images[i : i + batch_size].to(device)
            x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
            stats.update(extractor(x))
            if bar is not None:
                bar.update(len(x))
    if bar is not None:
        bar.close()


def reference_statistics(extractor: nn.Module, images: torch.Tensor, *, key_parts: dict[str, Any], batch_size: int,
                         desc: str, progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, covariance) of ``images``' features, cached on disk under a key of ``key_parts``."""
    path = cache_dir() / f"stats-{cache_key(kind='gaussian', batch=batch_size, **key_parts)}.safetensors"
    if path.is_file():
        try:
            saved = load_file(str(path))
            if int(saved["n"].item()) == len(images):
                return saved["mu"], saved["cov"]
        except Exception:  # a truncated or foreign file: compute again
            pass
    stats = GaussianStats(int(extractor.num_features))
    _extract_into(stats, extractor, images, batch_size, desc, progress)
    mu, cov = stats.mean_cov()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    save_file({"mu": mu.contiguous(), "cov": cov.contiguous(), "n": torch.tensor(stats.n)}, str(tmp))
    os.replace(tmp, path)
    return mu, cov


def generator_statistics(G: nn.Module, extractor: nn.Module, p: PublishedProtocol,
                         progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Statistics of ``p.n_samples`` images of ``G``: the same images as ``G.sample(n, seed=seed)`` (sampled
    batch by batch through the generator's own batching, then fed to the extractor)."""
    stats = GaussianStats(int(extractor.num_features))
    images = G.sample(p.n_samples, seed=p.seed, device=_device_of(G))
    _extract_into(stats, extractor, images, p.batch_size, "generated samples", progress)
    return stats.mean_cov()


def evaluate_fid50k_train(G: nn.Module, dataset: str, data: str | Path, p: PublishedProtocol = PublishedProtocol(),
                          precision: str = "fp32", with_baseline: bool = True,
                          progress: bool | None = None, device: str = "cpu") -> dict[str, Any]:
    """``fid50k_train`` of ``G`` and (``with_baseline``) the test split against the same statistics.

    ``device``: where the generator and the Inception run (on CUDA in fp32, TF32 is switched off so that
    the figure is a float32 one)."""
    from ..machine import resolve_precision
    from ..training.data import load_dataset, resolve_data_dir
    from .evaluate import inception_extractor

    if dataset != "cifar10":
        raise DataError(f"the published 50k-vs-train protocol is CIFAR-10's (Inception features); {dataset!r} "
                        "is evaluated with `zoo eval` without --protocol")
    root = resolve_data_dir(data, dataset)
    train = load_dataset(dataset, root, "train")
    model, name, digest = inception_extractor(precision)
    prec = resolve_precision(precision, device)
    if device != "cpu":
        if device.startswith("cuda") and prec == "fp32":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        model = model.to(device)
        G = G.to(device)
    # the device is part of the key: a GPU's and a CPU's float32 convolutions round differently
    parts = dict(extractor=digest, precision=prec, files=train.files, split="train", n=len(train),
                 device=torch.device(device).type)
    t0 = time.perf_counter()
    mu_t, cov_t = reference_statistics(model, train.images, key_parts=parts, batch_size=p.batch_size,
                                       desc="train statistics (once per machine)", progress=progress)
    key = result_key(p.n_samples, prec)
    out: dict[str, Any] = {}
    mu_g, cov_g = generator_statistics(G, model, p, progress)
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
    out[f"{key}_seconds"] = round(time.perf_counter() - t0, 1)
    return out
