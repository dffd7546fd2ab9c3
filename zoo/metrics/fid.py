"""FID and KID of a generator against a dataset's test split, with a real-vs-real baseline.

Both metrics are computed by torchmetrics (``FrechetInceptionDistance`` and
``KernelInceptionDistance``) with a custom feature extractor: the zoo's
classifier trained on the same dataset (see :mod:`zoo.metrics.classifier`).

Protocol (the defaults; every number in a card names it):
- reference: the dataset's test split (all 10,000 images, resized to 32x32);
- generated: ``n_samples`` images from ``G.sample(n, seed=seed)``;
- baseline: ``n_samples`` train images drawn with ``seed`` (real vs real: the
  floor a perfect generator reaches with this sample count);
- KID: 100 subsets of 1,000, polynomial kernel of degree 3 (torchmetrics' defaults).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from .classifier import Classifier, FeatureExtractor
from .features import Precomputed, cached_extract


@dataclass(frozen=True)
class Protocol:
    n_samples: int = 10_000
    seed: int = 0
    reference_split: str = "test"
    baseline_split: str = "train"
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    batch_size: int = 500
    n_reference: int | None = None  # None: the whole reference split; else that many drawn with the seed

    def describe(self, extractor: str) -> str:
        ref = f"the {self.reference_split} split" if self.n_reference is None else \
            f"{self.n_reference} images of the {self.reference_split} split (seed {self.seed})"
        return (
            f"torchmetrics FID/KID on {extractor} features, {self.n_samples} samples (seed {self.seed}) vs "
            f"{ref}, KID {self.kid_subsets} subsets of {min(self.kid_subset_size, self.n_samples)}"
        )


def _metrics(p: Protocol, num_features: int) -> tuple[Any, Any]:
    """torchmetrics' FID and KID, fed with features computed by :mod:`zoo.metrics.features`."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    feature = Precomputed(num_features)
    fid = FrechetInceptionDistance(feature=feature, reset_real_features=False)
    kid = KernelInceptionDistance(
        feature=feature, reset_real_features=False,
        subsets=p.kid_subsets, subset_size=min(p.kid_subset_size, p.n_samples),
    )
    return fid, kid


def _compute(metrics: tuple[Any, Any], seed: int) -> dict[str, float]:
    fid, kid = metrics
    torch.manual_seed(seed)  # KID draws its subsets from the global RNG
    kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}


def as_extractor(model: nn.Module) -> nn.Module:
    """A feature extractor (float images in [0, 1] -> (n, d)): a zoo classifier is wrapped."""
    if isinstance(model, Classifier):
        return FeatureExtractor(model)
    if not isinstance(getattr(model, "num_features", None), int):
        raise TypeError(f"{type(model).__name__} is not a feature extractor: it needs an int num_features")
    return model


class Evaluator:
    """Reference features computed once (or read from the feature cache); then generators,
    image sets or feature sets scored against them."""

    def __init__(self, extractor: nn.Module, reference: torch.Tensor, protocol: Protocol = Protocol(),
                 extractor_name: str = "classifier", reference_key: str | None = None, progress: bool | None = None):
        self.p = protocol
        self.extractor_name = extractor_name
        self.extractor = as_extractor(extractor).eval()
        self.progress = progress
        ref = cached_extract(reference_key, self.extractor, reference, batch_size=protocol.batch_size,
                             desc="reference features", progress=progress)
        self.metrics = _metrics(protocol, ref.shape[1])
        for m in self.metrics:
            m.update(ref, real=True)

    def features(self, images: torch.Tensor, desc: str = "features", key: str | None = None) -> torch.Tensor:
        return cached_extract(key, self.extractor, images, batch_size=self.p.batch_size, desc=desc,
                              progress=self.progress)

    def score_features(self, features: torch.Tensor) -> dict[str, float]:
        for m in self.metrics:
            m.reset()  # keeps the reference (real) features
            m.update(features, real=False)
        return _compute(self.metrics, self.p.seed)

    def score_images(self, images: torch.Tensor) -> dict[str, float]:
        return self.score_features(self.features(images))

    def score_generator(self, G: torch.nn.Module) -> dict[str, float]:
        images = G.sample(self.p.n_samples, seed=self.p.seed)
        return self.score_features(self.features(images, desc="generated samples"))

    def baseline(self, train_images: torch.Tensor, key: str | None = None) -> dict[str, float]:
        g = torch.Generator().manual_seed(self.p.seed)
        idx = torch.randperm(len(train_images), generator=g)[: self.p.n_samples]
        return self.score_features(self.features(train_images[idx], desc="baseline (train) features", key=key))

    def protocol_dict(self) -> dict[str, Any]:
        return {**asdict(self.p), "extractor": self.extractor_name}
