"""Finding a weights file: the Hugging Face cache, the configured endpoint, then
local mirrors laid out ``<mirror>/<repo_id>/<file>``; every weights file is
checked against its pinned sha256 before use.

No torch here: `zoo card` and `zoo download` go through this module too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .config import Settings, load_settings
from .errors import (
    HashMismatchError,
    HubUnreachableError,
    NotOnHubError,
    OfflineNotCachedError,
    WeightsNotFoundError,
)

log = logging.getLogger(__name__)

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


def _remove_from_cache(path: Path) -> bool:
    """Delete a cached file: the snapshot link and the blob it points at."""
    removed = False
    try:
        target = path.resolve()
        if path.is_symlink():
            path.unlink()
            removed = True
        if target.exists():
            target.unlink()
            removed = True
    except OSError as e:  # pragma: no cover - permissions
        log.warning("could not remove bad cached file %s: %s", path, e)
    return removed


def _check(path: Path, sha256: str | None, *, in_cache: bool) -> None:
    if sha256 is None:
        return
    actual = checked_sha256(path)
    if actual != sha256:
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


def from_hub(repo_id: str, filename: str, revision: str, settings: Settings) -> Path:
    """Download into the Hugging Face cache; raises the zoo's typed errors.

    A first metadata request without retries decides quickly whether the
    endpoint answers, so that an unreachable server costs one timeout, not a
    retry storm.
    """
    hf = _hf()
    endpoint = _endpoint_name(settings)
    url = hf.hf_hub_url(repo_id, filename, revision=revision, endpoint=settings.endpoint)
    try:
        hf.get_hf_file_metadata(url, timeout=settings.timeout)
    except (hf.errors.RepositoryNotFoundError, hf.errors.GatedRepoError) as e:
        raise NotOnHubError(
            f"{endpoint} has no repository {repo_id!r} (or it is private/gated). Check the name, "
            "log in with `hf auth login` if it is private, or add a mirror that has it."
        ) from e
    except hf.errors.RevisionNotFoundError as e:
        raise NotOnHubError(f"{endpoint}: repository {repo_id!r} has no revision {revision!r}.") from e
    except hf.errors.EntryNotFoundError as e:
        raise NotOnHubError(f"{endpoint}: {repo_id}@{revision} has no file {filename!r}.") from e
    except hf.errors.HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", "?")
        raise HubUnreachableError(
            f"{endpoint} answered HTTP {status} for {repo_id}/{filename}. Try again later, "
            "or use a mirror (ZOO_MIRRORS) or a cached copy (`zoo download` on a connected machine)."
        ) from e
    except Exception as e:  # connection refused, DNS failure, timeout
        raise HubUnreachableError(
            f"cannot reach {endpoint} ({type(e).__name__}: {e}). Check the network or HF_ENDPOINT, "
            "set HF_HUB_OFFLINE=1 to use only the cache and mirrors, or prefetch with `zoo download`."
        ) from e
    try:
        path = hf.hf_hub_download(
            repo_id, filename, revision=revision, endpoint=settings.endpoint, etag_timeout=settings.timeout
        )
    except hf.errors.HfHubHTTPError as e:
        raise HubUnreachableError(
            f"download of {repo_id}/{filename} from {endpoint} failed: {e}. Run the same call again: "
            "a partial download resumes."
        ) from e
    except hf.errors.LocalEntryNotFoundError as e:
        raise HubUnreachableError(f"download of {repo_id}/{filename} from {endpoint} failed: {e}") from e
    except Exception as e:  # OSError, httpx transport errors: the connection died mid-download
        raise HubUnreachableError(
            f"download of {repo_id}/{filename} from {endpoint} was interrupted ({type(e).__name__}: {e}). "
            "Run the same call again: a partial download resumes."
        ) from e
    return Path(path)


def from_mirrors(repo_id: str, filename: str, settings: Settings) -> list[Path]:
    found = []
    for mirror in settings.mirrors:
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
) -> FoundFile:
    """Find ``filename`` of ``repo_id`` at ``revision``: cache, endpoint, mirrors.

    With ``sha256`` every candidate is checked; a bad cached copy is deleted
    (the next call downloads afresh) and a mismatch is raised, never used.
    """
    settings = settings or load_settings()
    key = (repo_id, filename, revision, sha256, settings, use_mirrors)
    memo = _found.get(key)
    if memo is not None and memo.path.exists():
        # found before in this process: re-check (memoised by inode/size/times) and reuse
        _check(memo.path, sha256, in_cache=memo.source != "mirror")
        return memo
    found = _find_file(repo_id, filename, revision, sha256, settings, use_mirrors)
    _found[key] = found
    return found


# (repo_id, filename, revision, sha256, settings, use_mirrors) -> where it was found in this process
_found: dict[tuple, FoundFile] = {}


def forget() -> None:
    """Drop this process's memory of found and verified files (tests; after editing a mirror)."""
    _found.clear()
    with _verified_lock:
        _verified.clear()


def _find_file(repo_id: str, filename: str, revision: str, sha256: str | None, settings: Settings,
               use_mirrors: bool) -> FoundFile:
    cached = from_cache(repo_id, filename, revision)
    if cached is not None:
        _check(cached, sha256, in_cache=True)
        return FoundFile(cached, "cache", "")

    hub_error: Exception | None = None
    if not settings.offline:
        try:
            path = from_hub(repo_id, filename, revision, settings)
            _check(path, sha256, in_cache=True)
            return FoundFile(path, "hub", _endpoint_name(settings))
        except (NotOnHubError, HubUnreachableError) as e:
            hub_error = e
            log.info("%s; trying mirrors", e)

    mismatch: HashMismatchError | None = None
    if use_mirrors:
        for path in from_mirrors(repo_id, filename, settings):
            try:
                _check(path, sha256, in_cache=False)
            except HashMismatchError as e:
                mismatch = mismatch or e
                continue
            return FoundFile(path, "mirror", str(path.parent.parent.parent))
    if mismatch is not None:
        raise mismatch

    mirrors = ", ".join(str(m) for m in settings.mirrors) or "none configured"
    where = f"{repo_id}/{filename}@{revision[:12]}"
    if settings.offline:
        raise OfflineNotCachedError(
            f"offline (HF_HUB_OFFLINE=1 or [hub] offline) and {where} is neither in the Hugging Face "
            f"cache nor in a mirror ({mirrors}). Run `zoo download` while online, or add a mirror "
            "folder with ZOO_MIRRORS."
        )
    if isinstance(hub_error, HubUnreachableError):
        raise HubUnreachableError(f"{hub_error} No mirror has {where} either (mirrors: {mirrors}).") from hub_error
    if isinstance(hub_error, NotOnHubError):
        raise NotOnHubError(f"{hub_error} No mirror has it either (mirrors: {mirrors}).") from hub_error
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
