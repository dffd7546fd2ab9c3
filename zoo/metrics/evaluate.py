"""`zoo eval`: recompute a generator's FID/KID (and the real-vs-real baseline) by the stated protocol."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from ..errors import DataError
from ..machine import resolve_precision
from ..training.data import ImageData, load_dataset, resolve_data_dir
from .classifier import default_classifier_dir, load_classifier
from .features import cache_dir, cache_key, weights_digest
from .fid import Evaluator, Protocol


def load_generator_folder(folder: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The generator of a Hub-repo folder written by `zoo train` (config.json + model.safetensors) and its
    config.json, loaded by zoo.loading.load_folder (the schema, the size bound, the weights' checks)."""
    from ..loading import load_folder

    G = load_folder(folder)
    return G, dict(G.zoo_source.meta)


EXTRACTORS = ("inception", "classifier")


def default_extractor(dataset: str) -> str:
    """The standard FID Inception for colour datasets; the zoo's classifier for MNIST-like grey ones."""
    return "inception" if dataset == "cifar10" else "classifier"


def inception_extractor(precision: str = "fp32") -> tuple[torch.nn.Module, str, str]:
    """The FID Inception (zoo model inception.fid), its description and its weights' sha256."""
    import zoo

    precision = resolve_precision(precision)
    model = zoo.load("inception.fid")
    if precision == "bf16":
        model = model.to(memory_format=torch.channels_last)
    model.precision = precision
    w = zoo.model_info("inception.fid").weights
    name = (f"zoo inception.fid (TF 2015-12-05 Inception-v3 pool3, 2048-d, torch-fidelity's layout; "
            f"uint8 input as torchmetrics' normalize=True, TF1 bilinear resize to 299; {precision})")
    return model, name, w.sha256 if w else "?"


def classifier_extractor(dataset: str, classifier_dir: str | Path | None) -> tuple[torch.nn.Module, str, str]:
    from ..repos.hub import sha256_file

    cdir = Path(classifier_dir) if classifier_dir else default_classifier_dir(dataset)
    clf = load_classifier(cdir)
    acc = json.loads((cdir / "config.json").read_text()).get("test_accuracy")
    name = f"zoo classifier.{dataset} (penultimate layer, 128-d; test accuracy {acc * 100:.2f}%)" if acc else str(cdir)
    return clf, name, sha256_file(cdir / "model.safetensors")


def make_evaluator(dataset: str, data: str | Path, protocol: Protocol, classifier_dir: str | Path | None = None,
                   extractor: str | None = None, precision: str = "auto", progress: bool | None = None
                   ) -> tuple[Evaluator, torch.Tensor, str | None]:
    """The evaluator with the reference split's features, the baseline's train images and their cache key."""
    kind = extractor or ("classifier" if classifier_dir else default_extractor(dataset))
    if kind not in EXTRACTORS:
        raise DataError(f"unknown feature extractor {kind!r}: use one of {list(EXTRACTORS)}")
    root = resolve_data_dir(data, dataset)
    ref = load_dataset(dataset, root, protocol.reference_split)
    if protocol.n_reference is not None:
        g = torch.Generator().manual_seed(protocol.seed)
        keep = torch.randperm(len(ref), generator=g)[: protocol.n_reference]
        ref = ImageData(ref.name, ref.split, ref.images[keep], ref.labels[keep], ref.files, ref.note)
    base = load_dataset(dataset, root, protocol.baseline_split)
    if kind == "inception":
        model, name, digest = inception_extractor(precision)
        size = None  # the network resizes to 299 itself, from the data's own pixels
    else:
        model, name, digest = classifier_extractor(dataset, classifier_dir)
        size = 32
    if size is not None:
        ref = ref.resized(size)
    # the baseline's real images: n_samples drawn with the protocol's seed (resized after drawing: cheaper)
    g = torch.Generator().manual_seed(protocol.seed)
    idx = torch.randperm(len(base), generator=g)[: protocol.n_samples]
    base_images = base.images[idx]
    base = ImageData(base.name, base.split, base_images, base.labels[idx], base.files)
    if size is not None:
        base = base.resized(size)
    common = dict(extractor=digest, precision=resolve_precision(precision) if kind == "inception" else "fp32", size=size,
                  files=ref.files, batch=protocol.batch_size)
    ref_key = cache_key(split=protocol.reference_split, n=len(ref), drawn=protocol.n_reference is not None,
                        seed=protocol.seed, **common)
    base_key = cache_key(split=protocol.baseline_split, n=protocol.n_samples, seed=protocol.seed, **common)
    ev = Evaluator(model, ref.images, protocol, name, reference_key=ref_key, progress=progress)
    return ev, base.images, base_key


