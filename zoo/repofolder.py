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

import io
import json
import math
import pickletools
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CardError, ConfigError, LimitExceededError, WeightsError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".tar")
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors format's own limit
_SKIP = {".git", "__pycache__", ".DS_Store"}
# bytes per element of the safetensors dtypes
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4,
               "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}
_TORCH_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
                 "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
# magic numbers of archives, which could carry a pickle inside
_ARCHIVES = {b"PK\x03\x04": "zip (torch.save writes one)", b"\x1f\x8b": "gzip", b"BZh": "bzip2",
             b"\xfd7zXZ\x00": "xz", b"7z\xbc\xaf\x27\x1c": "7z"}
_PICKLE_SCAN_MAX = 64 << 20  # files larger than this are not parsed opcode by opcode


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


def pickle_kind(path: Path) -> str | None:
    """What makes ``path`` unpublishable as pickled content, or None: a pickle suffix, a pickle of any
    protocol (parsed opcode by opcode, never run), or an archive that could hold one."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return f"a {path.suffix} file (pickle format)"
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            for magic, what in _ARCHIVES.items():
                if head.startswith(magic):
                    return f"a {what} archive"
            # pickle protocol 2+ starts with PROTO (0x80) and the protocol number
            if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:
                return "a pickle"
            if path.suffix == ".safetensors" or path.stat().st_size > _PICKLE_SCAN_MAX:
                return None  # parsed as safetensors, or too large for the opcode scan below
            f.seek(0)
            data = f.read()
    except OSError:
        return None
    return "a pickle (protocol 0 or 1)" if _parses_as_pickle(data) else None


def _parses_as_pickle(data: bytes) -> bool:
    """True when ``data`` is a complete pickle opcode stream ending in STOP (protocol 0/1 have no header).

    pickletools only decodes the opcodes; nothing is constructed or run. Text files fail within a few
    bytes (a Markdown or JSON file is not a valid opcode stream to the end).
    """
    if not data.rstrip().endswith(b"."):
        return False
    stream = io.BytesIO(data)
    try:
        last = None
        for last in pickletools.genops(stream):
            pass
    except Exception:
        return False
    return last is not None and last[0].name == "STOP" and not data[stream.tell():].strip()


def looks_pickled(path: Path) -> bool:
    """True for a file named or shaped like a pickle, or an archive that could hold one."""
    return pickle_kind(path) is not None


def read_json_bounded(path: Path, *, limit_bytes: int, nesting: int) -> Any:
    """``json.loads`` of a file, refusing a file over ``limit_bytes`` (read no further, whatever its
    apparent size: sparse files too) and documents nested deeper than ``nesting``."""
    try:
        with open(path, "rb") as f:
            raw = f.read(limit_bytes + 1)
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", path=str(path)) from e
    if len(raw) > limit_bytes:
        raise LimitExceededError(f"{path} is larger than the limit on config files", None, limit_bytes,
                                 "config_bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("not UTF-8 text", path=str(path)) from e
    depth = _bracket_depth(text)
    if depth > nesting:
        raise LimitExceededError(f"{path}: JSON nested {depth} levels deep", depth, nesting, "nesting")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"invalid JSON: {e.msg}", path=str(path), line=e.lineno) from e
    except RecursionError as e:  # pragma: no cover - the depth check comes first
        raise ConfigError("invalid JSON: nested too deeply", path=str(path)) from e


def _bracket_depth(text: str) -> int:
    """The deepest nesting of [ and { in JSON text, outside strings (a linear scan, no recursion)."""
    depth = best = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


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
        if dtype not in DTYPE_SIZES or any(d < 0 for d in shape):
            raise WeightsError(where + f"tensor {name!r} has dtype {dtype!r} and shape {list(shape)}, which "
                               "safetensors does not define; the file is damaged.")
        needed = math.prod(shape) * DTYPE_SIZES[dtype]
        if end - start != needed:
            raise WeightsError(where + f"tensor {name!r} ({dtype}, shape {list(shape)}) needs {needed} bytes, the "
                               f"file holds {end - start} for it: its data is missing or damaged. Write the file "
                               "again with safetensors.torch.save_file.")
        out[name] = TensorInfo(str(dtype), shape)
    return out


def read_folder_config(path: Path, default_architecture: str | None = None) -> tuple[str, dict[str, Any]]:
    """(architecture, builder arguments) of a folder's config.json, within the size and nesting limits
    (``[limits] config_bytes``, ``nesting``). The caller validates the arguments with the schema.
    ``default_architecture``: what a config.json that names none is taken to be (a caller that knows)."""
    from .config import load_settings
    from .plugins import _host

    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            'missing config.json. Write {"architecture": "<name>", "config": {...builder arguments...}} '
            "beside the weights", path=str(path))
    limits = (_host.settings if _host is not None else load_settings()).limits
    data = read_json_bounded(path, limit_bytes=limits.config_bytes, nesting=limits.nesting)
    text = path.read_text(encoding="utf-8")
    if isinstance(data, dict) and "architecture" not in data and default_architecture:
        data = {**data, "architecture": default_architecture}
    if not isinstance(data, dict) or not isinstance(data.get("architecture"), str):
        raise ConfigError('must be a JSON object with an "architecture" name (and a "config" object)',
                          path=str(path), line=1)
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ConfigError('"config" must be a JSON object of builder arguments', path=str(path),
                          line=_line_of(text, '"config"'))
    return data["architecture"].strip().lower(), config


_read_config = read_folder_config  # the name the fuzz test uses


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def meta_state(architecture: str, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, TensorInfo]]:
    """Validate ``config`` for ``architecture``, build on the meta device; (config, expected tensors)."""
    from .loading import build_bounded
    from .plugins import get_host

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
    from .loading import check_state_fits

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
    from .loading import build_bounded, load_state
    from .plugins import get_host

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
        found = read_safetensors_header(w)
        compare_tensors(expected, found, str(w))
        compare_dtypes(expected, found, str(w))
        load_like_zoo(architecture, config, w)
    rel = tuple(p.relative_to(folder).as_posix() for p in files)
    return FolderReport(folder, architecture, config, given,
                        tuple(w.relative_to(folder).as_posix() for w in weights), rel)
