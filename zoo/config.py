"""Settings from zoo.toml files and ZOO_* environment variables.

Precedence, lowest first: the zoo.toml shipped with the package (the project's
top-level zoo.toml, every key commented there), the user's file
(``$ZOO_CONFIG``, else ``~/.config/zoo/zoo.toml`` when it exists), then the
environment: ``ZOO_ENDPOINT`` (or huggingface_hub's ``HF_ENDPOINT``),
``ZOO_MIRRORS`` (paths separated by ``os.pathsep``; see :func:`env_mirrors`), ``ZOO_PLUGINS`` (a
comma-separated allow-list), ``ZOO_DISABLE_PLUGINS``, ``ZOO_TIMEOUT``, ``ZOO_PLUGIN_TIMEOUT``, and
``ZOO_MAX_<KEY>`` for each key of ``[limits]`` (``ZOO_MAX_CARD_BYTES``, ...).

Values are checked when read: a timeout must be a finite number of seconds
above zero, a limit a positive integer; a bad value is a ConfigError naming
where it came from, rather than a failure later.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from collections.abc import Callable
from typing import Any

from .errors import ConfigError

EMBEDDED_MIRROR = "@cards"  # in a mirrors list: the cards/ folder shipped with the zoo
NO_EMBEDDED_MIRROR = "-@cards"  # in ZOO_MIRRORS: leave the built-in mirror out

_KNOWN: dict[str, dict[str, type | tuple[type, ...]]] = {
    "hub": {"endpoint": str, "timeout": (int, float), "offline": bool},
    "mirrors": {"paths": list},
    "plugins": {"allow": list, "disable": list, "import_timeout": (int, float)},
    "limits": {},  # filled from Limits below
}
_MAX_TIMEOUT = 24 * 3600.0
_MAX_CONFIG_FILE = 1 << 20  # zoo.toml itself


@dataclass(frozen=True)
class Limits:
    """Bounds on what the zoo reads and allocates; each is ``[limits] <key>`` in zoo.toml
    and ``ZOO_MAX_<KEY>`` in the environment (zoo.toml documents every key)."""

    card_bytes: int = 1 << 20  # a model card (README.md) file
    config_bytes: int = 1 << 20  # a config.json read from a folder
    yaml_nodes: int = 100_000  # YAML nodes in a card's front matter, aliases expanded
    nesting: int = 64  # nesting depth of YAML or JSON
    image_pixels: int = 50_000_000  # pixels of an image file read (width x height)
    samples: int = 1024  # images per `zoo sample`
    parameters: int = 100_000_000  # tensor elements of a model built from a folder's config.json

    def how_to_raise(self, key: str) -> str:
        return f"raise it with [limits] {key} in zoo.toml or ZOO_MAX_{key.upper()}"


_KNOWN["limits"] = {f.name: int for f in fields(Limits)}


def embedded_path(name: str) -> Path:
    """A file shipped with the zoo: inside the wheel, or at the source tree's root."""
    here = Path(__file__).resolve().parent
    packaged = here / "_embedded" / name
    if packaged.exists():
        return packaged
    return here.parent / name


@dataclass(frozen=True)
class Settings:
    endpoint: str | None  # None: huggingface_hub's default (the public Hub)
    timeout: float  # seconds for one request to the endpoint
    offline: bool
    mirrors: tuple[Path, ...]
    plugins_allow: tuple[str, ...] | None  # None: every installed plugin
    plugins_disable: tuple[str, ...]
    files: tuple[Path, ...]  # the zoo.toml files that were read
    limits: Limits = field(default_factory=Limits)
    mirrors_from: str = "zoo.toml"  # where the mirrors list came from, for messages
    plugin_timeout: float = 20.0  # seconds one plugin's import may take before it is skipped as broken


