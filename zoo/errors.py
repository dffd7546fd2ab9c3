"""Typed errors. Every message says what went wrong and what to do about it.

All errors derive from :class:`ZooError`, so ``except zoo.ZooError`` catches
anything the zoo raises on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence


class ZooError(Exception):
    """Base class of every error the zoo raises on purpose."""


class UnknownModelError(ZooError, KeyError):
    """A model or architecture name that no plugin registered."""

    def __init__(self, name: str, suggestions: Sequence[str] = (), broken: Sequence[str] = ()):
        self.name = name
        self.suggestions = list(suggestions)
        msg = f"unknown model {name!r}."
        if self.suggestions:
            msg += " Did you mean: " + ", ".join(repr(s) for s in self.suggestions) + "?"
        msg += " Run `zoo list` to see every registered model."
        if broken:
            msg += (
                " Some plugins failed to load and may have provided it: "
                + ", ".join(broken)
                + " (see `zoo plugins`)."
            )
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class PluginError(ZooError):
    """A plugin failed to import or registered something invalid."""

    def __init__(self, plugin: str, reason: str):
        self.plugin = plugin
        self.reason = reason
        super().__init__(
            f"plugin {plugin!r} is broken: {reason}. Fix or upgrade the plugin, or disable it "
            f"(ZOO_PLUGINS allow-list, or [plugins] disable in zoo.toml); `zoo plugins` lists all."
        )


class DuplicateNameError(ZooError):
    """Two plugins registered the same name."""

    def __init__(self, name: str, first: str, second: str):
        self.name, self.first, self.second = name, first, second
        super().__init__(
            f"{name!r} is registered twice: by plugin {first!r} and by plugin {second!r}. "
            f"Disable one of them, or rename the model in one plugin."
        )


class InvalidRecordError(ZooError, ValueError):
    """An Architecture or Weights record that does not validate."""


class ConfigError(ZooError, ValueError):
    """A malformed zoo.toml, environment variable or builder config."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line = path, line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class CardError(ZooError, ValueError):
    """A model card that cannot be read or fails the zoo's schema."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line = path, line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class WeightsError(ZooError):
    """Base class of the errors met while finding or loading weights."""


class WeightsNotFoundError(WeightsError):
    """The weights file is on no source: not in the cache, the Hub, nor any mirror."""


class NotOnHubError(WeightsNotFoundError):
    """The Hub answered that the repository, revision or file does not exist."""


class OfflineNotCachedError(WeightsNotFoundError):
    """Offline, and the file is neither in the cache nor in a mirror."""


class HubUnreachableError(WeightsNotFoundError):
    """The Hub (or the configured endpoint) could not be reached, and no mirror had the file."""


class HashMismatchError(WeightsError):
    """A file whose sha256 is not the pinned one. It was not used."""

    def __init__(self, path: str, expected: str, actual: str, *, removed: bool = False):
        self.path, self.expected, self.actual, self.removed = path, expected, actual, removed
        fix = (
            "The bad copy was removed from the cache; run the same call again to download a fresh one."
            if removed
            else "Replace or delete that file (it may be truncated or tampered with), then try again."
        )
        super().__init__(
            f"sha256 mismatch for {path}: expected {expected}, got {actual}. The file was not used. {fix}"
        )


class StateDictError(WeightsError):
    """A weights file whose tensors do not match the model built from its config."""


class ImageError(ZooError, ValueError):
    """An image that cannot be read or used."""


class ConversionError(ZooError, ValueError):
    """An upstream checkpoint that a converter cannot map onto the zoo's layout."""


class DataError(ZooError, ValueError):
    """A dataset that is missing, incomplete or not what it claims to be."""


class DerivationError(WeightsNotFoundError):
    """Weights derived on this machine (zoo.derived) that could not be made, or not as pinned."""


class QueryError(ZooError, ValueError):
    """A `--sort` key or `--where` filter that cannot be parsed or names no known field or metric."""


class CatalogError(ZooError):
    """The catalog site cannot be written (an output folder that is not a catalog, an unreadable card)."""
