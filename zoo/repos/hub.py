"""Finding a weights file: the Hugging Face cache, the configured endpoint, then
local mirrors laid out ``<mirror>/<repo_id>/<file>``; every weights file is
checked against its pinned sha256 before use.

No torch here: `zoo card` and `zoo download` go through this module too.

The cache (:mod:`.cache`) and the endpoint (:mod:`.endpoint`) are read through here; their names stay
importable from here, and the finding below calls them by these names (so a test may replace one).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, check_mirror, load_settings
from ..errors import (
    FileNotInRepoError,
    HashMismatchError,
    HubUnreachableError,
    NotOnHubError,
    OfflineNotCachedError,
    PinMismatchError,
    SizeMismatchError,
    WeightsNotFoundError,
)
from .cache import (  # noqa: F401  (zoo.hub's names before the split)
    log, _CHUNK, _hf, cache_root, _inside, _cache_entry, _remove_from_cache, _git_blob_sha1,
    _intact_as_published, from_cache, cached_files, remove_stale_partials, _COMMIT_RE, is_commit,
)
from .endpoint import (  # noqa: F401  (zoo.hub's names before the split)
    _endpoint_name, file_metadata, _SIZE_LIMITED, _check_size, _ETAG_RE, _download_bound, from_hub,
    _revision_missing,
)


@dataclass(frozen=True)
class FoundFile:
    """A file found on one of the sources, checked when a sha256 was given."""

    path: Path
    source: str  # "cache", "hub" or "mirror"
    where: str  # the endpoint or mirror folder it came from ("" for the cache)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# A file checked once in this process is not hashed again while its inode,
# size and change time stay the same (ctime cannot be set back by a user).
_verified: dict[tuple[str, int, int, int, int], str] = {}
_verified_lock = threading.Lock()


def _stamp(path: Path) -> tuple[str, int, int, int, int]:
    st = os.stat(path)
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def checked_sha256(path: Path) -> str:
    """The file's sha256, memoised per (inode, size, mtime, ctime)."""
    key = _stamp(path)
    with _verified_lock:
        if key in _verified:
            return _verified[key]
    digest = sha256_file(path)
    with _verified_lock:
        _verified[key] = digest
    return digest


def _check(path: Path, sha256: str | None, *, in_cache: bool, pin: tuple[str, str] | None = None,
           source: str = "the Hub", size: int | None = None) -> None:
    """Raise unless ``path`` has ``sha256``. ``pin`` is (plugin, model name) of the record pinning it.
    With ``size`` (the pinned size) the file's size is compared first, by stat: a file of the wrong size
    is refused without being read (an 8 GB file in a mirror is not hashed to find that out)."""
    if size is not None:
        actual_size = path.stat().st_size
        if actual_size != size:
            removed = _remove_from_cache(path) if in_cache else False
            raise SizeMismatchError(str(path), size, actual_size, source=source, removed=removed, fix="" if removed else
                                    "Replace or delete that file (it is truncated, damaged or another file), then "
                                    "try again.")
    if sha256 is None:
        return
    actual = checked_sha256(path)
    if actual != sha256:
        if in_cache and pin is not None and _intact_as_published(path, actual):
            # the download is intact: the record's pin is wrong, and deleting and retrying cannot help
            raise PinMismatchError(str(path), sha256, actual, plugin=pin[0], name=pin[1], source=source)
        removed = _remove_from_cache(path) if in_cache else False
        raise HashMismatchError(str(path), sha256, actual, removed=removed)


def from_mirrors(repo_id: str, filename: str, settings: Settings) -> list[Path]:
    """The copies of ``repo_id/filename`` in the configured mirrors; a mirror that is not a folder is a
    ConfigError (a typo in ZOO_MIRRORS must not look like an empty mirror)."""
    found = []
    for mirror in settings.mirrors:
        check_mirror(Path(mirror), settings)
        candidate = Path(mirror) / repo_id / filename
        if candidate.is_file():
            found.append(candidate)
    return found


def find_file(
    repo_id: str,
    filename: str,
    revision: str,
    *,
    sha256: str | None = None,
    settings: Settings | None = None,
    use_mirrors: bool = True,
    pinned_by: tuple[str, str] | None = None,
    size: int | None = None,
) -> FoundFile:
    """Find ``filename`` of ``repo_id`` at ``revision``: cache, endpoint, mirrors.

    With ``sha256`` every candidate is checked; a bad cached copy is deleted
    (the next call downloads afresh) and a mismatch is raised, never used.
    ``pinned_by`` is (plugin, model name) of the record that pins ``sha256``: a
    download that is intact but differs from the pin is then a PinMismatchError.
    """
    settings = settings or load_settings()
    key = (repo_id, filename, revision, sha256, settings, use_mirrors, size)
    memo = _found.get(key)
    if memo is not None and memo.path.exists():
        # found before in this process: re-check (memoised by inode/size/times) and reuse
        _check(memo.path, sha256, in_cache=memo.source != "mirror", size=size, source=memo.where or "the cache")
        return memo
    pin = pinned_by or ("?", f"{repo_id}/{filename}")
    found = _find_file(repo_id, filename, revision, sha256, settings, use_mirrors, pin, size)
    _found[key] = found
    return found


