"""Building models and loading their weights.

``build`` imports the architecture's builder and calls it with a validated
config. ``load`` builds on the meta device (no random initialisation paid),
then assigns the tensors of the memory-mapped safetensors file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .errors import (
    ConfigError,
    LimitExceededError,
    NonFiniteWeightsError,
    PluginError,
    StateDictError,
    WeightsNotFoundError,
    ZooError,
)
from .repos.hub import checked_sha256, find_file
from .plugins import get_host
from .importing import import_object
from .repos.refs import ModelRef, ModelSource, fetch_weights, open_repo, parse_ref, source_of
from .registry import Architecture, Weights


def import_path(path: str, arch: Architecture, what: str = "builder") -> Any:
    """Import the object named ``"package.module:attr"`` for ``arch``; a failure is the plugin's error."""
    obj, error = import_object(path)
    if error is not None:
        raise PluginError(arch.plugin or "?", f"cannot import {what} {path!r} of {arch.name!r}: {error}")
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
    """An untrained model of architecture ``arch`` (a registered architecture name)."""
    host = get_host()
    name = arch.strip().lower().split(".", 1)[0] if isinstance(arch, str) else arch
    record = host.registry.architectures.get(name)
    if record is None:
        raise host.registry.unknown(arch)
    return _build(record, config)


def _build(record: Architecture, config: dict[str, Any]) -> torch.nn.Module:
    cfg = record.validate_config(config)
    builder = import_builder(record)
    try:
        model = builder(**cfg)
    except (KeyboardInterrupt, Exception):
        raise
    except BaseException as e:  # SystemExit, GeneratorExit: plugin code may not end the caller's process
        raise PluginError(record.plugin, f"the builder of {record.name!r} raised {type(e).__name__}({e})") from e
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
    (a paper's N(0, 0.02), the modules' reset_parameters) would still be dispatched op by
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


_init_lock = threading.RLock()  # re-entrant: a builder may itself build a sub-model for loading


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


def check_dtypes(model: torch.nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """A floating tensor of the model must get exactly its dtype (a float16 file would silently turn a
    float32 model into float16; integers into a float buffer would break it later). Integer tensors
    (batch norm's counter) take any dtype: published files may hold them as float."""
    expected = model.state_dict()
    for k, v in state.items():
        want = expected.get(k)
        if want is not None and want.dtype.is_floating_point and want.dtype != v.dtype:
            raise StateDictError(
                f"{where}: tensor {k!r} is {str(v.dtype).removeprefix('torch.')}, the model expects "
                f"{str(want.dtype).removeprefix('torch.')}. Save the state_dict of the model as built "
                "(safetensors.torch.save_file(model.state_dict(), ...))."
            )


# files (path, inode, size, mtime, ctime) already checked (dtypes, finite values) in this process
_checked: set[tuple[str, int, int, int, int]] = set()


def _stamp(path: str) -> tuple[str, int, int, int, int]:
    st = os.stat(path)
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def check_finite(state: dict[str, torch.Tensor], where: str) -> None:
    """Raise NonFiniteWeightsError if a floating tensor holds NaN or infinity.

    One reduction per tensor (a sum is finite when every element is, unless it overflows; only then is
    each element looked at). load_state runs it once per file and process, like the sha256.
    """
    with torch.no_grad():
        for k, v in state.items():
            if not v.dtype.is_floating_point or v.numel() == 0:
                continue
            if torch.isfinite(v.sum(dtype=torch.float64)):
                continue
            bad = int((~torch.isfinite(v)).sum())
            if bad:
                raise NonFiniteWeightsError(
                    f"{where}: tensor {k!r} holds {bad} NaN or infinite value(s) of {v.numel()}. The weights are "
                    "broken (training diverged, or the file was damaged): re-export them from a good checkpoint."
                )


def load_state(model: torch.nn.Module, path: str, *, name: str,
               includes: dict[str, str] | None = None) -> torch.nn.Module:
    """Assign the tensors of a safetensors file to a (meta) model; keys and shapes must match exactly,
    floating tensors stay floating, and no value may be NaN or infinite.

    ``includes`` maps a prefix to another file whose tensors load under ``prefix.`` as well. An included
    file is another model's, of which this one may use a part (an AdaIN decoder at relu3_1 over the VGG16 to
    relu4_1): its tensors that the model has no place for are left out; every tensor the model needs must
    still be found, and the model's own file must match exactly.
    """
    wanted = model.state_dict().keys() if includes else ()
    state: dict[str, torch.Tensor] = {}
    fresh = []  # files not yet checked in this process
    for prefix, p in [("", path), *(includes or {}).items()]:
        try:
            part = load_file(p)
        except Exception as e:
            raise StateDictError(f"{name}: {p} is not a readable safetensors file ({e}). Delete it and download again.") from e
        stamp = _stamp(p)
        if stamp not in _checked:
            check_finite(part, f"{name}: weights file {p}")
            fresh.append(stamp)
        keys = {f"{prefix}.{k}" if prefix else k: v for k, v in part.items()}
        state.update(keys if not prefix else {k: v for k, v in keys.items() if k in wanted})
    if fresh:
        check_dtypes(model, state, f"{name}: weights file {path}")
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:  # explain which keys or shapes differ, in the zoo's terms
        check_state_fits({k: tuple(v.shape) for k, v in model.state_dict().items()},
                         {k: tuple(v.shape) for k, v in state.items()}, f"{name}: weights file {path}")
        raise StateDictError(f"{name}: {path} does not load: {e}") from e
    leftover = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if leftover:
        raise StateDictError(f"{name}: tensors left uninitialised after loading: {leftover[:8]}")
    _checked.update(fresh)
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
        pinned_by=(weights.plugin, weights.name),
        size=weights.size if pinned else None,  # compared before hashing or downloading
    ).path


