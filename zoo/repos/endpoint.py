"""Fetching from the configured Hub endpoint: a file's metadata (size, etag, commit), the size checks
before a download, and the download itself through :mod:`zoo.repos.download`. Part of
:mod:`zoo.repos.hub`, which re-exports every name.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..config import Settings
from ..errors import (
    FileNotInRepoError,
    HubUnreachableError,
    LimitExceededError,
    NotOnHubError,
    RevisionNotFoundError,
    SizeMismatchError,
)
from .cache import _hf, cache_root, is_commit, remove_stale_partials


def _endpoint_name(settings: Settings) -> str:
    return settings.endpoint or "https://huggingface.co"


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