# (repo_id, filename, revision, sha256, settings, use_mirrors) -> where it was found in this process
_found: dict[tuple, FoundFile] = {}


def forget() -> None:
    """Drop this process's memory of found and verified files (tests; after editing a mirror)."""
    _found.clear()
    _published.clear()
    with _verified_lock:
        _verified.clear()


def _find_file(repo_id: str, filename: str, revision: str, sha256: str | None, settings: Settings,
               use_mirrors: bool, pin: tuple[str, str], size: int | None = None) -> FoundFile:
    cached = from_cache(repo_id, filename, revision)
    if cached is not None:
        _check(cached, sha256, in_cache=True, pin=pin, source="the server it was downloaded from", size=size)
        return FoundFile(cached, "cache", "")

    hub_error: Exception | None = None
    if not settings.offline:
        try:
            path = from_hub(repo_id, filename, revision, settings, size=size)
            _check(path, sha256, in_cache=True, pin=pin, source=_endpoint_name(settings), size=size)
            return FoundFile(path, "hub", _endpoint_name(settings))
        except (NotOnHubError, HubUnreachableError) as e:
            hub_error = e
            log.info("%s; trying mirrors", e)

    mismatch: HashMismatchError | None = None
    if use_mirrors:
        for path in from_mirrors(repo_id, filename, settings):
            try:
                _check(path, sha256, in_cache=False, size=size, source=f"the mirror {path.parent.parent.parent}")
            except HashMismatchError as e:
                mismatch = mismatch or e
                continue
            return FoundFile(path, "mirror", str(path.parent.parent.parent))
    if mismatch is not None:
        raise mismatch

    where = f"{repo_id}/{filename}@{revision[:12]}"
    if use_mirrors:
        mirrors = ", ".join(str(m) for m in settings.mirrors) or "none configured"
        in_cache = "neither in the Hugging Face cache nor in a mirror"
        also = f" No mirror has {where} either (mirrors: {mirrors})."
    else:  # `zoo download`: it fills the cache from the endpoint and never looks in a mirror
        mirrors = "not searched"
        in_cache = "not in the Hugging Face cache (mirrors were not searched)"
        registered = pin[0] != "?"  # a registered name's weights are pinned by its plugin
        also = (f" (`zoo download` fills the Hugging Face cache from the endpoint only; {pin[1]} loads without "
                "downloading from a mirror folder: zoo.load and `zoo sample` search ZOO_MIRRORS and the built-in "
                "cards/.)" if registered else
                " (Mirrors were not searched: `zoo download` fills the cache from the endpoint only, and a "
                "mirror folder holds no revisions to fetch an hf-hub: reference at.)")
    if settings.offline and not use_mirrors:
        offline_fix = (f"; to use {pin[1]} offline without downloading it, zoo.load({pin[1]!r}) and `zoo sample` "
                       "find it in a mirror folder (ZOO_MIRRORS, or the built-in cards/)" if pin[0] != "?" else "")
        raise OfflineNotCachedError(
            f"`zoo download` fetches from the endpoint, but the zoo is offline (HF_HUB_OFFLINE=1 or [hub] offline "
            f"in zoo.toml) and {where} is not in the Hugging Face cache (mirrors were not searched: `zoo download` "
            "fills the cache). Unset HF_HUB_OFFLINE (and [hub] offline) "
            f"and run the same command where {_endpoint_name(settings)} is reachable{offline_fix}."
        )
    if settings.offline:
        raise OfflineNotCachedError(
            f"offline (HF_HUB_OFFLINE=1 or [hub] offline) and {where} is {in_cache}"
            f" ({mirrors}). Run `zoo download` while online, or add a mirror folder with ZOO_MIRRORS."
        )
    if isinstance(hub_error, HubUnreachableError):  # keep the kind (DownloadLockedError)
        raise type(hub_error)(f"{hub_error}{also}") from hub_error
    if isinstance(hub_error, NotOnHubError):  # keep the kind (RevisionNotFoundError)
        raise type(hub_error)(f"{hub_error}{also}") from hub_error
    raise WeightsNotFoundError(f"{where} was not found (mirrors: {mirrors}).")


@dataclass(frozen=True)
class ResolvedRevision:
    """A branch, tag or commit of a Hub repo and the commit it names."""

    repo_id: str
    requested: str  # as asked: "main", a tag, a commit
    commit: str  # the full 40-character commit sha
    how: str  # "pinned" (asked for by commit), "endpoint" (the server said), "cache" (the cache's ref)

    @property
    def pinned(self) -> bool:
        return self.how == "pinned"


def _commit_from_cache(repo_id: str, revision: str, probe: str) -> str | None:
    """The commit the Hugging Face cache records for ``revision`` (its refs/), found through ``probe``."""
    cached = from_cache(repo_id, probe, revision)
    return None if cached is None else _snapshot_commit(cached)