def _line_of(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return i
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse and check one zoo.toml; errors name the file and line."""
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_CONFIG_FILE + 1)
        if len(raw) > _MAX_CONFIG_FILE:
            raise ConfigError(f"config file is larger than {_MAX_CONFIG_FILE} bytes; a zoo.toml is a few lines",
                              path=str(path))
        text = raw.decode("utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config file: {e.strerror or e}", path=str(path)) from e
    except UnicodeDecodeError as e:
        raise ConfigError("config file is not UTF-8 text", path=str(path)) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ConfigError(f"invalid TOML: {e}", path=str(path), line=int(m.group(1)) if m else None) from e
    except RecursionError as e:
        raise ConfigError("invalid TOML: nested too deeply", path=str(path)) from e
    for section, value in data.items():
        if section not in _KNOWN:
            raise ConfigError(
                f"unknown section [{section}]; known sections: {sorted(_KNOWN)}",
                path=str(path), line=_line_of(text, section) or _find_section(text, section),
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{section!r} must be a table [{section}]", path=str(path), line=_line_of(text, section))
        for key, v in value.items():
            expected = _KNOWN[section].get(key)
            if expected is None:
                raise ConfigError(
                    f"unknown key {key!r} in [{section}]; known keys: {sorted(_KNOWN[section])}",
                    path=str(path), line=_line_of(text, key),
                )
            if not isinstance(v, expected) or (isinstance(v, bool) and expected != bool):
                raise ConfigError(
                    f"[{section}] {key} has the wrong type {type(v).__name__}",
                    path=str(path), line=_line_of(text, key),
                )
            if expected is list and not all(isinstance(x, str) for x in v):
                raise ConfigError(f"[{section}] {key} must be a list of strings", path=str(path), line=_line_of(text, key))
            if (section, key) == ("hub", "timeout"):
                _check_timeout(v, "[hub] timeout", path=str(path), line=_line_of(text, key))
            if (section, key) == ("plugins", "import_timeout"):
                _check_timeout(v, "[plugins] import_timeout", path=str(path), line=_line_of(text, key),
                               what="bounds one plugin's import")
            if section == "limits":
                _check_limit(v, f"[limits] {key}", path=str(path), line=_line_of(text, key))
    return data


def _check_timeout(value: float, where: str, *, path: str | None = None, line: int | None = None,
                   what: str = "bounds one request to the endpoint; use HF_HUB_OFFLINE=1 to never contact it") -> float:
    """A timeout must be finite and above zero (0 or -1 would make every request fail, inf hang)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= _MAX_TIMEOUT):
        raise ConfigError(
            f"{where} must be a number of seconds above 0 and at most {_MAX_TIMEOUT:.0f}, got {value!r} "
            f"(it {what})",
            path=path, line=line)
    return float(value)


def _check_endpoint(value: str, where: str) -> str:
    """An endpoint is an http(s) URL with a host: 'localhost:8080' would fail later as 'unreachable'."""
    from urllib.parse import urlparse

    url = urlparse(value.strip())
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(f"{where} must be an http:// or https:// URL with a host, such as "
                          f"http://localhost:8090, got {value!r}")
    return value.strip()


