"""The plugin host: finds plugins through the ``zoo.plugins`` entry-point group,
calls their hooks one plugin at a time, and keeps a broken plugin from
breaking the others.

The built-in architectures (plugins/ in the source tree) are entry points of
the zoo's own distribution, so they are found exactly like a third party's.

Trust rules (docs/plugins.md, "Trust rules"):

- A plugin's import and hooks are isolated from every exception, SystemExit
  and other BaseExceptions included; only the user's own Ctrl-C
  (KeyboardInterrupt) goes through. The plugin is marked broken with the reason.
- A hook may only call ``register``: a call back into the zoo's API while
  plugins load is a ReentrantCallError (never a deadlock), and breaks that plugin.
- The built-in plugins (entry points of the zoo's own distribution, the one
  this ``zoo`` package was installed from) load first and their names are
  reserved: a third-party plugin registering one of them is broken, the
  built-in keeps working.
- A record's provenance label comes from the distribution that registered it,
  never from the record: only built-ins' weights are "trained here".
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import threading
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlparse

import pluggy

from . import config as _config
from . import hookspecs
from .config import Limits, Settings, load_settings
from .errors import (ConfigError, PluginTimeoutError, ReentrantCallError, ReservedCommandError, ReservedNameError,
                     ZooError)
from .plugin_guard import bounded_import, report_slow, stdout_to_stderr
from .registry import Architecture, Command, Evaluator, Loss, Record, Registry, TrainingRecipe, Weights

OWN_DISTRIBUTION = "zoo-models"

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
    registered: list[str] = field(default_factory=list)  # models: architectures and weights
    # what else it contributes: "loss:NAME", "recipe:ARCH:NAME", "command:NAME"
    provides: list[str] = field(default_factory=list)
    builtin: bool = False  # declared by the zoo's own distribution (see _is_own_distribution)


@dataclass
class PluginHost:
    """The loaded plugins and the registry they filled."""

    registry: Registry
    plugins: dict[str, PluginStatus]
    settings: Settings


_own_memo: dict[str, bool] = {}


def _is_own_distribution(dist: metadata.Distribution | None) -> bool:
    """True only for the distribution this ``zoo`` package was installed from.

    A name is not proof (any package can call itself zoo-models): the distribution must
    either be the editable install of the source tree this package is in, or list this
    package's own ``zoo/__init__.py`` in its RECORD.
    """
    if dist is None:
        return False
    key = str(getattr(dist, "_path", id(dist)))
    if key in _own_memo:
        return _own_memo[key]
    here = Path(__file__).resolve()
    own = False
    try:
        if (dist.metadata["Name"] or "").lower().replace("_", "-") != OWN_DISTRIBUTION:
            _own_memo[key] = False
            return False
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        url = urlparse(direct.get("url", ""))
        if url.scheme == "file" and direct.get("dir_info", {}).get("editable"):
            own = Path(unquote(url.path)).resolve() == here.parent.parent
        if not own:
            for f in dist.files or ():
                if f.as_posix() == "zoo/__init__.py":
                    own = Path(dist.locate_file(f)).resolve() == here.parent / "__init__.py"
                    break
    except (OSError, ValueError, TypeError):
        own = False
    _own_memo[key] = own
    return own


def _iter_entry_points() -> list[metadata.EntryPoint]:
    """Entry points of the group, the zoo's own (built-ins) first, then by name.

    Two entry points of the same name: a built-in wins; else the first found on sys.path.
    """
    # every distribution, not metadata.entry_points(): that keeps only the first distribution of each
    # name on sys.path, so a package calling itself zoo-models would hide the built-ins
    eps = [ep for dist in metadata.distributions() for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    seen: dict[str, metadata.EntryPoint] = {}
    for ep in eps:
        name = ep.name.lower()
        if name not in seen or (_is_own_distribution(ep.dist) and not _is_own_distribution(seen[name].dist)):
            seen[name] = ep
    return sorted(seen.values(), key=lambda ep: (not _is_own_distribution(ep.dist), ep.name.lower()))


def _isolated(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run plugin code; any BaseException but the user's Ctrl-C becomes an ordinary exception."""
    try:
        return fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except Exception:
        raise
    except BaseException as e:  # SystemExit, GeneratorExit, a plugin's own BaseException subclass
        raise _Escaped(e) from e