def _snapshot_commit(path: Path) -> str | None:
    """The commit of a cache path ``.../snapshots/<commit>/<file>``, or None."""
    parts = Path(path).parts
    if "snapshots" in parts[:-1]:
        commit = parts[parts.index("snapshots") + 1]
        if is_commit(commit):
            return commit
    return None


def resolve_revision(repo_id: str, revision: str | None, settings: Settings, *,
                     probe: str = "config.json") -> ResolvedRevision:
    """The commit that ``revision`` (default ``main``) of ``repo_id`` names, through huggingface_hub.

    A full commit sha is a pin and is returned as it is (no request). A branch or tag is asked of the
    endpoint by fetching ``probe`` at it (a first metadata request without retries, as for any file):
    the commit it came from is what every other file is then fetched at, so all files come from one
    commit even if the branch moves meanwhile, and the cache records the branch for offline use.
    Offline, or when the endpoint cannot be reached, the cache's record of the branch answers if it
    has one (and a warning says the answer may be stale).
    """
    revision = revision or "main"
    if is_commit(revision):
        return ResolvedRevision(repo_id, revision, revision, "pinned")
    endpoint = _endpoint_name(settings)
    if not settings.offline:
        try:
            # downloading the probe file by branch records the branch in the cache's refs/ (so that
            # offline use resolves it later) and its snapshot folder names the commit it came from
            path = from_hub(repo_id, probe, revision, settings)
        except HubUnreachableError as e:
            cached = _commit_from_cache(repo_id, revision, probe)
            if cached is None:
                raise
            log.warning("%s; using the commit the cache records for %s@%s: %s (it may be stale)",
                        e, repo_id, revision, cached)
            return ResolvedRevision(repo_id, revision, cached, "cache")
        except FileNotInRepoError as e:
            raise FileNotInRepoError(f"{endpoint}: {repo_id}@{revision} has no file {probe!r}: it is not a zoo "
                                     f"model repo (a Hub-repo folder holds {probe} beside its weights).") from e
        commit = _snapshot_commit(path)
        if commit is None:
            commit = getattr(file_metadata(repo_id, probe, revision, settings), "commit_hash", None)
        if not is_commit(commit):
            raise HubUnreachableError(
                f"{endpoint} did not say which commit {repo_id}@{revision} is (no X-Repo-Commit header). "
                "Give a full 40-character commit instead of a branch or tag, or use another endpoint.")
        return ResolvedRevision(repo_id, revision, commit, "endpoint")
    cached = _commit_from_cache(repo_id, revision, probe)
    if cached is None:
        raise OfflineNotCachedError(
            f"offline (HF_HUB_OFFLINE=1 or [hub] offline) and the Hugging Face cache does not know which commit "
            f"{repo_id}@{revision} is. Run `zoo download hf-hub:{repo_id}@{revision}` while online, or give a "
            "full 40-character commit that is cached.")
    return ResolvedRevision(repo_id, revision, cached, "cache")


# blob stamp -> whether its content is what the server published (its ETag)
_published: dict[tuple[str, int, int, int, int], bool] = {}


def as_published(path: Path) -> tuple[str, bool | None]:
    """(sha256, intact) of a file of the Hugging Face cache: intact is whether its content is still what
    the server published. huggingface_hub names each blob after the server's ETag (the sha256 of an LFS
    file, the git blob id of a plain one), so a blob that no longer matches its name was changed after
    the download (tampered or damaged). None: it cannot be told (a file outside the cache's own layout,
    a cache without symlinks, an ETag of another kind)."""
    path = Path(path)
    actual = checked_sha256(path)
    found = _cache_entry(path)
    if found is None or found[1] == found[0]:
        return actual, None
    blob = found[1]
    etag = blob.name
    key = _stamp(blob)
    ok = _published.get(key)
    if ok is None:
        if len(etag) == 64:
            ok = etag == actual
        elif len(etag) == 40:
            ok = etag == _git_blob_sha1(blob)
        else:
            return actual, None
        _published[key] = ok
    return actual, ok


def check_as_published(path: Path) -> str:
    """The sha256 of a cached file after :func:`as_published`; a file changed since its download is
    removed from the cache and HashMismatchError raised (the next call downloads a fresh copy)."""
    actual, ok = as_published(path)
    if ok is False:
        etag = _cache_entry(Path(path))[1].name  # type: ignore[index]
        removed = _remove_from_cache(Path(path))
        raise HashMismatchError(str(path), etag if len(etag) == 64 else f"the content of git blob {etag}",
                                actual, removed=removed)
    return actual


def fetch_repo_file(repo_id: str, filename: str, commit: str, settings: Settings, *,
                    sha256: str | None = None, size: int | None = None) -> tuple[FoundFile, str]:
    """A file of ``repo_id`` at ``commit`` (cache, then endpoint; never a mirror, which has no
    revisions) and its sha256, checked as published (:func:`check_as_published`) and, when
    ``sha256`` is given, against it."""
    found = find_file(repo_id, filename, commit, sha256=sha256, settings=settings, use_mirrors=False, size=size)
    return found, check_as_published(found.path)