def load(
    name: str | os.PathLike[str] | ModelRef,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.nn.Module:
    """The model a reference names (zoo.refs: a registered name, a Hub-repo folder or
    ``hf-hub:org/name[@revision]``) with its weights, in eval mode; ``model.zoo_source`` records where
    they came from and their sha256. Loading a folder or Hub repo prints that record on stderr."""
    ref = parse_ref(name, revision=revision)
    if ref.kind == "registered":
        model = load_registered(ref.name or "", revision=ref.revision)
    else:
        model = load_repo(ref)
        print(f"zoo: loaded {model.zoo_source.describe()}", file=sys.stderr)
    if dtype is not None or device is not None:
        model = model.to(device=device, dtype=dtype)
    return model


def load_registered(name: str, *, revision: str | None = None) -> torch.nn.Module:
    """The registered model ``name`` with its published weights, in eval mode."""
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
    model.eval()
    pinned = revision is None or revision == weights.revision
    model.zoo_name = info.name  # type: ignore[attr-defined]
    model.zoo_source = ModelSource(  # type: ignore[attr-defined]
        name=info.name, kind="registered", architecture=info.architecture, config=weights.config,
        weights_file=Path(path), sha256=weights.sha256 if pinned else checked_sha256(Path(path)),
        size=Path(path).stat().st_size, repo_id=weights.repo_id, revision=revision or weights.revision)
    return model


def count_elements(model: torch.nn.Module) -> int:
    """Elements of every parameter and buffer (a meta model's size, without allocating it)."""
    return sum(t.numel() for t in model.state_dict().values())


def build_bounded(record: Architecture, config: dict[str, Any], *, where: str) -> torch.nn.Module:
    """``build_for_loading`` for a config read from a file: the schema's checks, then a bound on the
    model's size (``[limits] parameters``) checked on the meta device, before anything is allocated."""
    limit = get_host().settings.limits.parameters
    try:
        model = build_for_loading(record, config)
    except ZooError:
        raise
    except (TypeError, ValueError, RuntimeError, OverflowError, AttributeError, KeyError, IndexError) as e:
        raise ConfigError(f"the builder of {record.name!r} rejects this config: {type(e).__name__}: {e}",
                          path=where) from e
    n = count_elements(model)
    if n > limit:
        raise LimitExceededError(f"{where}: the model this config builds has {n:,} tensor elements", f"{n:,}",
                                 limit, "parameters")
    return model


def repo_includes(name: str, given: Any) -> dict[str, str]:
    """The files of a folder's or Hub repo's config.json ``"includes"`` (prefix -> a registered weights name
    whose tensors load under ``prefix.``, as a Weights record's ``includes``: an AdaIN decoder exported over
    the shared VGG16 says ``{"encoder": "vgg16.hed-bsds500"}``), each that model's checked local file."""
    if not given:
        return {}
    if not isinstance(given, dict) or not all(isinstance(k, str) and k.isidentifier() and isinstance(v, str)
                                              for k, v in given.items()):
        raise ConfigError(f"{name}: config.json 'includes' must map a prefix such as 'encoder' to a registered "
                          f"weights name, got {given!r}")
    registry = get_host().registry
    unknown = sorted(v for v in given.values() if v not in registry.weights)
    if unknown:
        raise WeightsNotFoundError(f"{name}: config.json includes {unknown}, which no plugin here registers: "
                                   "install the plugin that publishes them (`zoo list --pretrained` lists the names)")
    return {prefix: str(weights_path(registry.weights[other])) for prefix, other in given.items()}


def load_repo(ref: ModelRef | str | os.PathLike[str], *, architecture: str | None = None) -> torch.nn.Module:
    """The model of a folder or Hub repo reference, in eval mode, with ``zoo_name`` and ``zoo_source``.

    Checks in order, each before anything costly: config.json (bounded) through the architecture's
    schema; the model built on the meta device and its size bounded (``[limits] parameters``); only
    then the weights, fetched (a Hub repo's at its resolved commit), hashed, and assigned with the
    same checks as registered weights (keys, shapes, dtypes, finite values), together with the files of
    the registered models that config.json ``includes`` (:func:`repo_includes`).
    ``architecture``: the one expected; a config.json that names none is taken to be it.
    """
    repo = open_repo(parse_ref(ref), architecture=architecture)
    model = build_bounded(repo.architecture, dict(repo.config), where=repo.name if repo.repo_id else str(repo.config_file))
    includes = repo_includes(repo.name, repo.meta.get("includes"))
    weights = fetch_weights(repo)
    load_state(model, str(weights.path), name=repo.name, includes=includes)
    model.eval()
    model.zoo_name = repo.name  # type: ignore[attr-defined]
    model.zoo_source = source_of(repo, weights)  # type: ignore[attr-defined]
    return model


def load_folder(folder: str | os.PathLike[str], *, architecture: str | None = None) -> torch.nn.Module:
    """The model saved in a Hub-repo folder (config.json + model.safetensors), in eval mode: ``load_repo``
    of that folder, whatever its name looks like."""
    return load_repo(ModelRef("folder", str(folder), path=Path(folder)), architecture=architecture)


__all__ = [
    "ZooError",
    "build",
    "build_bounded",
    "import_builder",
    "load",
    "load_folder",
    "load_registered",
    "load_repo",
    "load_state",
]
