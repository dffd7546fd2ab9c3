"""Import the object a plugin names by ``"package.module:attr.sub"`` (torch-free; the one place for it)."""

from __future__ import annotations

import importlib


def import_object(path: str) -> tuple[object | None, str | None]:
    """``(object, None)``, or ``(None, "ExcType: message")`` when importing or looking up ``path`` fails.

    Every exception but KeyboardInterrupt is caught (SystemExit too: a plugin's import
    may not end the zoo's process); the caller says whose error it is.
    """
    module_name, _, attr = path.partition(":")
    try:
        obj: object = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        return None, f"{type(e).__name__}: {e}"
    return obj, None
