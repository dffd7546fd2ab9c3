"""Names and plain values in records: model, repo and file names, import paths, frozen mappings.

Nothing here imports torch or any other part of the zoo.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


_ARCH_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_IMPORT_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_LOSS_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_COMMAND_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# what huggingface_hub accepts as a repo id (its validate_repo_id), written here so that listing imports
# no huggingface_hub: org/name, each 1-96 of letters, digits, '-', '_', '.', starting and ending with a
# letter, digit or '_'; no '--' or '..'; not ending in '.git'
_REPO_PART = r"(?:[A-Za-z0-9_]|[A-Za-z0-9_][A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])"
_REPO_ID_RE = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$", re.ASCII)
# a file inside a repo: '/'-separated parts of letters, digits, '-', '_', '.', none of them '.' or '..'
_REPO_FILE_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.+-]*/)*[A-Za-z0-9_][A-Za-z0-9_.+-]*$", re.ASCII)


def repo_id_problem(repo_id: object) -> str | None:
    """Why ``repo_id`` is not an 'org/name' huggingface_hub accepts, or None."""
    if not isinstance(repo_id, str) or not _REPO_ID_RE.match(repo_id):
        return ("must be 'org/name': letters, digits, '-', '_' or '.', at most 96 each, starting and ending "
                "with a letter or digit")
    if "--" in repo_id or ".." in repo_id:
        return "may not contain '--' or '..' (huggingface_hub refuses them)"
    if repo_id.endswith(".git"):
        return "may not end in '.git'"
    return None


def repo_file_problem(filename: object) -> str | None:
    """Why ``filename`` is not a plain relative path inside a repo (no '..', no absolute path), or None."""
    if not isinstance(filename, str) or not _REPO_FILE_RE.match(filename) or ".." in filename.split("/"):
        return "must be a relative path inside the repo ('model.safetensors', 'weights/g.safetensors'), without '..'"
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "str": (str,),
    "list": (list, tuple),
    "dict": (dict,),
}


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


def _plain_data_problem(value: Any, where: str) -> str | None:
    """Why ``value`` is not plain data (str, number, bool, None, lists/tuples and str-keyed dicts of them)."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is not a finite number ({value!r})"
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            problem = _plain_data_problem(v, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where} has a non-string key {k!r}"
            problem = _plain_data_problem(v, f"{where}[{k!r}]")
            if problem:
                return problem
        return None
    return f"{where} is a {type(value).__name__}; settings hold plain data only (str, int, float, bool, None, lists, dicts)"


def normalise_loss_name(name: str) -> str:
    """How loss names and aliases compare: stripped, lower case, ``_`` as ``-``."""
    return str(name).strip().lower().replace("_", "-")


_TASK_RE = re.compile(r"^[a-z][a-z0-9-]*$")
