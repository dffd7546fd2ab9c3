"""What a plugin's code may do to the host while it loads: not write on stdout, not take forever.

- Whatever a plugin writes on stdout while it is imported or its hooks run (``print``, ``sys.stdout``,
  or straight to file descriptor 1 from a subprocess or C code) is captured and shown on stderr,
  each line prefixed with the plugin's name, so that ``zoo list --json`` and the other
  machine-readable outputs stay clean whatever a plugin prints.
- A plugin's import runs in a worker thread bounded by ``[plugins] import_timeout`` (environment
  ``ZOO_PLUGIN_TIMEOUT``, default 20 s): a plugin still importing then is skipped and shown broken
  with a message that names it and says what to do; the zoo goes on without it. A plugin whose
  import and hooks take more than :data:`SLOW_SECONDS` is named on stderr with the time it took.

No torch, no click here: every command loads plugins through this module.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .errors import PluginTimeoutError

SLOW_SECONDS = 2.0  # a plugin taking longer than this to load is named on stderr
_MAX_SHOWN = 64 * 1024  # characters of a plugin's stdout shown on stderr


def _stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


@contextlib.contextmanager
def _fd1_to(target: Any) -> Iterator[None]:
    """File descriptor 1 pointed at ``target``'s for the duration (a subprocess or C code writing on it)."""
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (a daemon): nothing to guard
        yield
        return
    try:
        for stream in (sys.stdout, sys.__stdout__):
            with contextlib.suppress(Exception):
                stream.flush()  # the host's own pending output goes out first, unattributed
        os.dup2(target.fileno(), 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.__stdout__.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def stdout_to_stderr(plugin: str) -> Iterator[None]:
    """Run plugin code with stdout captured; what it wrote is shown on stderr, attributed to ``plugin``."""
    buf = io.StringIO()
    try:
        raw: Any = tempfile.TemporaryFile()
    except OSError:  # no writable temporary folder: capture what Python code prints, not file descriptor 1
        raw = None
    with raw if raw is not None else contextlib.nullcontext():
        try:
            with (_fd1_to(raw) if raw is not None else contextlib.nullcontext()), contextlib.redirect_stdout(buf):
                yield
        finally:
            low = ""
            if raw is not None:
                raw.seek(0)
                low = raw.read(_MAX_SHOWN).decode("utf-8", "replace")
            text = buf.getvalue()[:_MAX_SHOWN] + low
            if text.strip():
                from .text import terminal_safe

                lines = "".join(f"  [{plugin}] {terminal_safe(line)}\n" for line in text.splitlines())
                _stderr(f"zoo: plugin {plugin!r} wrote to stdout while loading; shown here on stderr so that it "
                        f"cannot corrupt the zoo's output (the plugin should log, not print):\n{lines}")


def bounded_import(plugin: str, module: str, load: Callable[[], Any], timeout: float,
                   mark_loading: Callable[[], None]) -> Any:
    """``load()`` (the entry point's import) in a worker thread, waited for at most ``timeout`` seconds.

    Past it, PluginTimeoutError: the import is left to finish in the background (a daemon thread; its
    result is never used) and the host goes on without the plugin. ``mark_loading`` runs first in the
    worker (the host's re-entrancy guard is per thread). Ctrl-C while waiting interrupts as usual.
    """
    result: dict[str, Any] = {}

    def work() -> None:
        mark_loading()
        try:
            result["value"] = load()
        except BaseException as e:  # noqa: BLE001 - handed to the caller, which isolates it
            result["error"] = e

    worker = threading.Thread(target=work, name=f"zoo-plugin-import:{plugin}", daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise PluginTimeoutError(plugin, module, timeout, time.monotonic() - start)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def report_slow(plugin: str, module: str, seconds: float) -> None:
    if seconds > SLOW_SECONDS:
        _stderr(f"zoo: plugin {plugin!r} ({module}) took {seconds:.1f} s to import and register; every zoo "
                "command waits for it. A plugin should register without importing heavy modules (torch, its "
                f"model code); disable it with ZOO_DISABLE_PLUGINS={plugin} if you do not need it.\n")