class _Escaped(Exception):
    """A BaseException raised by plugin code, caught so that it cannot end the caller's process."""

    def __init__(self, original: BaseException):
        self.original = original
        super().__init__(f"{type(original).__name__}: {original}")


def _short_error(exc: BaseException) -> str:
    if isinstance(exc, _Escaped):
        exc = exc.original
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        return f"raised {type(exc).__name__}({str(exc)!r}){where}, which a plugin may not raise"
    if isinstance(exc, PluginTimeoutError):
        return exc.reason
    if isinstance(exc, ZooError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


# each hook and the record types its register() takes
_HOOKS: tuple[tuple[str, tuple[type, ...], str], ...] = (
    ("register_architectures", (Architecture, Weights), "zoo.Architecture or zoo.Weights"),
    ("register_weights", (Architecture, Weights), "zoo.Architecture or zoo.Weights"),
    ("register_losses", (Loss,), "zoo.Loss"),
    ("register_recipes", (TrainingRecipe,), "zoo.TrainingRecipe"),
    ("register_commands", (Command,), "zoo.Command"),
    ("register_evaluators", (Evaluator,), "zoo.Evaluator"),
)

# the order records are added in: architectures before the weights and recipes checked against them
_ORDER = {Architecture: 0, Loss: 1, Command: 2, Weights: 3, TrainingRecipe: 4, Evaluator: 5}


def _reserved_keys(record: Record) -> list[tuple[str, str]]:
    """(kind, name) keys a record claims; the built-ins' keys are reserved for them."""
    if isinstance(record, Loss):
        return [("loss", n) for n in record.names]
    if isinstance(record, TrainingRecipe):
        return [("recipe", record.key)]
    if isinstance(record, Command):
        return [("command", record.name)]
    if isinstance(record, Evaluator):
        return [("evaluator", record.name)]
    return [("model", record.name)]


def _broken_key(record: Record) -> str:
    """How ``registry.broken_names`` remembers a record of a broken plugin (models by their bare name)."""
    kind, name = _reserved_keys(record)[0]
    return name if kind == "model" else f"{kind}:{name}"


def _expand(record: Record) -> list[Record]:
    """An Architecture's ``recipes`` are sugar for TrainingRecipe records of the same plugin."""
    if isinstance(record, Architecture):
        return [record] + [
            TrainingRecipe(record.name, name, settings, description=str(settings.get("source", "")))
            for name, settings in record.recipes.items()
        ]
    return [record]


def _register_plugin(
    pm: pluggy.PluginManager, registry: Registry, status: PluginStatus, module: ModuleType,
    reserved: dict[tuple[str, str], str], host_commands: frozenset[str] = frozenset(),
) -> None:
    """Call one plugin's hooks; all or nothing: on any error none of its records stay.

    ``reserved``: (kind, name) the built-ins registered -> the built-in plugin; only a built-in may add to
    it. ``host_commands``: the zoo's own command names, which no plugin may register.
    """
    _isolated(pm.register, module, name=status.name)  # pluggy reads its attributes: a module __getattr__ runs
    staged: list[Record] = []

    for hook, types, label in _HOOKS:
        def register(record: Record, _types: tuple[type, ...] = types, _label: str = label, _hook: str = hook) -> None:
            # exactly the zoo's record types: a subclass could override what the host checked
            if type(record) not in _types:
                raise TypeError(f"register() takes {_label}, got {type(record).__name__} (in {_hook})")
            staged.extend(_expand(record))

        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin_name == status.name:
                _isolated(impl.function, register=register)
    added: list[Record] = []
    try:
        for record in sorted(staged, key=lambda r: _ORDER[type(r)]):
            for key in _reserved_keys(record):
                owner = reserved.get(key)
                if owner is not None and not status.builtin:
                    raise ReservedNameError(key[1], owner, status.name, kind=key[0])
            if isinstance(record, Command) and record.name in host_commands:
                raise ReservedCommandError(record.name, status.name)
            if isinstance(record, Weights) and record.verified and not status.builtin:
                # "verified" means checked by this project; only the zoo's own records can say so
                record = dataclasses.replace(record, verified=False)
            added.append(registry.add(record, status.name))
    except Exception:
        for record in added:
            registry.remove(record)
        for record in staged:
            registry.broken_names.setdefault(_broken_key(record), status.name)
        raise
    status.registered = [r.name for r in added if isinstance(r, (Architecture, Weights))]
    status.provides = [_broken_key(r) for r in added if not isinstance(r, (Architecture, Weights))]
    if status.builtin:
        reserved.update((key, status.name) for r in added for key in _reserved_keys(r))


# The zoo's own commands (zoo.cli's group and its lazy table), which no plugin may register. Written
# here so that loading plugins imports no click; tests/test_plugin_hooks.py checks it against zoo.cli.
HOST_COMMANDS = frozenset({
    "list", "plugins", "info", "card", "sample", "download", "verify", "convert", "train", "eval", "push",
    "new-plugin", "setup", "catalog", "serve",
})


def host_command_names() -> frozenset[str]:
    return HOST_COMMANDS


def load_plugins(settings: Settings | None = None) -> PluginHost:
    """Discover, filter and register every plugin; never raises for a broken plugin."""
    settings = settings or load_settings()
    pm = pluggy.PluginManager("zoo")
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    statuses: dict[str, PluginStatus] = {}
    reserved: dict[tuple[str, str], str] = {}
    host_commands = host_command_names()
    entry_points = _iter_entry_points()
    _check_allow_list(settings, [ep.name.lower() for ep in entry_points])
    for ep in entry_points:
        name = ep.name.lower()
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        builtin = _is_own_distribution(ep.dist)
        if not builtin and dist.lower().replace("_", "-") == OWN_DISTRIBUTION:
            dist = f"{dist} (not the zoo's own installation)"  # a name is not provenance
        status = PluginStatus(name, ep.value, dist, version, builtin=builtin)
        statuses[name] = status
        if (settings.plugins_allow is not None and name not in settings.plugins_allow) or (
            name in settings.plugins_disable
        ):
            status.state = "disabled"
            continue
        started = time.monotonic()
        try:
            # its stdout goes to stderr (attributed), its import is bounded in time (zoo/plugin_guard.py)
            with stdout_to_stderr(name):
                module = bounded_import(name, ep.value, lambda ep=ep: _isolated(ep.load), settings.plugin_timeout,
                                        _mark_loading)
                if not isinstance(module, ModuleType):
                    module = _isolated(importlib.import_module, ep.module)
                _register_plugin(pm, registry, status, module, reserved, host_commands)
            report_slow(name, ep.value, time.monotonic() - started)
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
            status.provides = [k for k in status.provides if _still_registered(registry, k)]
    return PluginHost(registry, statuses, settings)


def _still_registered(registry: Registry, key: str) -> bool:
    kind, _, name = key.partition(":")
    table = {"loss": registry.losses, "recipe": registry.recipes, "command": registry.commands,
             "evaluator": registry.evaluators}[kind]
    return name in table


def _check_allow_list(settings: Settings, installed: list[str]) -> None:
    """An allow-list naming no installed plugin would silently disable everything: refuse it."""
    if settings.plugins_allow is None:
        return
    unknown = [n for n in settings.plugins_allow if n not in installed]
    if unknown:
        raise ConfigError(
            f"the plugin allow-list (ZOO_PLUGINS or [plugins] allow) names {unknown}, which no installed plugin "
            f"has; installed: {sorted(installed)}. Fix the names (entry-point names, as `zoo plugins` shows "
            "them), install the plugin, or unset ZOO_PLUGINS to load every plugin."
        )


@dataclass(frozen=True)
class ImportProblem:
    """One failure found by :func:`check_imports` (``zoo plugins --check``)."""

    plugin: str
    what: str  # "builder of 'mynet'", "loss 'ls' d", "command 'hello'", "recipe 'mynet:paper'"
    path: str  # the import path, or the name referred to
    error: str


def _try_import(path: str) -> tuple[object | None, str | None]:
    from .importing import import_object

    return import_object(path)


def check_imports(host: PluginHost) -> list[ImportProblem]:
    """Import every import path the loaded plugins registered (builders, components, converters, derive
    functions, loss functions, commands) and check what recipes refer to; the failures, in order.

    Only ``zoo plugins --check`` calls this: it imports the plugins' code (and so torch).
    """
    reg = host.registry
    todo: list[tuple[str, str, str, str]] = []  # plugin, what, path, expected kind
    for a in sorted(reg.architectures.values(), key=lambda a: a.name):
        todo.append((a.plugin, f"builder of {a.name!r}", a.builder, "callable"))
        todo += [(a.plugin, f"component {k!r} of {a.name!r}", v, "callable") for k, v in sorted(a.components.items())]
        todo += [(a.plugin, f"converter {k!r} of {a.name!r}", v, "callable") for k, v in sorted(a.converters.items())]
    for w in sorted(reg.weights.values(), key=lambda w: w.name):
        if w.derive:
            todo.append((w.plugin, f"derive function of {w.name!r}", w.derive, "callable"))
    for loss in sorted(reg.losses.values(), key=lambda r: r.name):
        todo += [(loss.plugin, f"{which} function of loss {loss.name!r}", getattr(loss, which), "callable")
                 for which in (("d", "g") if loss.kind == "adversarial" else ("fn",))]
    for c in sorted(reg.commands.values(), key=lambda c: c.name):
        todo.append((c.plugin, f"command {c.name!r}", c.command, "click"))
    for e in sorted(reg.evaluators.values(), key=lambda e: e.name):
        todo.append((e.plugin, f"evaluator {e.name!r}", e.function, "callable"))
    problems = []
    for plugin, what, path, kind in todo:
        obj, error = _try_import(path)
        if error is None and kind == "callable" and not callable(obj):
            error = f"it is a {type(obj).__name__}, not a function"
        if error is None and kind == "click":
            import click

            if not isinstance(obj, click.Command):
                error = f"it is a {type(obj).__name__}, not a click command"
        if error is not None:
            problems.append(ImportProblem(plugin, what, path, error))
    for recipe, loss_name in reg.recipes_missing_losses():
        problems.append(ImportProblem(recipe.plugin, f"recipe {recipe.key!r}", loss_name,
                                      f"names loss {loss_name!r}, which no loaded plugin registers "
                                      f"(losses: {sorted(reg.losses)})"))
    return problems


_lock = threading.Lock()
_host: PluginHost | None = None


def _host_limits() -> Limits | None:
    return _host.settings.limits if _host is not None else None


_config._host_limits = _host_limits  # config.current_limits reads the loaded host's limits through it

_loading = threading.local()  # .active: this thread is loading plugins (running their code)


def get_host() -> PluginHost:
    """The process-wide host, loaded on first use.

    Called from a plugin's import or hook while this thread loads plugins, it raises
    ReentrantCallError at once instead of waiting for itself.
    """
    global _host
    if getattr(_loading, "active", False):
        raise ReentrantCallError(
            "a plugin called the zoo's API (zoo.list_models, zoo.load, zoo.model_info, ...) while the zoo was "
            "loading plugins, from its import or a register hook. A hook may only call register(); move "
            "the call into a function that runs later."
        )
    with _lock:
        if _host is None:
            _loading.active = True
            try:
                _host = load_plugins()
            finally:
                _loading.active = False
        return _host


def _mark_loading() -> None:
    """Mark this thread (a plugin's import worker) as loading plugins: a call back into the API is refused."""
    _loading.active = True


def reset_host() -> None:
    """Forget the loaded plugins (after installing a plugin, or changing ZOO_PLUGINS)."""
    global _host
    with _lock:
        _host = None
