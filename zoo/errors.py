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

    def __init__(self, name: str, first: str, second: str, *, kind: str = "model"):
        self.name, self.first, self.second, self.kind = name, first, second, kind
        what = f"{kind} {name!r}" if kind != "model" else repr(name)
        super().__init__(
            f"{what} is registered twice: by plugin {first!r} and by plugin {second!r}. "
            f"Disable one of them, or rename the {kind} in one plugin."
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


class RepinError(ZooError, ValueError):
    """A plugin's published.py record that cannot be re-pinned to its card folder (zoo.repos.repin): no such
    name, a missing keyword, no weights file, a metric the folder's config.json lacks."""


class DataError(ZooError, ValueError):
    """A dataset that is missing, incomplete or not what it claims to be."""


class DerivationError(WeightsNotFoundError):
    """Weights derived on this machine (zoo.derived) that could not be made, or not as pinned."""


class QueryError(ZooError, ValueError):
    """A `--sort` key or `--where` filter that cannot be parsed or names no known field or metric."""


class CatalogError(ZooError):
    """The catalog site cannot be written (an output folder that is not a catalog, an unreadable card)."""


class LimitExceededError(ZooError, ValueError):
    """Something read or requested is larger than a configured bound ([limits] in zoo.toml)."""

    def __init__(self, what: str, value: object, limit: int, key: str):
        self.what, self.value, self.limit, self.key = what, value, limit, key
        amount = f"{what}: {value}, over the limit of {limit:,}" if value is not None else (
            f"{what}, over the limit of {limit:,}")
        super().__init__(
            f"{amount}. If you trust it, raise the limit with [limits] {key} in zoo.toml or the environment "
            f"variable ZOO_MAX_{key.upper()}."
        )


class ReentrantCallError(ZooError, RuntimeError):
    """A plugin's hook called back into the zoo while the zoo was loading plugins."""


class PinMismatchError(HashMismatchError):
    """The file is intact as its source publishes it, but the sha256 pinned in the Weights record is not its."""

    def __init__(self, path: str, expected: str, actual: str, *, plugin: str, name: str, source: str):
        self.path, self.expected, self.actual, self.removed = path, expected, actual, False
        self.plugin, self.name, self.source = plugin, name, source
        ZooError.__init__(
            self,
            f"the sha256 pinned for {name!r} by plugin {plugin!r} is {expected}, but {source} publishes a file "
            f"whose sha256 is {actual} ({path}; it arrived intact, its content matches the server's own hash). "
            "The pin in the plugin's Weights record is wrong, or the repository was re-published: running again "
            "will not help. Fix the record (or ask the plugin's author), or pass the right revision.",
        )


class NonFiniteWeightsError(StateDictError):
    """A weights file holding NaN or infinite values."""


class ReservedNameError(DuplicateNameError):
    """A plugin registered a name that a built-in plugin owns."""

    def __init__(self, name: str, owner: str, plugin: str, *, kind: str = "model"):
        self.name, self.first, self.second, self.kind = name, owner, plugin, kind
        what = f"{kind} {name!r}" if kind != "model" else repr(name)
        how = {"model": "another architecture name, or another tag", "loss": "another loss name or alias",
               "recipe": "another recipe name", "command": "another command name"}.get(kind, "another name")
        ZooError.__init__(
            self,
            f"{what} is registered twice: by plugin {owner!r} and by plugin {plugin!r}. It belongs to the "
            f"built-in plugin {owner!r} and built-in names are reserved, so plugin {plugin!r} is refused: rename "
            f"the {kind} in that plugin ({how}).",
        )


class ReservedCommandError(ReservedNameError):
    """A plugin registered a command whose name is one of the zoo's own commands."""

    def __init__(self, name: str, plugin: str):
        self.name, self.first, self.second, self.kind = name, "zoo", plugin, "command"
        ZooError.__init__(
            self,
            f"plugin {plugin!r} registers the command {name!r}, which is one of the zoo's own commands "
            "(`zoo --help` lists them); a plugin may not replace one. Rename the command in that plugin.",
        )


class NotTrainableError(ConfigError):
    """`zoo train` on an architecture that names no discriminator (or critic) to train against."""


class OutputPathError(ZooError, ValueError):
    """An output path that cannot be written; checked before any work is done."""


class InvalidRefError(ZooError, ValueError):
    """A model reference that is none of: a registered name, a Hub-repo folder, ``hf-hub:org/name[@revision]``."""


class ModelRepoError(ConfigError):
    """A folder or Hub repo that is not a model the zoo can build: not a folder, no config.json, or a
    config.json that names no architecture."""


class UnknownArchitectureError(UnknownModelError):
    """A folder's or Hub repo's config.json names an architecture that no installed plugin registers."""

    def __init__(self, architecture: str, where: str, installed: Sequence[str] = (), plugins: Sequence[str] = (),
                 broken: Sequence[str] = ()):
        self.name = architecture
        self.suggestions = []
        self.where = where
        msg = (f"{where} names architecture {architecture!r}, which no installed plugin registers "
               f"(architectures: {', '.join(installed) or 'none'}; plugins: {', '.join(plugins) or 'none'}). "
               "Install the plugin that provides it (pip install <its package>; it registers through the "
               "'zoo.plugins' entry-point group, see `zoo plugins`), or fix the name in config.json.")
        if broken:
            msg += f" Some plugins failed to load and may provide it: {', '.join(broken)} (see `zoo plugins`)."
        Exception.__init__(self, msg)


class RevisionNotFoundError(NotOnHubError):
    """The repository exists on the endpoint, but not the revision (branch, tag or commit) asked for."""


class FileNotInRepoError(NotOnHubError):
    """The repository and revision exist on the endpoint, but not the file asked for."""


class PluginTimeoutError(PluginError):
    """A plugin whose import did not finish within ``[plugins] import_timeout`` (ZOO_PLUGIN_TIMEOUT)."""

    def __init__(self, plugin: str, module: str, timeout: float, waited: float):
        self.timeout, self.module = timeout, module
        PluginError.__init__(
            self, plugin,
            f"its import ({module}) did not finish within {timeout:g} s (waited {waited:.1f} s), so the zoo goes on "
            f"without it. If it is just slow, raise the bound with [plugins] import_timeout in zoo.toml or "
            f"ZOO_PLUGIN_TIMEOUT; a plugin should register without importing heavy modules")


class DownloadLockedError(HubUnreachableError):
    """Another process holds the download lock of a file and makes no progress (stopped, stuck)."""


class SizeMismatchError(HashMismatchError):
    """A file whose size is not the pinned one (or not what its server stated), found before it was hashed or
    while it was downloaded. It was not used; a download was stopped and nothing of it kept."""

    def __init__(self, path: str, expected: int, actual: int, *, source: str, removed: bool = False,
                 how: str = "is", fix: str = "", against: str = "the pin says"):
        self.path, self.expected, self.actual, self.removed, self.source = path, expected, actual, removed, source
        if not fix:
            fix = ("The bad copy was removed from the cache; run the same call again to download a fresh one."
                   if removed else
                   f"{source} serves a different file than the one pinned: use another endpoint or mirror, or "
                   "replace the file there.")
        ZooError.__init__(
            self,
            f"size mismatch for {path} from {source}: it {how} {actual:,} bytes, {against} {expected:,}. The file "
            f"was not used (nor hashed). {fix}")
