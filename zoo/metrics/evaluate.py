"""`zoo eval`: recompute a generator's FID/KID (and the real-vs-real baseline) by the stated protocol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..errors import DataError, WeightsNotFoundError
from ..training.data import ImageData, load_dataset, resolve_data_dir
from .classifier import default_classifier_dir, load_classifier
from .fid import Evaluator, Protocol


def load_generator_folder(folder: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The generator of a Hub-repo folder written by `zoo train` (config.json + model.safetensors)."""
    from ..loading import _build, load_state
    from ..training.run import get_architecture

    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.exists() or not (folder / "model.safetensors").exists():
        raise WeightsNotFoundError(f"{folder} has no config.json and model.safetensors: give a folder written by `zoo train`")
    cfg = json.loads(cfg_path.read_text())
    arch = get_architecture(cfg["architecture"])
    with torch.device("meta"):
        G = _build(arch, dict(cfg["config"]))
    load_state(G, str(folder / "model.safetensors"), name=str(folder))
    return G.eval(), cfg


def make_evaluator(dataset: str, data: str | Path, protocol: Protocol, classifier_dir: str | Path | None = None
                   ) -> tuple[Evaluator, torch.Tensor]:
    root = resolve_data_dir(data, dataset)
    ref = load_dataset(dataset, root, protocol.reference_split).resized(32)
    base = load_dataset(dataset, root, protocol.baseline_split)
    # the baseline's real images: n_samples drawn with the protocol's seed (resized after drawing: cheaper)
    g = torch.Generator().manual_seed(protocol.seed)
    idx = torch.randperm(len(base), generator=g)[: protocol.n_samples]
    base = ImageData(base.name, base.split, base.images[idx], base.labels[idx], base.files).resized(32)
    cdir = Path(classifier_dir) if classifier_dir else default_classifier_dir(dataset)
    clf = load_classifier(cdir)
    acc = json.loads((cdir / "config.json").read_text()).get("test_accuracy")
    name = f"zoo classifier.{dataset} (penultimate layer, 128-d; test accuracy {acc * 100:.2f}%)" if acc else str(cdir)
    return Evaluator(clf, ref.images, protocol, name), base.images


def evaluate_generator(G: torch.nn.Module, dataset: str, data: str | Path, protocol: Protocol = Protocol(),
                       classifier_dir: str | Path | None = None, with_baseline: bool = True) -> dict[str, Any]:
    """FID, KID (mean and std) of ``G`` and, with ``with_baseline``, of train vs test."""
    ev, train_images = make_evaluator(dataset, data, protocol, classifier_dir)
    out: dict[str, Any] = dict(ev.score_generator(G))
    if with_baseline:
        b = ev.baseline(train_images)
        out.update({f"{k}_real_baseline": v for k, v in b.items()})
    out["n_samples"] = protocol.n_samples
    out["reference_split"] = protocol.reference_split
    out["extractor"] = ev.extractor_name
    out["protocol"] = protocol.describe(ev.extractor_name)
    return out


def update_folder(folder: str | Path, metrics: dict[str, Any]) -> None:
    """Store ``metrics`` in the folder's config.json and re-render its README.md card."""
    from ..training.export import render_card

    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["metrics"] = metrics
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (folder / "README.md").write_text(render_card(cfg))


def compare(expected: dict[str, Any], measured: dict[str, Any], rel_tol: float = 0.05) -> list[str]:
    """Differences between a card's metrics and a fresh measurement beyond ``rel_tol`` (FID) / 3 std (KID)."""
    problems = []
    for key in ("fid", "fid_real_baseline"):
        if key in expected and key in measured:
            e, m = float(expected[key]), float(measured[key])
            if abs(e - m) > rel_tol * max(abs(e), 1e-9):
                problems.append(f"{key}: card {e:.4g}, measured {m:.4g}")
    for key in ("kid", "kid_real_baseline"):
        if key in expected and key in measured:
            e, m = float(expected[key]), float(measured[key])
            std = float(measured.get(key.replace("kid", "kid_std"), 0.0) or 0.0)
            if abs(e - m) > max(3 * std, rel_tol * abs(e), 1e-6):
                problems.append(f"{key}: card {e:.4g}, measured {m:.4g} (std {std:.2g})")
    return problems


def dataset_of(config: dict[str, Any]) -> str:
    ds = config.get("dataset")
    if not ds:
        raise DataError("the folder's config.json names no dataset: pass --dataset")
    return str(ds)
