"""The plugin host: finds plugins through the ``zoo.plugins`` entry-point group,
calls their hooks one plugin at a time, and keeps a broken plugin from
breaking the others.

The built-in architectures (plugins/ in the source tree) are entry points of
the zoo's own distribution, so they are found exactly like a third party's.
"""

from __future__ import annotations

import importlib
import threading
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType

import pluggy

from . import hookspecs
from .config import Settings, load_settings
from .errors import ZooError
from .registry import Architecture, Registry, Weights

ENTRY_POINT_GROUP = "zoo.plugins"


@dataclass
class PluginStatus:
    """One plugin as `zoo plugins` shows it."""

    name: str  # the entry point's name
    module: str  # what the entry point points at
    distribution: str  # the installed package that declares it
    version: str
    state: str = "ok"  # "ok", "broken", "disabled"
    error: str | None = None
    registered: list[str] = field(default_factory=list)


@dataclass
class PluginHost:
    """The loaded plugins and the registry they filled."""

    registry: Registry
    plugins: dict[str, PluginStatus]
    settings: Settings


def _iter_entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen: dict[str, metadata.EntryPoint] = {}
    for ep in eps:
        seen.setdefault(ep.name.lower(), ep)
    return sorted(seen.values(), key=lambda ep: ep.name.lower())


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, ZooError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _register_plugin(
    pm: pluggy.PluginManager, registry: Registry, status: PluginStatus, module: ModuleType
) -> None:
    """Call one plugin's hooks; all or nothing: on any error none of its records stay."""
    pm.register(module, name=status.name)
    staged: list[Architecture | Weights] = []

    def register(record: Architecture | Weights) -> None:
        if not isinstance(record, (Architecture, Weights)):
            raise TypeError(
                f"register() takes zoo.Architecture or zoo.Weights, got {type(record).__name__}"
            )
        staged.append(record)

    for hook in ("register_architectures", "register_weights"):
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin_name == status.name:
                impl.function(register=register)
    added: list[Architecture | Weights] = []
    try:
        # architectures first, so that weights can be checked against them
        for record in sorted(staged, key=lambda r: isinstance(r, Weights)):
            added.append(registry.add(record, status.name))
    except Exception:
        for record in added:
            table = registry.architectures if isinstance(record, Architecture) else registry.weights
            table.pop(record.name, None)
        for record in staged:
            registry.broken_names.setdefault(record.name, status.name)
        raise
    status.registered = [r.name for r in added]


def load_plugins(settings: Settings | None = None) -> PluginHost:
    """Discover, filter and register every plugin; never raises for a broken plugin."""
    settings = settings or load_settings()
    pm = pluggy.PluginManager("zoo")
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    statuses: dict[str, PluginStatus] = {}
    for ep in _iter_entry_points():
        name = ep.name.lower()
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        status = PluginStatus(name, ep.value, dist, version)
        statuses[name] = status
        if (settings.plugins_allow is not None and name not in settings.plugins_allow) or (
            name in settings.plugins_disable
        ):
            status.state = "disabled"
            continue
        try:
            module = ep.load()
            if not isinstance(module, ModuleType):
                module = importlib.import_module(ep.module)
            _register_plugin(pm, registry, status, module)
        except Exception as exc:  # a broken plugin must not break the host
            status.state = "broken"
            status.error = _short_error(exc)
            registry.plugin_errors[name] = status.error
            registry.broken_names.setdefault(name, name)  # its architecture is usually its name
    for plugin, reason in registry.check_consistency():
        status = statuses.get(plugin)
        if status is not None:
            status.state = "broken"
            status.error = reason if status.error is None else status.error + "; " + reason
            registry.plugin_errors[plugin] = status.error
    for status in statuses.values():
        if status.state == "ok":
            status.registered = [
                n for n in status.registered if n in registry.architectures or n in registry.weights
            ]
    return PluginHost(registry, statuses, settings)


_lock = threading.Lock()
_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide host, loaded on first use."""
    global _host
    with _lock:
        if _host is None:
            _host = load_plugins()
        return _host


def reset_host() -> None:
    """Forget the loaded plugins (after installing a plugin, or changing ZOO_PLUGINS)."""
    global _host
    with _lock:
        _host = None
