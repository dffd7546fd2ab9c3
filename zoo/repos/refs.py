"""Model references: the one parser and resolver behind every API and command that takes a name.

A reference is one of

    dcgan.mnist, dcgan              a registered name (``arch.tag``; the bare architecture is its default tag)
    path/to/folder, ./run, ~/m      a Hub-repo folder: config.json + model.safetensors (+ README.md),
                                    as ``zoo train``, ``zoo convert`` and ``zoo new-plugin`` write them
    hf-hub:org/name[@revision]      a repo on the configured endpoint (the Hub, or a mirror such as olah);
                                    a 40-hex commit pins it, a branch or tag is resolved to its commit

A bare word is a registered name unless no plugin registers it and a folder of that name exists (write
``./name`` to mean the folder when both exist). ``org/name`` without the prefix is a folder; if none is
there, the error suggests ``hf-hub:org/name``.

A folder or Hub repo is built from its config.json (``{"architecture": ..., "config": {...}}``) through
the same checks as registered weights: the architecture's Field schema, then (when loading, in
zoo.loading) the bound on the model's size on the meta device before anything is allocated, then the
weights' keys, shapes, dtypes and finiteness. The sha256 of the weights file is recorded in a
:class:`ModelSource` (``model.zoo_source``) and printed when ``zoo.load`` loads one.

No torch here: ``zoo info`` and ``zoo card`` of a reference go through this module.

Parsing a reference is :mod:`.parsing`; its names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import (
    CardError,
    ConfigError,
    FileNotInRepoError,
    HashMismatchError,
    InvalidRefError,
    ModelRepoError,
    SizeMismatchError,
    UnknownArchitectureError,
    WeightsNotFoundError,
)
from .parsing import (  # noqa: F401  (zoo.refs's names before the split)
    HUB_PREFIX, CONFIG_FILE, WEIGHTS_FILE, CARD_FILE, _MAX_REVISION, Kind, ModelRef, _revision_problem,
    _REVISION_RE, _looks_like_path, _is_registered, parse_ref, _hub_ref, _folder_ref,
)

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from ..config import Settings
    from ..registry import Architecture


@dataclass(frozen=True)
class OpenedRepo:
    """A folder or Hub repo whose config.json was read (bounded) and validated against the schema of
    the architecture it names. For a Hub repo the revision is resolved: every file comes from
    ``commit``."""

    ref: ModelRef
    name: str  # the folder, or hf-hub:org/name@<commit>
    architecture: Architecture
    config: Mapping[str, Any]  # validated, the architecture's defaults filled in
    given_config: Mapping[str, Any]  # as config.json writes it
    meta: Mapping[str, Any]  # the whole config.json (dataset, metrics, recipe, weights pin, ...)
    config_file: Path  # the local file (the folder's, or the cache's)
    folder: Path | None = None  # a folder reference
    repo_id: str | None = None  # a Hub reference
    commit: str | None = None
    requested_revision: str | None = None  # as asked (None: main)
    resolved_by: str = ""  # "pinned", "endpoint" or "cache"
    config_source: str = ""  # where config.json came from: "folder", "cache", "hub"

    @property
    def pinned_sha256(self) -> str | None:
        """The weights' sha256 when config.json pins it (``zoo convert`` writes ``weights.sha256``)."""
        w = self.meta.get("weights")
        if isinstance(w, Mapping) and w.get("file", WEIGHTS_FILE) == WEIGHTS_FILE:
            sha = w.get("sha256")
            if isinstance(sha, str) and len(sha) == 64:
                return sha.lower()
        return None

    @property
    def pinned_size(self) -> int | None:
        """The weights' size in bytes when config.json pins it (``weights.size``, as ``zoo convert`` writes)."""
        w = self.meta.get("weights")
        if isinstance(w, Mapping) and w.get("file", WEIGHTS_FILE) == WEIGHTS_FILE:
            size = w.get("size")
            if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
                return size
        return None


