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

from .classifier import Classifier, FeatureExtractor


@dataclass(frozen=True)
class Protocol:
    n_samples: int = 10_000
    seed: int = 0
    reference_split: str = "test"
    baseline_split: str = "train"
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    batch_size: int = 500

    def describe(self, extractor: str) -> str:
        return (
            f"torchmetrics FID/KID on {extractor} features, {self.n_samples} samples (seed {self.seed}) vs "
            f"the {self.reference_split} split, KID {self.kid_subsets} subsets of {self.kid_subset_size}"
        )


def _metrics(extractor: FeatureExtractor, p: Protocol) -> tuple[Any, Any]:
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    fid = FrechetInceptionDistance(feature=extractor, normalize=True, reset_real_features=False)
    kid = KernelInceptionDistance(
        feature=extractor, normalize=True, reset_real_features=False,
        subsets=p.kid_subsets, subset_size=min(p.kid_subset_size, p.n_samples),
    )
    return fid, kid


def _feed(metrics: tuple[Any, Any], images: torch.Tensor, real: bool, batch: int) -> None:
    """images: uint8 (N, C, H, W) or float in [0, 1]."""
    for i in range(0, len(images), batch):
        x = images[i : i + batch]
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        for m in metrics:
            m.update(x, real=real)


def _compute(metrics: tuple[Any, Any], seed: int) -> dict[str, float]:
    fid, kid = metrics
    torch.manual_seed(seed)  # KID draws its subsets from the global RNG
    kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}


class Evaluator:
    """Reference features computed once; then generators (or image sets) scored against them."""

    def __init__(self, classifier: Classifier, reference: torch.Tensor, protocol: Protocol = Protocol(),
                 extractor_name: str = "classifier"):
        self.p = protocol
        self.extractor_name = extractor_name
        self.metrics = _metrics(FeatureExtractor(classifier), protocol)
        with torch.inference_mode(False), torch.no_grad():
            _feed(self.metrics, reference, True, protocol.batch_size)

    def score_images(self, images: torch.Tensor) -> dict[str, float]:
        for m in self.metrics:
            m.reset()  # keeps the reference (real) features
        with torch.no_grad():
            _feed(self.metrics, images, False, self.p.batch_size)
        return _compute(self.metrics, self.p.seed)

    def score_generator(self, G: torch.nn.Module) -> dict[str, float]:
        images = G.sample(self.p.n_samples, seed=self.p.seed)
        return self.score_images(images)

    def baseline(self, train_images: torch.Tensor) -> dict[str, float]:
        g = torch.Generator().manual_seed(self.p.seed)
        idx = torch.randperm(len(train_images), generator=g)[: self.p.n_samples]
        return self.score_images(train_images[idx])

    def protocol_dict(self) -> dict[str, Any]:
        return {**asdict(self.p), "extractor": self.extractor_name}
