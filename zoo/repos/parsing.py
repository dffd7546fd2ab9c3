"""A model reference parsed: a registered name, ``hf-hub:org/name[@revision]`` or a Hub-repo folder
(:class:`ModelRef`, :func:`parse_ref`), and the file names of a Hub repo. Part of :mod:`zoo.repos.refs`,
which re-exports every name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InvalidRefError, UnknownModelError


HUB_PREFIX = "hf-hub:"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
_MAX_REVISION = 256
Kind = Literal["registered", "folder", "hub"]


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference. ``kind`` says which fields are set: ``name`` (registered), ``path``
    (folder), ``repo_id`` and ``revision`` (hub; ``revision`` None means main). ``revision`` of a
    registered name is the one asked for (None: the Weights record's pin)."""

    kind: Kind
    text: str  # as given
    name: str | None = None
    repo_id: str | None = None
    revision: str | None = None
    path: Path | None = None

    @property
    def pinned(self) -> bool:
        """A Hub reference that names a full commit."""
        from .hub import is_commit

        return self.kind == "hub" and is_commit(self.revision)

    def __str__(self) -> str:
        if self.kind == "hub":
            return f"{HUB_PREFIX}{self.repo_id}" + (f"@{self.revision}" if self.revision else "")
        if self.kind == "folder":
            return str(self.path)
        return str(self.name)


def _revision_problem(revision: str) -> str | None:
    if not revision:
        return "is empty"
    if len(revision) > _MAX_REVISION:
        return f"is longer than {_MAX_REVISION} characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in revision) or ".." in revision or "@" in revision:
        return "may not hold spaces, control characters, '@' or '..'"
    # a commit sha or a branch/tag name as git and the Hub write them; anything else (e.g. a placeholder such as
    # '<commit>' copied from a README) is refused here, before any request reaches the network
    if not _REVISION_RE.match(revision) or "//" in revision or revision.endswith(("/", ".lock", ".")):
        hint = " (it looks like a placeholder: put the commit that `zoo push` printed there)" \
            if revision.startswith("<") or revision.endswith(">") else ""
        return ("is neither a commit sha (40 hexadecimal digits) nor a branch or tag name (letters, digits, '.', "
                f"'_', '-' and '/'){hint}")
    return None


_REVISION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _looks_like_path(text: str) -> bool:
    return any(sep and sep in text for sep in ("/", os.sep, os.altsep)) or text.startswith((".", "~")) \
        or Path(text).is_absolute()


def _is_registered(text: str) -> bool:
    from ..plugins import get_host

    registry = get_host().registry
    try:
        full = registry.resolve_name(text)
    except UnknownModelError:
        return False
    return full in registry.weights or full.split(".", 1)[0] in registry.architectures


def parse_ref(text: str | os.PathLike[str] | ModelRef, *, revision: str | None = None) -> ModelRef:
    """Parse a reference (see the module docstring); ``revision`` is the ``revision=`` argument of the
    API, merged with an ``@revision`` in the text (they must agree). Raises InvalidRefError."""
    if isinstance(text, ModelRef):
        ref = text
        if revision is None or revision == ref.revision:
            return ref
        if ref.kind == "folder":
            raise InvalidRefError(f"{ref.path} is a folder, which has no revisions; drop revision={revision!r}")
        if ref.revision is not None:
            raise InvalidRefError(f"{ref} names revision {ref.revision!r} and revision={revision!r} was also given")
        return ModelRef(ref.kind, ref.text, ref.name, ref.repo_id, revision, ref.path)
    if isinstance(text, os.PathLike):
        text = os.fspath(text)
        if not isinstance(text, str):
            raise InvalidRefError(f"a model reference must be text, got {type(text).__name__}")
        return _folder_ref(text, text, revision)
    if not isinstance(text, str):
        raise InvalidRefError(
            f"a model reference must be a registered name (`zoo list`), a Hub-repo folder or "
            f"{HUB_PREFIX}org/name[@revision]; got {type(text).__name__} {text!r}")
    raw, text = text, text.strip()
    if not text:  # the registry's UnknownModelError says what the registered names are
        return ModelRef("registered", raw, name=raw, revision=revision)
    if text.lower().startswith(HUB_PREFIX):
        return _hub_ref(raw, text[len(HUB_PREFIX):], revision)
    if _looks_like_path(text) or (Path(text).is_dir() and not _is_registered(text)):
        return _folder_ref(raw, text, revision)
    return ModelRef("registered", raw, name=text, revision=revision)


def _hub_ref(raw: str, rest: str, revision: str | None) -> ModelRef:
    from ..registry import repo_id_problem

    repo_id, at, rev = rest.partition("@")
    problem = repo_id_problem(repo_id)
    if problem:
        raise InvalidRefError(f"{raw!r}: the repo id {repo_id!r} {problem}. Write {HUB_PREFIX}org/name or "
                              f"{HUB_PREFIX}org/name@revision (a branch, tag or 40-character commit).")
    if at:
        problem = _revision_problem(rev)
        if problem:
            raise InvalidRefError(f"{raw!r}: the revision after '@' {problem}. Write {HUB_PREFIX}{repo_id}@main, "
                                  f"@<tag> or @<40-character commit>, or leave it out for main.")
        if revision is not None and revision != rev:
            raise InvalidRefError(f"{raw!r} names revision {rev!r} and revision={revision!r} was also given: "
                                  "give one of them")
        revision = rev
    elif revision is not None:
        problem = _revision_problem(revision)
        if problem:
            raise InvalidRefError(f"revision={revision!r} {problem}")
    return ModelRef("hub", raw, repo_id=repo_id, revision=revision)


def _folder_ref(raw: str, text: str, revision: str | None) -> ModelRef:
    if revision is not None:
        raise InvalidRefError(f"{text} is a folder, which has no revisions; drop revision={revision!r} (a Hub "
                              f"repo is {HUB_PREFIX}org/name@revision)")
    return ModelRef("folder", raw, path=Path(text).expanduser())
