"""Checking a Hub-repo folder before it is published (``zoo push``) or registered.

A Hub-repo folder, as in cards/, holds:

- ``README.md``: the model card, which must pass the zoo's schema (zoo.cards);
- ``config.json``: ``{"architecture": "<name>", "config": {...builder arguments...}}``;
- one or more ``*.safetensors`` files whose tensors fit the model built from that config.

Nothing pickled may be in it: files named like pickles (.bin, .pt, .pth, ...)
or starting like one (a pickle opcode, or the zip archive torch.save writes)
are refused, since ``zoo.load`` never unpickles.

The safetensors header is parsed here without torch, so a truncated or
foreign file is reported precisely; the model is built on the meta device, so
no memory or time is paid for its parameters.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CardError, ConfigError, WeightsError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".tar")
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors format's own limit
_SKIP = {".git", "__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class FolderReport:
    """What a valid folder holds."""

    folder: Path
    architecture: str
    config: dict[str, Any]  # validated, with the architecture's defaults filled in
    given_config: dict[str, Any]  # as written in config.json
    weights: tuple[str, ...]  # the safetensors files, relative to the folder
    files: tuple[str, ...] = field(default_factory=tuple)  # every file, relative


def looks_pickled(path: Path) -> bool:
    """True for a file named or shaped like a pickle or a torch.save archive."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    # pickle protocol 2+ starts with PROTO (0x80) and the protocol number;
    # torch.save (since 1.6) writes a zip archive holding data.pkl
    return (len(head) >= 2 and head[0] == 0x80 and head[1] <= 5) or head == b"PK\x03\x04"


def read_safetensors_header(path: str | Path) -> dict[str, TensorInfo]:
    """The tensors a safetensors file declares, checked against the file's size (no torch)."""
    path = Path(path)
    size = path.stat().st_size
    where = f"{path}: "
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise WeightsError(where + "too short to be a safetensors file (truncated?). Write it again with "
                               "safetensors.torch.save_file.")
        (n,) = struct.unpack("<Q", raw)
        if n > _MAX_HEADER or 8 + n > size:
            raise WeightsError(where + f"not a safetensors file, or truncated (header of {n} bytes in a file of "
                               f"{size}). Write it with safetensors.torch.save_file; convert pickles with `zoo convert`.")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise WeightsError(where + f"the safetensors header is not JSON ({e}); the file is damaged.") from e
    if not isinstance(header, dict):
        raise WeightsError(where + "the safetensors header is not a JSON object; the file is damaged.")
    data_size = size - 8 - n
    out: dict[str, TensorInfo] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = entry["dtype"], tuple(int(d) for d in entry["shape"]), entry["data_offsets"]
            start, end = int(start), int(end)
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise WeightsError(where + f"tensor {name!r} has a malformed header entry; the file is damaged.") from e
        if not (0 <= start <= end <= data_size):
            raise WeightsError(where + f"tensor {name!r} lies beyond the end of the file (truncated?). "
                               "Copy or download it again.")
        out[name] = TensorInfo(str(dtype), shape)
    return out


def _read_config(path: Path) -> tuple[str, dict[str, Any]]:
    if not path.is_file():
        raise ConfigError(
            'missing config.json. Write {"architecture": "<name>", "config": {...builder arguments...}} '
            "beside the weights", path=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"invalid JSON: {e.msg}", path=str(path), line=e.lineno) from e
    if not isinstance(data, dict) or not isinstance(data.get("architecture"), str):
        raise ConfigError('must be a JSON object with an "architecture" name (and a "config" object)',
                          path=str(path), line=1)
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ConfigError('"config" must be a JSON object of builder arguments', path=str(path),
                          line=_line_of(text, '"config"'))
    return data["architecture"].strip().lower(), config


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def meta_state(architecture: str, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, TensorInfo]]:
    """Validate ``config`` for ``architecture``, build on the meta device; (config, expected tensors)."""
    from .loading import build_for_loading
    from .plugins import get_host

    host = get_host()
    record = host.registry.architectures.get(architecture)
    if record is None:
        raise host.registry.unknown(architecture)
    cfg = record.validate_config(config)
    model = build_for_loading(record, cfg)
    expected = {
        k: TensorInfo(str(v.dtype).removeprefix("torch."), tuple(v.shape)) for k, v in model.state_dict().items()
    }
    return cfg, expected


def compare_tensors(expected: dict[str, TensorInfo], found: dict[str, TensorInfo], where: str) -> None:
    """Raise StateDictError unless ``found`` has exactly ``expected``'s keys and shapes."""
    from .loading import check_state_fits

    check_state_fits({k: v.shape for k, v in expected.items()}, {k: v.shape for k, v in found.items()}, where,
                     model_from="config.json")


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
        if looks_pickled(p):
            raise WeightsError(
                f"{p} is a pickle (or a torch.save archive). The zoo publishes safetensors only, because loading "
                "a pickle can run arbitrary code: convert it with `zoo convert` (torch.load(weights_only=True)) "
                "and remove it from the folder."
            )
    card = folder / "README.md"
    if not card.is_file():
        raise CardError("missing model card README.md; `zoo new-plugin` writes one to start from",
                        path=str(card))
    from .cards import read_card_file

    read_card_file(card, needs_metrics=needs_metrics)
    architecture, given = _read_config(folder / "config.json")
    weights = [p for p in files if p.suffix == ".safetensors"]
    if not weights:
        raise WeightsError(f"{folder} has no .safetensors file; save the model's state_dict with "
                           "safetensors.torch.save_file(model.state_dict(), 'model.safetensors').")
    from .plugins import get_host

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
        compare_tensors(expected, read_safetensors_header(w), str(w))
    rel = tuple(p.relative_to(folder).as_posix() for p in files)
    return FolderReport(folder, architecture, config, given,
                        tuple(w.relative_to(folder).as_posix() for w in weights), rel)
