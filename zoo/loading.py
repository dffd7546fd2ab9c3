"""Building models and loading their weights.

``build`` imports the architecture's builder and calls it with a validated
config. ``load`` builds on the meta device (no random initialisation paid),
then assigns the tensors of the memory-mapped safetensors file.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .errors import PluginError, StateDictError, WeightsNotFoundError, ZooError
from .hub import find_file
from .plugins import get_host
from .registry import Architecture, Weights


def import_path(path: str, arch: Architecture, what: str = "builder") -> Any:
    """Import the object named ``"package.module:attr"`` for ``arch``; a failure is the plugin's error."""
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as e:
        raise PluginError(arch.plugin or "?", f"cannot import {what} {path!r} of {arch.name!r}: {e}") from e
    return obj


def import_builder(arch: Architecture) -> Callable[..., torch.nn.Module]:
    return import_path(arch.builder, arch)


def import_component(arch: Architecture, key: str) -> Callable[..., torch.nn.Module]:
    """A part other than the model itself, e.g. ``"discriminator"`` for training."""
    path = arch.components.get(key)
    if not path:
        raise PluginError(
            arch.plugin or "?",
            f"architecture {arch.name!r} names no {key!r} component, so it cannot be trained: "
            f"add components={{'{key}': 'package.model:build_{key}'}} to its Architecture record",
        )
    return import_path(path, arch, key)


def build(arch: str, /, **config: Any) -> torch.nn.Module:
    """An untrained model of architecture ``arch`` (a name such as ``"dcgan"``)."""
    host = get_host()
    name = arch.strip().lower().split(".", 1)[0] if isinstance(arch, str) else arch
    record = host.registry.architectures.get(name)
    if record is None:
        raise host.registry.unknown(arch)
    return _build(record, config)


def _build(record: Architecture, config: dict[str, Any]) -> torch.nn.Module:
    cfg = record.validate_config(config)
    model = import_builder(record)(**cfg)
    if not isinstance(model, torch.nn.Module):
        raise PluginError(record.plugin, f"builder of {record.name!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


_INIT_FUNCTIONS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)


@contextlib.contextmanager
def skip_init() -> Iterator[None]:
    """Make ``torch.nn.init``'s in-place initialisers no-ops while a model is built for loading.

    Building on the meta device allocates nothing, but a builder's own initialisation
    (DCGAN's N(0, 0.02), the modules' reset_parameters) would still be dispatched op by
    op; the weights that follow overwrite it anyway. Not thread-safe: it swaps module
    attributes, so loads hold a lock.
    """
    saved = {name: getattr(torch.nn.init, name) for name in _INIT_FUNCTIONS if hasattr(torch.nn.init, name)}

    def keep(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return tensor

    with _init_lock:
        try:
            for name in saved:
                setattr(torch.nn.init, name, keep)
            yield
        finally:
            for name, fn in saved.items():
                setattr(torch.nn.init, name, fn)


_init_lock = threading.Lock()


def build_for_loading(record: Architecture, config: dict[str, Any]) -> torch.nn.Module:
    """``record``'s model on the meta device with no initialisation run, ready for weights."""
    with torch.device("meta"), skip_init():
        return _build(record, config)


def check_state_fits(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], where: str,
                     model_from: str = "its config") -> None:
    """Raise StateDictError unless ``found`` has exactly ``expected``'s keys and shapes."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise StateDictError(
            f"{where} does not fit the model built from {model_from}: "
            f"missing keys {missing[:8]}{'...' if len(missing) > 8 else ''}, "
            f"unexpected keys {unexpected[:8]}{'...' if len(unexpected) > 8 else ''}. "
            "The config or the file is wrong; convert upstream checkpoints with `zoo convert`."
        )
    bad = [k for k in expected if tuple(expected[k]) != tuple(found[k])]
    if bad:
        k = bad[0]
        raise StateDictError(
            f"{where}: tensor {k!r} has shape {tuple(found[k])}, the model built from {model_from} expects "
            f"{tuple(expected[k])} ({len(bad)} mismatched tensors). Fix the config or the weights."
        )


def load_state(model: torch.nn.Module, path: str, *, name: str,
               includes: dict[str, str] | None = None) -> torch.nn.Module:
    """Assign the tensors of a safetensors file to a (meta) model; keys and shapes must match exactly.

    ``includes`` maps a prefix to another file whose tensors load under ``prefix.`` as well.
    """
    state: dict[str, torch.Tensor] = {}
    for prefix, p in [("", path), *(includes or {}).items()]:
        try:
            part = load_file(p)
        except Exception as e:
            raise StateDictError(f"{name}: {p} is not a readable safetensors file ({e}). Delete it and download again.") from e
        state.update({f"{prefix}.{k}" if prefix else k: v for k, v in part.items()})
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:  # explain which keys or shapes differ, in the zoo's terms
        check_state_fits({k: tuple(v.shape) for k, v in model.state_dict().items()},
                         {k: tuple(v.shape) for k, v in state.items()}, f"{name}: weights file {path}")
        raise StateDictError(f"{name}: {path} does not load: {e}") from e
    leftover = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if leftover:
        raise StateDictError(f"{name}: tensors left uninitialised after loading: {leftover[:8]}")
    return model


def weights_path(weights: Weights, revision: str | None = None) -> Path:
    """The checked local file of ``weights``: derived on this machine, or found on the cache, Hub, mirrors."""
    if weights.derive:
        if revision is not None and revision != weights.revision:
            raise WeightsNotFoundError(
                f"{weights.name!r} is derived on this machine at its pinned revision {weights.revision}; "
                f"it has no revision {revision!r}"
            )
        from .derived import find_or_derive

        return find_or_derive(weights)
    pinned = revision is None or revision == weights.revision
    return find_file(
        weights.repo_id,
        weights.filename,
        revision or weights.revision,
        sha256=weights.sha256 if pinned else None,
        settings=get_host().settings,
    ).path


def load(
    name: str,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.nn.Module:
    """The model ``name`` with its published weights, in eval mode."""
    host = get_host()
    info = host.registry.info(name)
    weights: Weights | None = info.weights
    if weights is None:
        raise WeightsNotFoundError(
            f"{info.name!r} has no published weights. Use zoo.build({info.architecture.name!r}) for an "
            f"untrained model, or one of: {host.registry.list(info.architecture.name + '.*', pretrained=True)}"
        )
    path = weights_path(weights, revision)
    includes = {prefix: str(weights_path(host.registry.weights[other]))
                for prefix, other in weights.includes.items()}
    model = build_for_loading(info.architecture, dict(weights.config))
    load_state(model, str(path), name=info.name, includes=includes)
    if dtype is not None or device is not None:
        model = model.to(device=device, dtype=dtype)
    model.eval()
    model.zoo_name = info.name  # type: ignore[attr-defined]
    return model


__all__ = ["build", "load", "load_state", "import_builder", "ZooError"]
