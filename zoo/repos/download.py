"""One file from the endpoint into the Hugging Face cache, with bounds that hold.

huggingface_hub's ``hf_hub_download`` retries a stalled download up to six times (more while any
byte arrives), reads with its own 10 s timeout, checks the size only once the whole body is on disk,
and waits for another process's download lock without bound. The zoo downloads each file itself,
into the same cache layout (``blobs/<etag>``, ``snapshots/<commit>/<file>``, ``refs/<branch>``), so
that huggingface_hub and the zoo read each other's cache, with these rules (docs/loading.md):

- one GET per file, no retries: a download that fails or stalls is an error at once (a registered
  model then goes on to the mirrors); running the same call again starts it over;
- every read is bounded by ``ZOO_TIMEOUT`` (``[hub] timeout``): a server that stops sending for
  that long ends the download;
- the bytes are counted as they arrive and the download is stopped as soon as they pass the bound
  (the pinned size, else the size the server stated, and the limit on config files and cards);
  the partial file is removed, nothing is left in the cache;
- a download lock held by another process is waited for only while that process makes progress
  (its partial file grows, ``ZOO_TIMEOUT`` at a time); a holder that is stopped or stuck is named
  (process id, state, command line) in the error.

No torch here.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DownloadLockedError, HubUnreachableError

_READ = 1 << 16  # bytes per read: the bound is checked at least this often


@dataclass(frozen=True)
class Bound:
    """The most bytes a download may bring, and what to raise past it."""

    size: int
    over: Callable[[int], Exception]  # called with the bytes received so far


def _folder(repo_id: str) -> str:
    return "models--" + repo_id.replace("/", "--")


def _link(blob: Path, pointer: Path) -> None:
    """The snapshot entry as huggingface_hub makes it: a relative symlink to the blob (a copy where
    symlinks are not supported)."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_name(f".{pointer.name}.{uuid.uuid4().hex[:8]}.link")
    try:
        os.symlink(os.path.relpath(blob, pointer.parent), tmp)
        os.replace(tmp, pointer)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        import shutil

        shutil.copyfile(blob, tmp)
        os.replace(tmp, pointer)


