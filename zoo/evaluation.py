"""`zoo eval` by task: the evaluator of a model's task scores it, and every metric carries its protocol.

An evaluator is a :class:`zoo.Evaluator` record (a plugin's ``register_evaluators`` hook) or one of the
host's own (:data:`HOST_EVALUATORS`: FID/KID for image generators, top-1 accuracy for classifiers). The
style-transfer judge (content loss, style loss, SSIM under ``vgg16.hed-bsds500`` on one fixed held-out
set) comes from the adain plugin, which owns that network; it scores any model that has ``stylize``.

``function(model, job: EvalJob) -> dict``: the metric values, plus

- ``protocols``: metric name -> how it was measured, short (the feature network or judge, the reference
  set and split, the sample count): what :class:`zoo.Weights` ``protocols`` and the catalog show;
- ``protocol``: one line for the whole evaluation;
- ``protocol_info``: ``evaluator``, ``network``, ``reference``, ``split``, ``n_samples`` (machine-readable).

A fresh figure is compared with the card's only where both were measured by the same protocol.

This module imports no torch (the evaluators do, when they run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, PluginError
from .registry import Evaluator

#: the host's evaluators by task (not plugin records: no plugin needs to be loaded for them)
HOST_EVALUATORS: Mapping[str, Evaluator] = {
    "image-generation": Evaluator(
        "fid-kid", "image-generation", "zoo.metrics.evaluate:evaluate_job",
        description="FID and KID of generated samples against a dataset split, with the real-vs-real baseline "
                    "(the Inception for CIFAR-10, the zoo's classifier for MNIST-like data)",
        metrics=("fid", "kid", "fid_real_baseline", "kid_real_baseline"), plugin="zoo"),
    "image-classification": Evaluator(
        "accuracy", "image-classification", "zoo.metrics.accuracy:evaluate_classifier",
        description="top-1 accuracy on a dataset's test split", metrics=("accuracy",), plugin="zoo"),
}


@dataclass
class EvalJob:
    """What an evaluator gets besides the model."""

    name: str  # as the user gave it (a registered name, a folder, hf-hub:...)
    task: str
    data: Path | None = None
    dataset: str | None = None  # the model's dataset (from its Weights record or config.json), if any
    n_samples: int | None = None
    seed: int = 0
    precision: str = "auto"
    device: str = "cpu"
    settings: dict[str, Any] = field(default_factory=dict)  # --set key=value
    expected: dict[str, Any] = field(default_factory=dict)  # the card's metrics
    expected_protocols: dict[str, str] = field(default_factory=dict)
    progress: bool = True


def evaluators_for(task: str) -> list[Evaluator]:
    """The evaluators of ``task``: the plugins' registered ones, then the host's."""
    from .plugins import get_host

    found = list(get_host().registry.evaluators_for(task))
    host = HOST_EVALUATORS.get(task)
    if host is not None and all(e.name != host.name for e in found):
        found.append(host)
    return found


def choose_evaluator(task: str, name: str | None = None) -> Evaluator:
    """The evaluator named ``name``, or the one of ``task`` (the first registered when there are several: the
    built-in plugins register first; `zoo eval` names the others)."""
    from .plugins import get_host

    if name:
        table = dict(get_host().registry.evaluators)
        table.update({e.name: e for e in HOST_EVALUATORS.values() if e.name not in table})
        if name not in table:
            raise ConfigError(f"no evaluator {name!r}; registered: {sorted(table)} (`zoo plugins` shows who brings "
                              "each)")
        return table[name]
    found = evaluators_for(task)
    if not found:
        raise ConfigError(f"no evaluator scores {task!r} models: a plugin adds one with a register_evaluators hook "
                          "(zoo.Evaluator(name, task, 'pkg.mod:evaluate'); docs/plugins.md, 'Evaluators')")
    return found[0]


def run_evaluator(evaluator: Evaluator, model: Any, job: EvalJob) -> dict[str, Any]:
    """Import and run ``evaluator`` on ``model``; check that every metric comes with its protocol."""
    from .importing import import_object

    fn, error = import_object(evaluator.function)
    if error is not None or not callable(fn):
        raise PluginError(evaluator.plugin or "?", f"cannot import the function {evaluator.function!r} of "
                                                   f"evaluator {evaluator.name!r}: {error or 'not callable'}")
    result = dict(fn(model, job))
    protocols = result.get("protocols")
    values = {k for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not isinstance(protocols, Mapping) or not values <= set(protocols) or not result.get("protocol"):
        missing = sorted(values - set(protocols or {}))
        raise PluginError(evaluator.plugin or "?", f"evaluator {evaluator.name!r} returned metrics without their "
                                                   f"protocol ({missing or 'protocol'}): return 'protocols' "
                                                   "(metric -> how it was measured) and 'protocol'")
    result.setdefault("evaluator", evaluator.name)
    return result


def same_protocol(card: str | None, measured: str) -> bool:
    """Whether a card's protocol for a metric is the one just measured (the card may add its source in
    parentheses, e.g. '(bench/bench_adain_eval.py)')."""
    if not card:
        return False
    base = card.split(" (")[0].strip().rstrip(".")
    return base == measured.split(" (")[0].strip().rstrip(".")


def compare(result: Mapping[str, Any], expected: Mapping[str, Any], expected_protocols: Mapping[str, str],
            rel_tol: float = 0.05) -> tuple[list[str], list[str], list[str]]:
    """(differences beyond ``rel_tol``, metrics not compared because the card's protocol differs or is
    unknown, metrics compared) between a fresh result and the card's metrics."""
    differs, skipped, compared = [], [], []
    for key, how in dict(result.get("protocols", {})).items():
        if key not in expected or key not in result:
            continue
        if not same_protocol(expected_protocols.get(key), how):
            skipped.append(f"{key} (card: {expected_protocols.get(key) or 'protocol not stated'}; now: {how})")
            continue
        e, m = float(expected[key]), float(result[key])
        compared.append(key)
        if abs(e - m) > rel_tol * max(abs(e), 1e-9):
            differs.append(f"{key}: card {e:.4g}, measured {m:.4g}")
    return differs, skipped, compared


__all__ = ["EvalJob", "HOST_EVALUATORS", "choose_evaluator", "compare", "evaluators_for", "run_evaluator",
           "same_protocol"]
