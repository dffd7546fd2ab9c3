"""Checking a Hub-repo folder before it is published (``zoo push``) or registered.

A Hub-repo folder, as in cards/, holds:

- ``README.md``: the model card, which must pass the zoo's schema (zoo.cards);
- ``config.json``: ``{"architecture": "<name>", "config": {...builder arguments...}}``;
- one or more ``*.safetensors`` files whose tensors fit the model built from that config.

Nothing pickled may be in it: files named like pickles (.bin, .pt, .pth, ...),
shaped like one (any pickle protocol, 0 to 5, whatever the file's name), or
an archive that could hide one (zip, as torch.save writes, gzip, bz2, xz,
7z) are refused, since ``zoo.load`` never unpickles.

Every weights file is then loaded as ``zoo.load`` would (built on the meta
device, tensors assigned): its dtypes must be the model's, every tensor must
hold the bytes its shape needs, and no value may be NaN or infinite.

The safetensors header is parsed here without torch, so a truncated or
foreign file is reported precisely; the model is built on the meta device, so
no memory or time is paid for its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CardError, ConfigError, WeightsError
from .folder import TensorInfo, _SKIP, _TORCH_DTYPES, _read_config, pickle_kind, read_safetensors_header


@dataclass(frozen=True)
class FolderReport:
    """What a valid folder holds."""

    folder: Path
    architecture: str
    config: dict[str, Any]  # validated, with the architecture's defaults filled in
    given_config: dict[str, Any]  # as written in config.json
    weights: tuple[str, ...]  # the safetensors files, relative to the folder
    files: tuple[str, ...] = field(default_factory=tuple)  # every file, relative


def meta_state(architecture: str, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, TensorInfo]]:
    """Validate ``config`` for ``architecture``, build on the meta device; (config, expected tensors)."""
    from ..loading import build_bounded
    from ..plugins import get_host

    host = get_host()
    record = host.registry.architectures.get(architecture)
    if record is None:
        raise host.registry.unknown(architecture)
    cfg = record.validate_config(config)
    model = build_bounded(record, cfg, where=f"config of {architecture!r}")
    expected = {
        k: TensorInfo(str(v.dtype).removeprefix("torch."), tuple(v.shape)) for k, v in model.state_dict().items()
    }
    return cfg, expected


def compare_tensors(expected: dict[str, TensorInfo], found: dict[str, TensorInfo], where: str) -> None:
    """Raise StateDictError unless ``found`` has exactly ``expected``'s keys and shapes."""
    from ..loading import check_state_fits

    check_state_fits({k: v.shape for k, v in expected.items()}, {k: v.shape for k, v in found.items()}, where,
                     model_from="config.json")


def compare_dtypes(expected: dict[str, TensorInfo], found: dict[str, TensorInfo], where: str) -> None:
    """Floating tensors must have the model's dtype exactly (integer ones, batch norm's counter, any)."""
    for k, want in expected.items():
        code = _TORCH_DTYPES.get(want.dtype)
        if code in ("F64", "F32", "F16", "BF16") and found[k].dtype != code:
            raise WeightsError(
                f"{where}: tensor {k!r} is stored as {found[k].dtype}, the model built from config.json has {code}. "
                "zoo.load would give a model of the wrong dtype: save model.state_dict() as built "
                "(safetensors.torch.save_file)."
            )


def load_like_zoo(architecture: str, config: dict[str, Any], weights: Path) -> None:
    """Load ``weights`` into the model as ``zoo.load`` does (meta build, assign, the same checks)."""
    from ..loading import build_bounded, load_state
    from ..plugins import get_host

    record = get_host().registry.architectures[architecture]
    model = build_bounded(record, config, where=f"config of {architecture!r}")
    load_state(model, str(weights), name=str(weights))


def check_repo_folder(folder: str | Path, *, needs_metrics: bool = True) -> FolderReport:
    """Check a Hub-repo folder; raise the zoo's typed error for the first problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError(f"{folder} is not a folder. Give the Hub-repo folder (README.md, config.json, "
                           "model.safetensors).")
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part in _SKIP for part in p.relative_to(folder).parts)
    )
    for p in files:
        kind = pickle_kind(p)
        if kind is not None:
            raise WeightsError(
                f"{p} is a pickle or could hold one: {kind}. The zoo publishes safetensors only, because loading "
                "a pickle can run arbitrary code: convert it with `zoo convert` (torch.load(weights_only=True)) "
                "and remove it from the folder."
            )
    card = folder / "README.md"
    if not card.is_file():
        raise CardError("missing model card README.md; `zoo new-plugin` writes one to start from",
                        path=str(card))
    from ..cards import read_card_file

    read_card_file(card, needs_metrics=needs_metrics)
    architecture, given = _read_config(folder / "config.json")
    weights = [p for p in files if p.suffix == ".safetensors"]
    if not weights:
        raise WeightsError(f"{folder} has no .safetensors file; save the model's state_dict with "
                           "safetensors.torch.save_file(model.state_dict(), 'model.safetensors').")
    from ..plugins import get_host

    if architecture not in get_host().registry.architectures:
        err = get_host().registry.unknown(architecture)
        raise ConfigError(
            f"architecture {architecture!r} is not registered by any installed plugin ({err}). Install the "
            "plugin that provides it (pip install -e <plugin folder>) or fix the name.",
            path=str(folder / "config.json"), line=1,
        )
    try:
        config, expected = meta_state(architecture, given)
    except ConfigError as e:
        raise ConfigError(f"{e} (the config does not build; fix it)", path=str(folder / "config.json")) from e
    except (TypeError, ValueError) as e:
        raise ConfigError(f"the builder of {architecture!r} rejects this config: {e}",
                          path=str(folder / "config.json")) from e
    for w in weights:
        found = read_safetensors_header(w)
        compare_tensors(expected, found, str(w))
        compare_dtypes(expected, found, str(w))
        load_like_zoo(architecture, config, w)
    rel = tuple(p.relative_to(folder).as_posix() for p in files)
    return FolderReport(folder, architecture, config, given,
                        tuple(w.relative_to(folder).as_posix() for w in weights), rel)
