"""Finding a weights file: the Hugging Face cache, the configured endpoint, then
local mirrors laid out ``<mirror>/<repo_id>/<file>``; every weights file is
checked against its pinned sha256 before use.

No torch here: `zoo card` and `zoo download` go through this module too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, check_mirror, load_settings
from ..errors import (
    FileNotInRepoError,
    HashMismatchError,
    HubUnreachableError,
    LimitExceededError,
    NotOnHubError,
    OfflineNotCachedError,
    PinMismatchError,
    RevisionNotFoundError,
    SizeMismatchError,
    WeightsNotFoundError,
)

log = logging.getLogger("zoo.hub")  # its name before the move to zoo.repos, kept for log configuration

_CHUNK = 1 << 20


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


def _hf():
    import huggingface_hub

    return huggingface_hub


def _endpoint_name(settings: Settings) -> str:
    return settings.endpoint or "https://huggingface.co"


def cache_root() -> Path:
    """The Hugging Face hub cache folder in use (HF_HUB_CACHE)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _cache_entry(path: Path) -> tuple[Path, Path] | None:
    """(the snapshot entry, the blob it resolves to) when ``path`` is a file of this cache's own layout
    ``<cache>/models--org--name/snapshots/<rev>/<file>`` whose target lies in that repo's ``blobs/``;
    else None. Nothing outside the cache ever qualifies, whatever a link points at."""
    root = Path(os.path.realpath(cache_root()))
    entry = Path(os.path.realpath(path.parent)) / path.name  # the entry itself, its folders resolved
    if not _inside(entry, root):
        return None
    parts = entry.relative_to(root).parts
    if len(parts) < 4 or not parts[0].startswith(("models--", "datasets--", "spaces--")) or parts[1] != "snapshots":
        return None
    blobs = root / parts[0] / "blobs"
    target = Path(os.path.realpath(entry))
    if target == entry and not entry.is_symlink():
        return entry, target  # a cache without symlinks (huggingface_hub's fallback) stores the file itself
    if target.parent != blobs:
        return None
    return entry, target


def _remove_from_cache(path: Path) -> bool:
    """Delete a bad cached file: its snapshot link and the blob the link points at.

    Only a blob inside that cache's own ``blobs/`` folder is ever deleted. A snapshot entry that
    points anywhere else (a link to a user's file, a folder linked into the cache) is reported and
    left alone, and so is its target.
    """
    found = _cache_entry(path)
    if found is None:
        log.warning("not removing %s: it is not a file of the Hugging Face cache at %s (it points outside "
                    "that cache's blobs/ folder); remove it yourself if it is yours to remove",
                    path, cache_root())
        return False
    entry, target = found
    removed = False
    try:
        if entry.is_symlink():
            entry.unlink()
            removed = True
        if target.exists():  # the blob (or, without symlinks, the entry itself)
            target.unlink()
            removed = True
    except OSError as e:  # pragma: no cover - permissions
        log.warning("could not remove bad cached file %s: %s", path, e)
    return removed