def _record_ref(storage: Path, revision: str, commit: str) -> None:
    """``refs/<revision>`` = commit, for a branch or tag (as huggingface_hub records it for offline use)."""
    if revision == commit:
        return
    ref = storage / "refs" / revision
    ref.parent.mkdir(parents=True, exist_ok=True)
    try:
        if ref.is_file() and ref.read_text().strip() == commit:
            return
    except OSError:
        pass
    tmp = ref.with_name(f".{ref.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(commit)
    os.replace(tmp, ref)


def lock_holder(lock_path: Path) -> str:
    """Who holds the flock on ``lock_path``: 'process 1234 (stopped: python -m ...)', from /proc/locks
    (Linux); 'another process' where that cannot be told."""
    try:
        st = os.stat(lock_path)
        major, minor = os.major(st.st_dev), os.minor(st.st_dev)
        with open("/proc/locks") as f:
            lines = f.read().splitlines()
    except OSError:
        return "another process"
    for line in lines:
        fields = line.split()
        if "->" in fields:  # a waiter, not the holder
            continue
        try:
            i = next(k for k, v in enumerate(fields) if v.count(":") == 2)
            dev_major, dev_minor, inode = fields[i].split(":")
            pid = int(fields[i - 1])
            if int(inode) != st.st_ino or int(dev_major, 16) != major or int(dev_minor, 16) != minor:
                continue
        except (StopIteration, ValueError, IndexError):
            continue
        return describe_process(pid)
    return "another process"


_STATES = {"T": "stopped", "t": "stopped by a debugger", "Z": "a zombie", "D": "in uninterruptible I/O",
           "S": "sleeping", "R": "running"}


def describe_process(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        state = stat.rsplit(")", 1)[1].split()[0]
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except (OSError, IndexError):
        return f"process {pid}"
    what = _STATES.get(state, f"state {state}")
    return f"process {pid} ({what}: {cmd[:120] or '?'})"


def _partial_size(blobs: Path, etag: str) -> int:
    total = 0
    for p in blobs.glob(f"{etag}.*.incomplete"):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def _acquire(lock, lock_path: Path, blobs: Path, etag: str, timeout: float, what: str) -> bool:
    """Take the download lock, waiting while its holder makes progress (its partial file grows). False:
    not taken, because the holder finished the file meanwhile (nothing left to download)."""
    from filelock import Timeout

    last = _partial_size(blobs, etag)
    while True:
        try:
            lock.acquire(timeout=timeout)
            return True
        except Timeout:
            if (blobs / etag).exists():  # the holder finished the file: no need to wait for its lock
                return False
            now = _partial_size(blobs, etag)
            if now > last:  # the holder is downloading: keep waiting
                last = now
                continue
            holder = lock_holder(lock_path)
            raise DownloadLockedError(
                f"{holder} holds the download lock of {what} ({lock_path}) and made no progress for "
                f"{timeout:g} s (ZOO_TIMEOUT). If that process is stopped or stuck, resume or end it "
                f"(kill -CONT <pid>, or kill <pid>) and run the same call again; it was not waited for "
                "any longer.") from None


def download(url: str, headers: dict[str, str], *, cache: Path, repo_id: str, filename: str, revision: str,
             commit: str, etag: str, stated: int | None, bound: Bound | None, timeout: float,
             endpoint: str) -> Path:
    """``url`` into the cache as huggingface_hub lays it out; the snapshot path. See the module's rules."""
    from filelock import FileLock

    import huggingface_hub

    storage = cache / _folder(repo_id)
    blobs = storage / "blobs"
    blob = blobs / etag
    pointer = storage / "snapshots" / commit / filename
    what = f"{repo_id}/{filename}"
    if pointer.exists() or blob.exists():  # downloaded before (another revision, another process)
        if not pointer.exists():
            _link(blob, pointer)  # atomically
        _record_ref(storage, revision, commit)
        return pointer
    blobs.mkdir(parents=True, exist_ok=True)
    lock_path = cache / ".locks" / _folder(repo_id) / f"{etag}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), mode=0o664)
    if _acquire(lock, lock_path, blobs, etag, timeout, what):
        try:
            if not blob.exists():
                _get(url, headers, blob, what=what, stated=stated, bound=bound, timeout=timeout, endpoint=endpoint,
                     session=huggingface_hub.utils.get_session())
        finally:
            lock.release()
    if not pointer.exists():
        _link(blob, pointer)
    _record_ref(storage, revision, commit)  # only once the file is there: a failed download leaves no ref
    return pointer


def _get(url: str, headers: dict[str, str], blob: Path, *, what: str, stated: int | None, bound: Bound | None,
         timeout: float, endpoint: str, session) -> None:
    """One GET of ``url`` into ``blob`` (through a partial file unique to this download)."""
    import httpx2

    tmp = blob.with_name(f"{blob.name}.{uuid.uuid4().hex[:8]}.incomplete")
    received = 0
    started = time.monotonic()
    try:
        with open(tmp, "wb") as out:
            with session.stream("GET", url, headers=headers, timeout=httpx2.Timeout(timeout),
                                follow_redirects=True) as response:
                if response.status_code >= 400:
                    raise HubUnreachableError(
                        f"{endpoint} answered HTTP {response.status_code} to the download of {what}. Try again "
                        "later, or use a mirror (ZOO_MIRRORS) or a cached copy.")
                length = response.headers.get("Content-Length")
                if bound is not None and length is not None and length.isdigit() and int(length) > bound.size:
                    raise bound.over(int(length))
                for chunk in response.iter_bytes(_READ):
                    received += len(chunk)
                    if bound is not None and received > bound.size:
                        raise bound.over(received)  # stopped now, not after the whole body
                    out.write(chunk)
        if stated is not None and received != stated:
            raise HubUnreachableError(
                f"the download of {what} from {endpoint} ended after {received:,} of the {stated:,} bytes the "
                "server stated (the connection closed early). Run the same call again: the download starts "
                "over; nothing was kept.")
        os.replace(tmp, blob)
    except httpx2.TimeoutException as e:
        raise HubUnreachableError(
            f"the download of {what} from {endpoint} stalled: no data for {timeout:g} s (ZOO_TIMEOUT) after "
            f"{received:,}{f' of {stated:,}' if stated is not None else ''} bytes, "
            f"{time.monotonic() - started:.1f} s in. It was not retried and nothing was kept; run the same call "
            "again, raise ZOO_TIMEOUT for a slow link, or use a mirror (ZOO_MIRRORS).") from e
    except httpx2.HTTPError as e:
        raise HubUnreachableError(
            f"the download of {what} from {endpoint} was interrupted after {received:,} bytes "
            f"({type(e).__name__}: {e}). Run the same call again: the download starts over; nothing was kept.") from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