@dataclass(frozen=True)
class ModelSource:
    """Where a model and its weights came from.

    It is on every model ``zoo.load`` returns (``model.zoo_source``), and ``zoo.model_info`` returns
    it for a folder or ``hf-hub:`` reference (for a registered name: the ModelInfo records).
    """

    name: str  # the registered name, the folder, or hf-hub:org/name@<commit>
    kind: Kind
    architecture: Architecture = field(repr=False)
    config: Mapping[str, Any]
    weights_file: Path  # the local file the tensors were read from
    sha256: str
    size: int
    repo_id: str | None = None
    revision: str | None = None  # the commit (hub; a registered model's pin); None for a folder
    requested_revision: str | None = None  # a branch or tag as asked, when it was resolved to ``revision``
    meta: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the folder's or repo's whole config.json

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    # a model carries its source: copying the model shares it (it is immutable), pickling it (torch.save
    # of a whole model) stores plain values and finds the architecture record again when unpickled
    def __copy__(self) -> ModelSource:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ModelSource:
        return self

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state.update(architecture=self.architecture.name, config=dict(self.config), meta=dict(self.meta))
        return (_unpickle_source, (state,))

    @property
    def pretrained(self) -> bool:
        return True

    @property
    def dataset(self) -> str | None:
        ds = self.meta.get("dataset")
        return ds if isinstance(ds, str) else None

    @property
    def metrics(self) -> Mapping[str, Any]:
        m = self.meta.get("metrics")
        return m if isinstance(m, Mapping) else {}

    def describe(self) -> str:
        """``hf-hub:org/name@<commit> (model.safetensors sha256 ...)``, as ``zoo.load`` prints it."""
        how = ""
        if self.requested_revision and self.requested_revision != self.revision:
            how = f"{self.requested_revision!r} resolved to that commit; "
        return f"{self.name} ({how}{self.weights_file.name} sha256 {self.sha256})"


def _unpickle_source(state: dict[str, Any]) -> ModelSource:
    return ModelSource(**{**state, "architecture": architecture_record(state["architecture"], "a pickled model")})


def _settings() -> Settings:
    from ..plugins import get_host

    return get_host().settings


def _folder_problem(path: Path) -> str | None:
    if path.is_dir():
        return None
    from ..registry import repo_id_problem

    if path.exists():
        return (f"{path} is a file, not a folder: give the Hub-repo folder that holds {CONFIG_FILE} and "
                f"{WEIGHTS_FILE}")
    hint = ""
    text = str(path)
    if repo_id_problem(text) is None:
        hint = f" For the Hub repo of that name write {HUB_PREFIX}{text}."
    return (f"{path} is neither a folder nor a registered model name (`zoo list`).{hint} A model folder holds "
            f"{CONFIG_FILE} and {WEIGHTS_FILE}, as `zoo train --out` and `zoo convert` write them.")