def evaluate_generator(G: torch.nn.Module, dataset: str, data: str | Path, protocol: Protocol = Protocol(),
                       classifier_dir: str | Path | None = None, with_baseline: bool = True,
                       extractor: str | None = None, precision: str = "auto",
                       progress: bool | None = None) -> dict[str, Any]:
    """FID, KID (mean and std) of ``G`` and, with ``with_baseline``, of train vs test."""
    ev, train_images, base_key = make_evaluator(dataset, data, protocol, classifier_dir, extractor, precision, progress)
    out: dict[str, Any] = dict(cached_scores(ev, G, protocol, base_key))
    if with_baseline:
        b = ev.baseline(train_images, key=base_key)
        out.update({f"{k}_real_baseline": v for k, v in b.items()})
    out["n_samples"] = protocol.n_samples
    out["reference_split"] = protocol.reference_split
    out["extractor"] = ev.extractor_name
    out["protocol"] = protocol.describe(ev.extractor_name)
    return out


def cached_scores(ev: Evaluator, G: torch.nn.Module, protocol: Protocol, base_key: str) -> dict[str, float]:
    """``ev.score_generator(G)``, kept in the feature cache as JSON under a key of the generator's weights, the
    protocol and the reference's key parts (those of ``base_key``): `zoo eval NAME` then `zoo eval NAME --write`
    samples and extracts once. A file that cannot be read is computed again."""
    key = cache_key(generator=weights_digest(G), protocol=asdict(protocol), base=base_key, extractor=ev.extractor_name)
    path = cache_dir() / f"scores-{key}.json"
    try:
        return {k: float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        pass
    scores = dict(ev.score_generator(G))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(scores))
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs the next evaluation its time
    return scores


def update_folder(folder: str | Path, metrics: dict[str, Any]) -> None:
    """Store ``metrics`` in the folder's config.json and re-write its README.md card (zoo.card_writer)."""
    from ..cards.writer import write
    from ..training.export import card_content

    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["metrics"] = metrics
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    write(card_content(cfg), folder)


def merge_folder_metrics(folder: str | Path, metrics: dict[str, Any]) -> None:
    """Add ``metrics`` to those the folder's config.json has (another protocol's figures are kept)."""
    cfg = json.loads((Path(folder) / "config.json").read_text())
    update_folder(folder, {**(cfg.get("metrics") or {}), **metrics})


def protocol_mismatch(expected: dict[str, Any], measured: dict[str, Any]) -> str:
    """Why a card's FID/KID and a fresh measurement are not comparable ("" when they are): a different sample
    count, reference split or feature network changes the figure by more than noise."""
    reasons = []
    for key, what in (("n_samples", "samples"), ("reference_split", "reference split")):
        if key in expected and key in measured and expected[key] != measured[key]:
            reasons.append(f"the card's figures use {expected[key]} {what}, this run {measured[key]}")
    e_ext, m_ext = str(expected.get("extractor", "")), str(measured.get("extractor", ""))
    if e_ext and m_ext and e_ext.split(" (")[0] != m_ext.split(" (")[0]:
        reasons.append(f"the card's figures use {e_ext.split(' (')[0]} features, this run {m_ext.split(' (')[0]}")
    if reasons:
        return "; ".join(reasons) + " (pass the card's protocol to compare)"
    return ""


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


def _short_protocol(metrics: dict[str, Any], dataset: str, extractor: str) -> str:
    """The protocol of a FID/KID in the short form of Weights.protocols ('<network> features, 10k samples vs
    <dataset> <split>')."""
    n = int(metrics.get("n_samples", 0))
    count = f"{n // 1000}k" if n and n % 1000 == 0 else str(n)
    network = "inception.fid" if extractor.startswith("zoo inception.fid") else \
        (f"classifier.{dataset} features (128-d)" if "classifier" in extractor else extractor)
    if network == "inception.fid":
        network = "inception.fid features"
    return f"{network}, {count} samples vs {dataset} {metrics.get('reference_split', 'test')}"


def evaluate_job(G: torch.nn.Module, job: Any) -> dict[str, Any]:
    """The host's image-generation evaluator (zoo.evaluation.HOST_EVALUATORS['image-generation']): FID/KID of
    ``G`` by the default protocol of :func:`evaluate_generator` (`zoo eval NAME` runs the same with its
    options), each metric with its protocol."""
    if not job.dataset:
        raise DataError(f"{job.name!r} names no dataset: pass --dataset")
    if job.data is None:
        raise DataError("FID/KID need the dataset files: pass --data DIR")
    protocol = Protocol(n_samples=job.n_samples or 10_000, seed=job.seed)
    metrics = evaluate_generator(G, job.dataset, job.data, protocol, precision=job.precision,
                                 progress=job.progress)
    short = _short_protocol(metrics, job.dataset, str(metrics.get("extractor", "")))
    metrics["protocols"] = {k: short for k, v in metrics.items() if isinstance(v, (int, float))
                            and not isinstance(v, bool)}
    metrics["protocol_info"] = {"evaluator": "fid-kid", "network": metrics.get("extractor"),
                                "reference": job.dataset, "split": metrics.get("reference_split"),
                                "n_samples": metrics.get("n_samples")}
    return metrics
