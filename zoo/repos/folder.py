"""Reading a Hub-repo folder's files without torch: pickles refused, JSON and safetensors headers bounded.

The one reader of ``config.json`` files and safetensors headers (:mod:`zoo.repos.check` checks a whole
folder with them; :mod:`zoo.repos.refs` reads a folder's config). See :mod:`zoo.repos.check` for what
a publishable folder holds.
"""

from __future__ import annotations

import io
import json
import math
import pickletools
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, LimitExceededError, WeightsError

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
    from ..config import load_settings
    from ..plugins import _host

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