def open_repo(ref: ModelRef | str, *, architecture: str | None = None, settings: Settings | None = None) -> OpenedRepo:
    """Read and validate the config.json of a folder or Hub repo reference (no weights yet, no torch).

    ``architecture``: the one the caller expects; a config.json that names none is taken to be it.
    Raises ModelRepoError (not a folder, no config.json, no architecture key), UnknownArchitectureError,
    ConfigError (a schema violation, naming the file), LimitExceededError (config.json too large or too
    deep), and for a Hub repo NotOnHubError, RevisionNotFoundError, HubUnreachableError,
    OfflineNotCachedError.
    """
    from .hub import fetch_repo_file, resolve_revision

    ref = parse_ref(ref) if not isinstance(ref, ModelRef) else ref
    if ref.kind == "registered":
        raise InvalidRefError(f"{ref.name!r} is a registered name, not a folder or {HUB_PREFIX} repo")
    settings = settings or _settings()
    extra: dict[str, Any] = {}
    if ref.kind == "folder":
        assert ref.path is not None
        problem = _folder_problem(ref.path)
        if problem:
            raise ModelRepoError(problem)
        cfg_path = ref.path / CONFIG_FILE
        if not cfg_path.is_file():
            raise ModelRepoError(
                f"{ref.path} has no {CONFIG_FILE}, so the zoo cannot tell what to build. Write "
                '{"architecture": "<name>", "config": {...builder arguments...}} beside the weights '
                "(`zoo train` and `zoo convert` write it).")
        name = str(ref.path)
        extra.update(folder=ref.path, config_source="folder")
    else:
        assert ref.repo_id is not None
        try:
            resolved = resolve_revision(ref.repo_id, ref.revision, settings, probe=CONFIG_FILE)
            name = f"{HUB_PREFIX}{ref.repo_id}@{resolved.commit}"
            found, _ = fetch_repo_file(ref.repo_id, CONFIG_FILE, resolved.commit, settings)
        except FileNotInRepoError as e:
            raise ModelRepoError(f"{ref} has no {CONFIG_FILE}: it is not a zoo model repo (a Hub-repo folder "
                                 f"holds {CONFIG_FILE} beside {WEIGHTS_FILE}). {e}") from e
        cfg_path = found.path
        extra.update(repo_id=ref.repo_id, commit=resolved.commit, requested_revision=ref.revision,
                     resolved_by=resolved.how, config_source=found.source)
    arch_name, given, meta = read_repo_config(cfg_path, where=name, architecture=architecture)
    record = architecture_record(arch_name, name)
    try:
        config = record.validate_config(given)
    except ConfigError as e:
        raise ConfigError(f"{e}. Fix its {CONFIG_FILE}.",
                          path=name if ref.kind == "hub" else str(cfg_path)) from e
    return OpenedRepo(ref=ref, name=name, architecture=record, config=MappingProxyType(config),
                      given_config=MappingProxyType(dict(given)), meta=MappingProxyType(meta),
                      config_file=Path(cfg_path), **extra)


