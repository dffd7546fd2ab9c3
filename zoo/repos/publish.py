"""Publishing a Hub-repo folder (README.md card, config.json, model.safetensors).

Two targets:
- a local mirror: the folder becomes a git commit in ``<mirror>/models/<org>/<name>``,
  the layout olah serves (``mirrors-path``);
- the Hugging Face Hub (or a compatible server) through huggingface_hub's
  ``create_repo`` and ``upload_folder``.

The first commit of a folder is deterministic: fixed author, committer and
dates, files copied without their permission bits. So the pinned revision of a
folder in cards/ can be recomputed anywhere (:func:`folder_revision`) and is the
same sha that a mirror built from it serves.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ZooError
from .hub import sha256_file

_IDENTITY = {
    "GIT_AUTHOR_NAME": "zoo",
    "GIT_AUTHOR_EMAIL": "zoo@users.noreply.huggingface.co",
    "GIT_COMMITTER_NAME": "zoo",
    "GIT_COMMITTER_EMAIL": "zoo@users.noreply.huggingface.co",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
}
_SKIP = {".git", "__pycache__", ".DS_Store"}


@dataclass(frozen=True)
class FileDigest:
    path: str  # relative to the repo root, '/'-separated
    sha256: str
    size: int


@dataclass(frozen=True)
class PublishedRepo:
    repo_id: str
    revision: str  # the commit sha to pin
    files: tuple[FileDigest, ...]
    location: str  # the mirror's git folder, or the Hub URL


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, **_IDENTITY, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        out = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
            cwd=cwd, env=env, check=True, capture_output=True, text=True,
        )
    except FileNotFoundError as e:
        raise ZooError("git is not installed; it is needed to publish into a local mirror") from e
    except subprocess.CalledProcessError as e:
        raise ZooError(f"git {' '.join(args)} failed in {cwd}: {e.stderr.strip()}") from e
    return out.stdout.strip()


def folder_files(folder: Path) -> list[Path]:
    """The files of a Hub-repo folder, sorted, without VCS and cache clutter."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if any(part in _SKIP for part in rel.parts) or not p.is_file():
            continue
        out.append(p)
    return out


def digests(folder: Path) -> tuple[FileDigest, ...]:
    folder = Path(folder)
    return tuple(
        FileDigest(p.relative_to(folder).as_posix(), sha256_file(p), p.stat().st_size) for p in folder_files(folder)
    )


def commit_folder(folder: Path, git_dir: Path, message: str | None = None) -> str:
    """Commit ``folder``'s files to the git repo at ``git_dir`` (created if needed) on main.

    The repo's tree becomes exactly the folder's files. Returns the commit sha.
    """
    folder, git_dir = Path(folder), Path(git_dir)
    if not (folder / "README.md").is_file():
        raise ZooError(f"{folder} has no README.md: a Hub repo needs its model card")
    git_dir.mkdir(parents=True, exist_ok=True)
    if not (git_dir / ".git").exists():
        _git(["init", "-q", "-b", "main"], git_dir)
    for p in git_dir.iterdir():  # the new tree is exactly the folder
        if p.name == ".git":
            continue
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    for src in folder_files(folder):
        dst = git_dir / src.relative_to(folder)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o644)
    _git(["add", "-A"], git_dir)
    has_head = subprocess.run(
        ["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=git_dir, capture_output=True
    ).returncode == 0
    if has_head and not _git(["status", "--porcelain"], git_dir):
        return _git(["rev-parse", "HEAD"], git_dir)
    _git(["commit", "-q", "-m", message or f"Publish {folder.name}"], git_dir)
    return _git(["rev-parse", "HEAD"], git_dir)


def mirror_git_dir(mirror: Path, repo_id: str) -> Path:
    """Where olah (``mirrors-path``) expects the git repo of a model."""
    return Path(mirror) / "models" / repo_id


def folder_revision(folder: Path) -> str:
    """The commit sha that a first publication of ``folder`` gets (deterministic)."""
    with tempfile.TemporaryDirectory() as tmp:
        return commit_folder(folder, Path(tmp) / "repo", message=f"Publish {Path(folder).name}")


def push_to_mirror(folder: Path, repo_id: str, mirror: Path) -> PublishedRepo:
    git_dir = mirror_git_dir(mirror, repo_id)
    sha = commit_folder(folder, git_dir, message=f"Publish {Path(folder).name}")
    return PublishedRepo(repo_id, sha, digests(folder), str(git_dir))


def push_to_hub(folder: Path, repo_id: str, *, endpoint: str | None = None, token: str | None = None,
                private: bool = False) -> PublishedRepo:
    import huggingface_hub as hf

    api = hf.HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                             commit_message=f"Publish {Path(folder).name} with zoo",
                             ignore_patterns=[".git/*", "__pycache__/*"])
    return PublishedRepo(repo_id, info.oid, digests(folder), info.commit_url)


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")


def card_pictures(card_text: str) -> list[str]:
    """The pictures a card shows from its own repo: relative paths of Markdown images and HTML <img> tags, in
    order, without remote URLs, absolute paths or '..' (what `zoo download` fetches beside the card)."""
    from posixpath import normpath
    from urllib.parse import unquote, urlsplit

    found: list[str] = []
    for src in [*_MD_IMAGE.findall(card_text), *_HTML_IMAGE.findall(card_text)]:
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        path = unquote(parts.path)
        if path.startswith("/") or ".." in path.split("/") or not path.lower().endswith(PICTURE_SUFFIXES):
            continue
        path = normpath(path)
        if path not in found:
            found.append(path)
    return found
