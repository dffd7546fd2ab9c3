"""What every check of the conformance kit shares: :class:`ConformanceError`, the plugin host, a
registered weights record, and :func:`use_mirror`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ZooError


HEAVY_MODULES = ("torch", "torchvision", "timm")


class ConformanceError(ZooError, AssertionError):
    """A plugin does not meet the zoo's conventions; the message says what to fix."""


def _fail(subject: str, problem: str, fix: str) -> ConformanceError:
    return ConformanceError(f"{subject}: {problem}. Fix: {fix}")


def _import_path(path: str):
    import importlib

    module, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _host():
    from ..plugins import get_host

    return get_host()


@contextlib.contextmanager
def use_mirror(*folders: str | os.PathLike[str], offline: bool = True) -> Iterator[None]:
    """Within the block the zoo finds weights in ``folders`` (laid out ``<repo_id>/<file>``).

    ``offline`` (the default) also sets HF_HUB_OFFLINE=1 so that no network is
    tried. The environment and the plugin host are restored afterwards.
    """
    from ..plugins import reset_host

    saved = {k: os.environ.get(k) for k in ("ZOO_MIRRORS", "HF_HUB_OFFLINE")}
    os.environ["ZOO_MIRRORS"] = os.pathsep.join(str(Path(f).resolve()) for f in folders)
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    reset_host()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_host()


def _weights(name: str):
    reg = _host().registry
    info = reg.info(name)
    if info.weights is None:
        raise _fail(f"model {info.name!r}", "it has no published weights",
                    "register zoo.Weights(...) for it, or check only the architecture")
    return info