def read_repo_config(path: Path, *, where: str, architecture: str | None = None) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(architecture, builder arguments, the whole document) of a config.json, read within the limits
    by zoo.repos.folder (the one reader of config.json files)."""
    from ..config import current_limits
    from .folder import read_folder_config, read_json_bounded

    try:
        arch_name, given = read_folder_config(path, default_architecture=architecture)
    except ModelRepoError:
        raise
    except ConfigError as e:
        if "architecture" in str(e) and "JSON object" in str(e):
            raise ModelRepoError(
                f"{CONFIG_FILE} of {where} names no architecture: it must be a JSON object "
                '{"architecture": "<name>", "config": {...}}; `zoo list` shows the registered architectures') from e
        raise
    if architecture is not None and arch_name != architecture:
        raise ConfigError(f"config.json names architecture {arch_name!r}, expected {architecture!r}", path=str(path))
    limits = current_limits()
    meta = read_json_bounded(Path(path), limit_bytes=limits.config_bytes, nesting=limits.nesting)
    return arch_name, dict(given), dict(meta) if isinstance(meta, dict) else {}


def architecture_record(name: str, where: str) -> Architecture:
    """The registered Architecture ``name``; else UnknownArchitectureError saying what is installed (or
    the broken plugin's PluginError when a plugin that failed to load claimed it)."""
    from ..errors import PluginError
    from ..plugins import get_host

    host = get_host()
    registry = host.registry
    record = registry.architectures.get(name)
    if record is not None:
        return record
    err = registry.unknown(name)
    if isinstance(err, PluginError):
        raise err
    plugins = sorted(p.name for p in host.plugins.values() if p.state == "ok")
    raise UnknownArchitectureError(name, f"{CONFIG_FILE} of {where}", sorted(registry.architectures), plugins,
                                   sorted(registry.plugin_errors))


@dataclass(frozen=True)
class WeightsFile:
    path: Path
    sha256: str
    size: int
    source: str  # "folder", "cache" or "hub"


def fetch_weights(repo: OpenedRepo, settings: Settings | None = None) -> WeightsFile:
    """The local model.safetensors of an opened repo with its sha256: a folder's own file, or the Hub
    repo's at the resolved commit (downloaded into the cache, checked as published). A config.json
    that pins the file's sha256 (``weights.sha256``, as ``zoo convert`` writes) is checked too."""
    from .hub import check_as_published, checked_sha256, fetch_repo_file

    pin = repo.pinned_sha256
    if repo.folder is not None:
        path = repo.folder / WEIGHTS_FILE
        if not path.is_file():
            raise WeightsNotFoundError(
                f"{repo.folder} has no {WEIGHTS_FILE} beside its {CONFIG_FILE}. Save the model's state_dict "
                f"there (safetensors.torch.save_file), or point at the folder `zoo train --out` wrote.")
        actual_size = path.stat().st_size
        if repo.pinned_size is not None and actual_size != repo.pinned_size:  # by stat, before hashing
            raise SizeMismatchError(str(path), repo.pinned_size, actual_size, source=f"the folder {repo.folder}",
                                    fix=f"Its {CONFIG_FILE} pins another file: put the right {WEIGHTS_FILE} there, "
                                        f"or fix the pin in {CONFIG_FILE}.")
        sha = checked_sha256(path)
        if pin is not None and sha != pin:
            raise HashMismatchError(str(path), pin, sha, removed=False)
        return WeightsFile(path, sha, actual_size, "folder")
    assert repo.repo_id is not None and repo.commit is not None
    settings = settings or _settings()
    try:
        found, sha = fetch_repo_file(repo.repo_id, WEIGHTS_FILE, repo.commit, settings, sha256=pin,
                                     size=repo.pinned_size)
    except FileNotInRepoError as e:
        raise WeightsNotFoundError(f"{repo.name} has no {WEIGHTS_FILE} beside its {CONFIG_FILE}; the repo "
                                   "is incomplete: publish the weights with it (`zoo push`).") from e
    if pin is not None:  # checked by find_file against the pin; the ETag check once more costs nothing
        sha = check_as_published(found.path)
    return WeightsFile(found.path, sha, found.path.stat().st_size, found.source)


def source_of(repo: OpenedRepo, weights: WeightsFile) -> ModelSource:
    return ModelSource(
        name=repo.name, kind=repo.ref.kind, architecture=repo.architecture, config=repo.config,
        weights_file=weights.path, sha256=weights.sha256, size=weights.size, repo_id=repo.repo_id,
        revision=repo.commit,
        requested_revision=(repo.requested_revision or "main") if repo.resolved_by in ("endpoint", "cache") else None,
        meta=repo.meta,
    )


def repo_info(ref: ModelRef | str, *, settings: Settings | None = None) -> ModelSource:
    """What ``zoo.model_info`` says of a folder or Hub repo: architecture, validated config, resolved
    commit and the sha256 of its weights (downloaded into the cache for a Hub repo). No torch."""
    repo = open_repo(ref, settings=settings)
    return source_of(repo, fetch_weights(repo, settings))


def repo_card(ref: ModelRef | str, *, settings: Settings | None = None) -> ModelCard:
    """The model card (README.md) of a folder or Hub repo at its resolved commit, read and checked by
    zoo.cards like any registered model's card (bounded, schema-checked; metrics required when
    config.json records some)."""
    from ..cards import read_card_file
    from .hub import fetch_repo_file

    settings = settings or _settings()
    repo = open_repo(ref, settings=settings)
    if repo.folder is not None:
        path = repo.folder / CARD_FILE
        if not path.is_file():
            raise CardError(f"{repo.folder} has no model card {CARD_FILE}; `zoo train` and `zoo convert` write "
                            "one, `zoo new-plugin` writes one to start from", path=str(path))
    else:
        assert repo.repo_id is not None and repo.commit is not None
        try:
            found, _ = fetch_repo_file(repo.repo_id, CARD_FILE, repo.commit, settings)
        except FileNotInRepoError as e:
            raise CardError(f"{repo.name} has no model card {CARD_FILE}") from e
        path = found.path
    return read_card_file(path, needs_metrics=bool(_measured(repo.meta.get("metrics"))))


def _measured(metrics: Any) -> dict[str, Any]:
    """The numbers among config.json's metrics (a folder before `zoo eval` has none)."""
    if not isinstance(metrics, Mapping):
        return {}
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


__all__ = ["HUB_PREFIX", "ModelRef", "ModelSource", "OpenedRepo", "WeightsFile", "fetch_weights", "open_repo",
           "parse_ref", "repo_card", "repo_info", "source_of"]
