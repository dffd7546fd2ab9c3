"""A small CNN classifier trained by the zoo, used as the feature extractor of FID and KID.

Inception-v3's weights cannot be downloaded on the machines this project runs
on, so the metrics use features of a classifier trained here on the same
dataset (its penultimate layer, 128-d), as is common for MNIST-like data.
The classifier is published as its own Hub-repo folder with its test accuracy
(``cards/zoo/classifier-<dataset>/``).

Input: float images in [0, 1], (n, C, H, W); any H, W is resized to 32x32
(bilinear), so the 28 px vanilla-GAN output and 32 px data meet the same net.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from ..errors import DataError, WeightsNotFoundError

FEATURE_DIM = 128


class Classifier(nn.Module):
    """conv(32)x2 - pool - conv(64)x2 - pool - fc(128) - fc(classes), batch norm and ReLU."""

    def __init__(self, channels: int = 1, num_classes: int = 10, width: int = 32, feature_dim: int = FEATURE_DIM):
        super().__init__()
        self.channels, self.num_classes, self.width, self.feature_dim = channels, num_classes, width, feature_dim
        w = width

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(channels, w), *block(w, w), nn.MaxPool2d(2),
            *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),
            *block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(4 * w * 4, feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Linear(feature_dim, num_classes)

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True) if self.channels == 1 else x.expand(-1, self.channels, -1, -1)
        if x.shape[-2:] != (32, 32):
            x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=x.shape[-1] > 32)
        return (x - 0.5) / 0.5

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(n, feature_dim) penultimate activations of images in [0, 1]."""
        return self.fc(self.body(self._prep(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class FeatureExtractor(nn.Module):
    """The classifier's features, in the form torchmetrics' FID/KID take a custom extractor."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier = classifier.eval()
        self.num_features = classifier.feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.classifier.features(x).double()


def build(*, channels: int = 1, num_classes: int = 10, width: int = 32, feature_dim: int = FEATURE_DIM) -> Classifier:
    return Classifier(channels, num_classes, width, feature_dim)


@dataclass
class ClassifierResult:
    test_accuracy: float
    epochs: int
    wall_time_s: float
    config: dict[str, Any]


def train_classifier(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
    *, epochs: int = 2, batch_size: int = 128, lr: float = 1e-3, seed: int = 0, width: int = 32,
    log: Any = print,
) -> tuple[Classifier, ClassifierResult]:
    """Train on uint8 images (N, C, 32, 32) with Adam and light augmentation (random shifts of up to 2 px)."""
    torch.manual_seed(seed)
    model = build(channels=int(train_x.shape[1]), width=width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(train_x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr * 3, total_steps=steps)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    model.train()
    step = 0
    for epoch in range(epochs):
        perm = torch.randperm(len(train_x), generator=g)
        for i in range(len(train_x) // batch_size):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            x = train_x[idx].float() / 255
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
            x = torch.roll(x, shifts=(dx, dy), dims=(2, 3))
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 100 == 0:
                log(f"epoch {epoch} step {step}/{steps} loss {loss.item():.4f}")
    acc = accuracy(model, test_x, test_y)
    cfg = {"channels": int(train_x.shape[1]), "num_classes": 10, "width": width, "feature_dim": FEATURE_DIM}
    return model, ClassifierResult(acc, epochs, time.perf_counter() - t0, cfg)


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i : i + batch].float() / 255).argmax(1) == y[i : i + batch]).sum().item()
    return correct / len(x)


def save_classifier(model: Classifier, folder: Path, config: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def default_classifier_dir(dataset: str) -> Path:
    from ..config import embedded_path

    return embedded_path("cards") / "zoo" / f"classifier-{dataset}"


def load_classifier(folder: str | Path) -> Classifier:
    """The classifier saved in a Hub-repo folder (config.json + model.safetensors)."""
    folder = Path(folder)
    if not (folder / "model.safetensors").exists():
        raise WeightsNotFoundError(
            f"no classifier in {folder}: train one with `python -m zoo.metrics.train_classifier --dataset DATASET "
            f"--data DIR --out {folder}`"
        )
    from ..loading import load_folder

    # config.json goes through the classifier architecture's schema and the size bound ([limits]
    # parameters), on the meta device, before anything is allocated; the weights load as zoo.load's do
    model = load_folder(folder, architecture="classifier")
    if not isinstance(model, Classifier):
        raise WeightsNotFoundError(f"{folder} does not hold a zoo classifier")
    return model


def check_channels(model: Classifier, channels: int) -> None:
    if channels not in (1, model.channels):
        raise DataError(f"the classifier takes {model.channels}-channel images, the data has {channels}")
