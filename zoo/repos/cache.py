"""The Hugging Face hub cache as the zoo reads it: where a file is, whether it is intact as published
(its git blob sha1), removing a damaged one, and leftover partial downloads. Part of :mod:`zoo.repos.hub`,
which re-exports every name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from ..errors import NotOnHubError


log = logging.getLogger("zoo.hub")  # its name before the move to zoo.repos, kept for log configuration
_CHUNK = 1 << 20


def _hf():
    import huggingface_hub

    return huggingface_hub


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


def from_cache(repo_id: str, filename: str, revision: str) -> Path | None:
    """The cached file for exactly this revision, or None."""
    hf = _hf()
    try:
        return Path(hf.hf_hub_download(repo_id, filename, revision=revision, local_files_only=True))
    except (hf.errors.LocalEntryNotFoundError, hf.errors.OfflineModeIsEnabled, FileNotFoundError):
        return None
    except hf.errors.HFValidationError as e:
        raise NotOnHubError(f"invalid repository or revision for {repo_id}: {e}") from e


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


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def is_commit(revision: str | None) -> bool:
    """True for a full 40-character lower-case hex commit sha (a pin), False for a branch or tag."""
    return bool(revision and _COMMIT_RE.match(revision))
