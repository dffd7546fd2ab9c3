"""The host's image-classification evaluator: top-1 accuracy on a dataset's test split."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import DataError
from ..training.data import load_dataset, resolve_data_dir

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def evaluate_classifier(model: torch.nn.Module, job: Any) -> dict[str, Any]:
    """Top-1 accuracy of ``model`` (images in [0, 1] -> logits) on the test split of the model's dataset
    (all of it, or the first ``-n`` images); the protocol says the split and the count."""
    dataset = (job.dataset or "").lower().split("/")[-1].replace("_", "-")
    if dataset not in _TITLES:
        raise DataError(f"{job.name!r}: accuracy needs a known dataset ({sorted(_TITLES)}), got {job.dataset!r}: "
                        "pass --dataset")
    if job.data is None:
        raise DataError(f"accuracy needs the {_TITLES[dataset]} files: pass --data DIR")
    test = load_dataset(dataset, resolve_data_dir(job.data, dataset), "test")
    n = len(test) if not job.n_samples else min(int(job.n_samples), len(test))
    x, y = test.images[:n], test.labels[:n]
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, n, 1000):
            correct += int((model(x[i:i + 1000].float() / 255).argmax(1) == y[i:i + 1000]).sum())
    count = f"{n:,}".replace(",", ",")
    how = f"top-1 on the {count} {_TITLES[dataset]} test images" if n == len(test) else \
        f"top-1 on the first {count} {_TITLES[dataset]} test images"
    return {"accuracy": correct / n, "protocols": {"accuracy": how}, "protocol": how,
            "protocol_info": {"evaluator": "accuracy", "network": "the model itself", "reference": dataset,
                              "split": "test", "n_samples": n}}
