"""The catalog's pictures: a card's images found in its repo folder (bounded, checked), copied, and one
made into the model's thumbnail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_IMAGE_BYTES = 32 * 1024 * 1024
THUMB = 240
_PREFERRED = ("sample", "grid", "example", "styliz")  # which card picture makes the thumbnail


@dataclass(frozen=True)
class Picture:
    src: str  # relative to the site's root
    alt: str
    width: int
    height: int


def card_image(folder: Path, src: str) -> Path | None:
    """The picture file ``src`` names inside the card's folder, or None (remote, outside
    the folder, not a picture file, too big)."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    rel = PurePosixPath(unquote(parts.path))
    if rel.is_absolute() or ".." in rel.parts or rel.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    path = folder.joinpath(*rel.parts)
    try:
        if not path.is_file() or path.stat().st_size > MAX_IMAGE_BYTES:
            return None
    except OSError:
        return None
    return path


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a picture file that PIL can read and that is within
    ``[limits] image_pixels`` (checked from the header, before decoding), else None."""
    from PIL import Image, UnidentifiedImageError

    from ..errors import ZooError
    from ..images import check_pixels

    try:
        with Image.open(path) as im:
            check_pixels(im, str(path))
            im.verify()
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError, ValueError, ZooError, Image.DecompressionBombError):
        return None


def _asset_name(src: str) -> str:
    flat = unquote(urlsplit(src).path).replace("/", "__")
    return re.sub(r"[^A-Za-z0-9._-]", "_", flat) or "image"


def _thumbnail(source: Path, dst_dir: Path, rel_dir: str, alt: str) -> Picture | None:
    from PIL import Image

    try:
        with Image.open(source) as im:
            im.load()
            photo = source.suffix.lower() in (".jpg", ".jpeg")
            im = im.convert("RGB" if photo or im.mode not in ("L", "RGB") else im.mode)
            im.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
            name = "thumb.jpg" if photo else "thumb.png"
            if photo:
                im.save(dst_dir / name, quality=88)
            else:
                im.save(dst_dir / name, optimize=True)
            return Picture(f"{rel_dir}/{name}", alt, im.width, im.height)
    except (OSError, ValueError):
        return None


def _choose(pictures: Sequence[Picture], sources: dict[str, Path], metadata: dict[str, Any]) -> Picture | None:
    if not pictures:
        return None
    wanted = metadata.get("thumbnail")
    if isinstance(wanted, str):
        for p in pictures:
            if sources[p.src].name == PurePosixPath(wanted).name:
                return p
    for word in _PREFERRED:
        for p in pictures:
            if word in sources[p.src].name.lower():
                return p
    return pictures[0]