def _git_blob_sha1(path: Path) -> str:
    h = hashlib.sha1()
    h.update(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _intact_as_published(path: Path, actual: str) -> bool:
    """True when a cached file's content is what the server said it was: huggingface_hub names each
    blob after the server's ETag, the sha256 of an LFS file or the git blob id of a plain one."""
    found = _cache_entry(path)
    if found is None:
        return False
    etag = found[1].name
    return etag == actual or (len(etag) == 40 and etag == _git_blob_sha1(found[1]))


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


def from_cache(repo_id: str, filename: str, revision: str) -> Path | None:
    """The cached file for exactly this revision, or None."""
    hf = _hf()
    try:
        return Path(hf.hf_hub_download(repo_id, filename, revision=revision, local_files_only=True))
    except (hf.errors.LocalEntryNotFoundError, hf.errors.OfflineModeIsEnabled, FileNotFoundError):
        return None
    except hf.errors.HFValidationError as e:
        raise NotOnHubError(f"invalid repository or revision for {repo_id}: {e}") from e


def file_metadata(repo_id: str, filename: str, revision: str, settings: Settings):
    """huggingface_hub's ``HfFileMetadata`` of one file (its commit, ETag, size) from the endpoint, in one
    request without retries; every failure is one of the zoo's typed errors (NotOnHubError and its
    RevisionNotFoundError, HubUnreachableError) whose message names the endpoint and the fix."""
    hf = _hf()
    endpoint = _endpoint_name(settings)
    url = hf.hf_hub_url(repo_id, filename, revision=revision, endpoint=settings.endpoint)
    try:
        return hf.get_hf_file_metadata(url, timeout=settings.timeout)
    except (hf.errors.RepositoryNotFoundError, hf.errors.GatedRepoError) as e:
        if _revision_missing(hf, repo_id, filename, revision, settings):  # olah says so of a missing branch
            raise RevisionNotFoundError(
                f"{endpoint}: repository {repo_id!r} has no revision {revision!r} (it answers for its main "
                "branch). Check the branch, tag or commit (a Weights record's pin, or the @revision of an "
                "hf-hub: reference).") from e
        raise NotOnHubError(
            f"{endpoint} has no repository {repo_id!r} (or it is private/gated). Check the name, "
            "log in with `hf auth login` if it is private, or add a mirror that has it."
        ) from e
    except hf.errors.RevisionNotFoundError as e:
        raise RevisionNotFoundError(f"{endpoint}: repository {repo_id!r} has no revision {revision!r}. "
                                    "Check the branch, tag or commit (a Weights record's pin, or the @revision "
                                    "of an hf-hub: reference).") from e
    except hf.errors.EntryNotFoundError as e:
        raise FileNotInRepoError(f"{endpoint}: {repo_id}@{revision} has no file {filename!r}.") from e
    except hf.errors.HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", "?")
        if _revision_missing(hf, repo_id, filename, revision, settings):
            raise RevisionNotFoundError(
                f"{endpoint}: repository {repo_id!r} has no revision {revision!r} (it answered HTTP {status} for "
                f"it, and answers for the repository's main branch). The revision (the pin in a Weights record, "
                "or the @revision of an hf-hub: reference) is wrong or was never pushed there: fix it, or publish "
                "that commit (`zoo push`)."
            ) from e
        raise HubUnreachableError(
            f"{endpoint} answered HTTP {status} for {repo_id}/{filename}. Try again later, "
            "or use a mirror (ZOO_MIRRORS) or a cached copy (`zoo download` on a connected machine)."
        ) from e
    except Exception as e:  # connection refused, DNS failure, timeout
        raise HubUnreachableError(
            f"cannot reach {endpoint} ({type(e).__name__}: {e}). Check the network or HF_ENDPOINT, "
            "set HF_HUB_OFFLINE=1 to use only the cache and mirrors, or prefetch with `zoo download`."
        ) from e


# files the zoo reads as text, bounded by [limits]: refused by the size the server states, before downloading
_SIZE_LIMITED = {"config.json": ("config_bytes", "config files"), "README.md": ("card_bytes", "model cards")}


def _check_size(repo_id: str, filename: str, meta, settings: Settings) -> None:
    entry = _SIZE_LIMITED.get(filename.rsplit("/", 1)[-1])
    size = getattr(meta, "size", None)
    if entry is None or not isinstance(size, int):
        return
    limit = getattr(settings.limits, entry[0])
    if size > limit:
        raise LimitExceededError(f"{_endpoint_name(settings)}: {repo_id}/{filename} is larger than the limit on "
                                 f"{entry[1]} (nothing was downloaded)", f"{size:,} bytes", limit, entry[0])


_ETAG_RE = re.compile(r"^[0-9A-Za-z_-][0-9A-Za-z._-]{0,127}$")


def _download_bound(repo_id: str, filename: str, revision: str, settings: Settings, stated: int | None,
                    size: int | None):
    """The most bytes a download of this file may bring (zoo.download.Bound), or None: the pinned size, the
    limit on config files and cards, and the size the server stated, whichever is smallest."""
    from .download import Bound

    endpoint = _endpoint_name(settings)
    what = f"{repo_id}/{filename}@{revision[:12]}"
    stop = "The download was stopped there; nothing was kept in the cache."
    bounds: list[Bound] = []
    if size is not None:
        bounds.append(Bound(size, lambda n: SizeMismatchError(
            f"{endpoint}: {what}", size, n, source=endpoint, how="sent more than", removed=False,
            fix=f"{stop} {endpoint} serves a different file than the one pinned: use another endpoint or a mirror "
                "(ZOO_MIRRORS), or have the file there replaced.")))
    entry = _SIZE_LIMITED.get(filename.rsplit("/", 1)[-1])
    if entry is not None:
        limit = getattr(settings.limits, entry[0])
        bounds.append(Bound(limit, lambda n: LimitExceededError(
            f"{endpoint}: {what} is larger than the limit on {entry[1]} (the download was stopped after {n:,} "
            "bytes; nothing was kept)", f"more than {limit:,} bytes", limit, entry[0])))
    if stated is not None:
        bounds.append(Bound(stated, lambda n: SizeMismatchError(
            f"{endpoint}: {what}", stated, n, source=endpoint, how="sent more than", against="the server stated",
            fix=f"{stop} The server's answer is inconsistent: use another endpoint or a mirror (ZOO_MIRRORS).")))
    return min(bounds, key=lambda b: b.size) if bounds else None


def from_hub(repo_id: str, filename: str, revision: str, settings: Settings, *, size: int | None = None) -> Path:
    """Download into the Hugging Face cache; raises the zoo's typed errors.

    A first metadata request without retries decides quickly whether the endpoint answers, so that an
    unreachable server costs one timeout, not a retry storm. The size it states is compared with ``size``
    (the pinned size) and the limits before anything is downloaded; then one GET (zoo.download: no
    retries, every read bounded by the timeout, the bytes counted against the bound as they arrive, a
    bounded wait for another process's download lock).
    """
    from urllib.parse import urlparse

    from .download import download

    hf = _hf()
    endpoint = _endpoint_name(settings)
    meta = file_metadata(repo_id, filename, revision, settings)
    _check_size(repo_id, filename, meta, settings)
    stated = meta.size if isinstance(meta.size, int) else None
    if size is not None and stated is not None and stated != size:
        raise SizeMismatchError(
            f"{endpoint}: {repo_id}/{filename}@{revision[:12]}", size, stated, source=endpoint,
            how="is, as the server states,",
            fix=f"Nothing was downloaded. {endpoint} serves a different file than the one pinned: use another "
                "endpoint or a mirror (ZOO_MIRRORS), or have the file there replaced.")
    commit, etag = meta.commit_hash, meta.etag
    if not is_commit(commit or "") or not etag or not _ETAG_RE.match(etag):
        raise HubUnreachableError(
            f"{endpoint} did not answer for {repo_id}/{filename} as a Hub does (commit {commit!r}, ETag {etag!r}). "
            "Check HF_ENDPOINT, or use a mirror (ZOO_MIRRORS).")
    bound = _download_bound(repo_id, filename, revision, settings, stated, size)
    remove_stale_partials(repo_id)
    headers = hf.utils.build_hf_headers()
    headers["Accept-Encoding"] = "identity"  # the file's own bytes, counted as they arrive
    if urlparse(meta.location).netloc != urlparse(endpoint).netloc:
        headers.pop("authorization", None)  # a CDN the endpoint redirects to gets no token
        headers.pop("Authorization", None)
    try:
        return download(meta.location, headers, cache=cache_root(), repo_id=repo_id, filename=filename,
                        revision=revision, commit=commit, etag=etag, stated=stated, bound=bound,
                        timeout=settings.timeout, endpoint=endpoint)
    except OSError as e:  # the cache cannot be written (disk full, permissions)
        raise HubUnreachableError(
            f"the download of {repo_id}/{filename} from {endpoint} could not be written to the Hugging Face cache "
            f"at {cache_root()} ({e.strerror or e}). Free space or fix its permissions (HF_HOME, HF_HUB_CACHE), "
            "then run the same call again.") from e


def _revision_missing(hf, repo_id: str, filename: str, revision: str, settings: Settings) -> bool:
    """After an HTTP error for a pinned revision: does the same file answer on the main branch?

    Some servers (olah) answer an unknown commit with a 5xx instead of a 404; if main answers, the
    revision is what is missing, not the server. Only asked on the error path.
    """
    if revision == "main":
        return False
    url = hf.hf_hub_url(repo_id, filename, revision="main", endpoint=settings.endpoint)
    for _ in range(2):  # a server that just failed may also have closed the pooled connection: ask twice
        try:
            hf.get_hf_file_metadata(url, timeout=settings.timeout)
            return True
        except hf.errors.EntryNotFoundError:
            return True  # the repository answers; the file is not on main, and the revision did not answer
        except hf.errors.HfHubHTTPError:
            return False
        except Exception:  # connection reset, timeout
            continue
    return False


def remove_stale_partials(repo_id: str) -> list[Path]:
    """Delete partial downloads (``blobs/*.incomplete``) of ``repo_id`` that no process is writing.

    huggingface_hub writes each download to a file unique to that process and removes it when the
    download fails, but a killed process leaves it behind, and it is never resumed. A partial file whose
    download lock can be taken at once has no writer left, so it is removed; one being written is kept.
    """
    from filelock import FileLock, Timeout

    root = cache_root()
    folder = "models--" + repo_id.replace("/", "--")
    blobs = root / folder / "blobs"
    removed: list[Path] = []
    try:
        partials = sorted(blobs.glob("*.incomplete"))
    except OSError:
        return removed
    for partial in partials:
        etag = partial.name.split(".", 1)[0]
        lock = FileLock(str(root / ".locks" / folder / f"{etag}.lock"), timeout=0)
        try:
            lock.acquire()
        except (Timeout, OSError):
            continue  # another download of that file is under way
        try:
            partial.unlink(missing_ok=True)
            removed.append(partial)
        except OSError as e:  # pragma: no cover - permissions
            log.warning("could not remove the partial download %s: %s", partial, e)
        finally:
            lock.release()
    return removed


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


def cached_files(repo_id: str, revision: str) -> list[Path]:
    """Files of ``repo_id`` at ``revision`` present in the Hugging Face cache."""
    hf = _hf()
    try:
        info = hf.scan_cache_dir()
    except hf.errors.CacheNotFound:
        return []
    out: list[Path] = []
    for repo in info.repos:
        if repo.repo_id != repo_id or repo.repo_type != "model":
            continue
        for rev in repo.revisions:
            if rev.commit_hash == revision:
                out.extend(f.file_path for f in rev.files)
    return out


# -- repos named by reference (zoo.refs): a revision resolved to its commit, files checked as published --

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


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


def is_commit(revision: str | None) -> bool:
    """True for a full 40-character lower-case hex commit sha (a pin), False for a branch or tag."""
    return bool(revision and _COMMIT_RE.match(revision))


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
