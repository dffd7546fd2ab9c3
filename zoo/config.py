"""Settings from zoo.toml files and ZOO_* environment variables.

Precedence, lowest first: the zoo.toml shipped with the package (the project's
top-level zoo.toml, every key commented there), the user's file
(``$ZOO_CONFIG``, else ``~/.config/zoo/zoo.toml`` when it exists), then the
environment: ``ZOO_ENDPOINT`` (or huggingface_hub's ``HF_ENDPOINT``),
``ZOO_MIRRORS`` (paths separated by ``os.pathsep``), ``ZOO_PLUGINS`` (a
comma-separated allow-list), ``ZOO_DISABLE_PLUGINS``, ``ZOO_TIMEOUT``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

EMBEDDED_MIRROR = "@cards"  # in a mirrors list: the cards/ folder shipped with the zoo

_KNOWN: dict[str, dict[str, type | tuple[type, ...]]] = {
    "hub": {"endpoint": str, "timeout": (int, float), "offline": bool},
    "mirrors": {"paths": list},
    "plugins": {"allow": list, "disable": list},
}


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


def _line_of(text: str, key: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return i
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse and check one zoo.toml; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config file: {e.strerror or e}", path=str(path)) from e
    except UnicodeDecodeError as e:
        raise ConfigError("config file is not UTF-8 text", path=str(path)) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ConfigError(f"invalid TOML: {e}", path=str(path), line=int(m.group(1)) if m else None) from e
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
    return data


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
    read: list[Path] = []
    for f in files:
        if not f.is_file():
            continue
        data = read_toml(f)
        read.append(f)
        hub = data.get("hub", {})
        if hub.get("endpoint"):
            endpoint = hub["endpoint"]
        timeout = float(hub.get("timeout", timeout))
        offline = bool(hub.get("offline", offline))
        if "paths" in data.get("mirrors", {}):
            mirrors = tuple(_resolve_mirror(m, f.parent) for m in data["mirrors"]["paths"])
        plugins = data.get("plugins", {})
        if "allow" in plugins:
            allow = tuple(x.lower() for x in plugins["allow"]) or None
        if "disable" in plugins:
            disable = tuple(x.lower() for x in plugins["disable"])

    if env.get("ZOO_ENDPOINT"):
        endpoint = env["ZOO_ENDPOINT"]
    elif env.get("HF_ENDPOINT"):
        endpoint = env["HF_ENDPOINT"]
    if env.get("ZOO_TIMEOUT"):
        try:
            timeout = float(env["ZOO_TIMEOUT"])
        except ValueError as e:
            raise ConfigError(f"ZOO_TIMEOUT must be a number of seconds, got {env['ZOO_TIMEOUT']!r}") from e
    if env.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        offline = True
    if env.get("ZOO_MIRRORS") is not None:
        mirrors = tuple(_resolve_mirror(m, Path.cwd()) for m in env["ZOO_MIRRORS"].split(os.pathsep) if m)
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
    )