def _check_limit(value: Any, where: str, *, path: str | None = None, line: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive integer, got {value!r}", path=path, line=line)
    return value


def _find_section(text: str, section: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(f"[{section}"):
            return i
    return None


def _resolve_mirror(entry: str, base: Path) -> Path:
    if entry == EMBEDDED_MIRROR:
        return embedded_path("cards")
    p = Path(os.path.expanduser(entry))
    return p if p.is_absolute() else (base / p)


def env_mirrors(value: str, base: Path) -> tuple[Path, ...]:
    """The mirrors ZOO_MIRRORS names (docs/mirror.md). It replaces ``[mirrors] paths``, but the built-in
    mirror (``@cards``, which holds the built-in models' cards and weights) is kept, searched after the
    folders given, so that pointing the zoo at one's own mirror does not break the built-in models:

    - ``ZOO_MIRRORS=/srv/zoo``: /srv/zoo, then @cards;
    - ``ZOO_MIRRORS=@cards:/srv/zoo``: @cards where it is named (first here);
    - ``ZOO_MIRRORS=/srv/zoo:-@cards``: /srv/zoo only (``-@cards`` leaves the built-in mirror out);
    - ``ZOO_MIRRORS=`` (set and empty): no mirror at all.
    """
    entries = [m for m in value.split(os.pathsep) if m.strip()]
    if not entries:
        return ()
    keep = NO_EMBEDDED_MIRROR not in entries
    entries = [m for m in entries if m != NO_EMBEDDED_MIRROR]
    if keep and EMBEDDED_MIRROR not in entries:
        entries.append(EMBEDDED_MIRROR)
    return tuple(_resolve_mirror(m, base) for m in entries)


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(x.strip().lower() for x in value.split(",") if x.strip())


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings now (files and environment are read on every call)."""
    env = dict(os.environ if env is None else env)
    files = [embedded_path("zoo.toml")]
    user = env.get("ZOO_CONFIG")
    if user:
        if not Path(user).is_file():
            raise ConfigError("ZOO_CONFIG names a file that does not exist", path=user)
        files.append(Path(user))
    else:
        home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "zoo" / "zoo.toml"
        if home.is_file():
            files.append(home)

    endpoint: str | None = None
    timeout = 10.0
    offline = False
    mirrors: tuple[Path, ...] = ()
    allow: tuple[str, ...] | None = None
    disable: tuple[str, ...] = ()
    plugin_timeout = 20.0
    limits = Limits()
    mirrors_from = "the zoo.toml shipped with the zoo"
    read: list[Path] = []
    for f in files:
        if not f.is_file():
            continue
        data = read_toml(f)
        read.append(f)
        hub = data.get("hub", {})
        if hub.get("endpoint"):
            endpoint = _check_endpoint(hub["endpoint"], f"[hub] endpoint in {f}")
        timeout = float(hub.get("timeout", timeout))
        offline = bool(hub.get("offline", offline))
        if "paths" in data.get("mirrors", {}):
            mirrors = tuple(_resolve_mirror(m, f.parent) for m in data["mirrors"]["paths"])
            mirrors_from = f"[mirrors] paths in {f}"
        if data.get("limits"):
            limits = replace(limits, **data["limits"])
        plugins = data.get("plugins", {})
        if "allow" in plugins:
            allow = tuple(x.lower() for x in plugins["allow"]) or None
        if "disable" in plugins:
            disable = tuple(x.lower() for x in plugins["disable"])
        if "import_timeout" in plugins:
            plugin_timeout = float(plugins["import_timeout"])

    if env.get("ZOO_ENDPOINT"):
        endpoint = _check_endpoint(env["ZOO_ENDPOINT"], "ZOO_ENDPOINT")
    elif env.get("HF_ENDPOINT"):
        endpoint = _check_endpoint(env["HF_ENDPOINT"], "HF_ENDPOINT")
    if env.get("ZOO_TIMEOUT"):
        try:
            timeout = float(env["ZOO_TIMEOUT"])
        except ValueError as e:
            raise ConfigError(f"ZOO_TIMEOUT must be a number of seconds, got {env['ZOO_TIMEOUT']!r}") from e
        _check_timeout(timeout, "ZOO_TIMEOUT")
    if env.get("ZOO_PLUGIN_TIMEOUT"):
        try:
            plugin_timeout = float(env["ZOO_PLUGIN_TIMEOUT"])
        except ValueError as e:
            raise ConfigError(f"ZOO_PLUGIN_TIMEOUT must be a number of seconds, got {env['ZOO_PLUGIN_TIMEOUT']!r}") from e
        _check_timeout(plugin_timeout, "ZOO_PLUGIN_TIMEOUT", what="bounds one plugin's import")
    for f in fields(Limits):
        var = f"ZOO_MAX_{f.name.upper()}"
        if env.get(var):
            try:
                value = int(env[var].replace("_", ""))
            except ValueError as e:
                raise ConfigError(f"{var} must be a positive integer, got {env[var]!r}") from e
            limits = replace(limits, **{f.name: _check_limit(value, var)})
    if env.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        offline = True
    if env.get("ZOO_MIRRORS") is not None:
        mirrors = env_mirrors(env["ZOO_MIRRORS"], Path.cwd())
        mirrors_from = "ZOO_MIRRORS"
    if env.get("ZOO_PLUGINS") is not None:
        allow = _split_list(env["ZOO_PLUGINS"])
    if env.get("ZOO_DISABLE_PLUGINS"):
        disable = disable + _split_list(env["ZOO_DISABLE_PLUGINS"])
    return Settings(
        endpoint=endpoint.rstrip("/") if endpoint else None,
        timeout=timeout,
        offline=offline,
        mirrors=mirrors,
        plugins_allow=allow,
        plugins_disable=disable,
        files=tuple(read),
        limits=limits,
        mirrors_from=mirrors_from,
        plugin_timeout=plugin_timeout,
    )


def check_mirror(mirror: Path, settings: Settings) -> None:
    """A configured mirror must be a folder: a file or a missing path is a mistake, said, not skipped."""
    if mirror.is_dir():
        return
    what = "is a file, not a folder" if mirror.exists() else "does not exist"
    raise ConfigError(
        f"the mirror {mirror} (from {settings.mirrors_from}) {what}. A mirror is a folder laid out "
        "<mirror>/<org>/<name>/<file>; fix the path, create the folder, or remove it from the list")


def _no_host_limits() -> Limits | None:
    return None


# the loaded plugin host's limits, or None: zoo.plugins installs its reader here when it is imported
# (config imports nothing of the plugin machinery, so the two modules make no circle)
_host_limits: Callable[[], Limits | None] = _no_host_limits


def current_limits() -> Limits:
    """The limits in force: those of the loaded plugin host, else read now."""
    limits = _host_limits()
    return limits if limits is not None else load_settings().limits
