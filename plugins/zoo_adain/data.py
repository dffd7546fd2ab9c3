"""AdaIN training's images: the held-out sets, crop pools, manifests (part of :mod:`zoo_adain.train`).

This module imports torch; the plugin's registration never imports it.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from zoo.images import yiq_matrix


# Held out of all training, for evaluation (all have clear licences, so the
# card's pictures can use them): scikit-image photos and whole paintings, and the style judge's two Debian
# wallpapers (zoo_adain.evaluate.WALLPAPER_HELD_OUT), kept out even when a manifest lists them.
HELD_OUT_CONTENT = ("astronaut", "chelsea", "coffee", "plasma:EveningGlow", "mate:Storm")
HELD_OUT_STYLES = ("the_scream", "udnie", "woman_with_hat_matisse")
# scikit-image images used as training content (public domain / CC0).
SKIMAGE_CONTENT = ("rocket", "hubble_deep_field", "camera", "brick", "grass", "gravel")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# style images may also be GIMP patterns (Debian's gimp-data: /usr/share/gimp/2.0/patterns), tiled
PATTERN_SUFFIX = ".pat"


# ---------------------------------------------------------------- images

def skimage_image(name: str) -> Image.Image:
    import skimage.data

    a = np.asarray(getattr(skimage.data, name)())
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    im = Image.fromarray(a)
    return im.convert("RGB")


def resize_short(im: Image.Image, short: int) -> Image.Image:
    w, h = im.size
    s = short / min(w, h)
    return im.resize((max(short, round(w * s)), max(short, round(h * s))), Image.BICUBIC)


def to_tensor(im: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def center_square(im: Image.Image, size: int) -> torch.Tensor:
    """Resize the shorter side to ``size`` and take the centre ``size`` x ``size`` crop, as a (3, H, W) tensor."""
    im = resize_short(im, size)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    return to_tensor(im.crop((left, top, left + size, top + size)))


def list_images(folder: str | Path, exclude: Sequence[str] = (), recursive: bool = False,
                patterns: bool = False) -> list[Path]:
    """The image files of ``folder`` (sorted), names in ``exclude`` left out; ``patterns``: GIMP's .pat too."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist; pass an existing folder")
    it = folder.rglob("*") if recursive else folder.iterdir()
    suffixes = IMAGE_SUFFIXES + ((PATTERN_SUFFIX,) if patterns else ())
    return sorted(p for p in it if p.suffix.lower() in suffixes and p.stem not in exclude)


def read_gimp_pattern(path: str | Path) -> Image.Image:
    """A GIMP pattern file (.pat, version 1) as an RGB image.

    The format (GIMP's devel-docs/pat.txt): a big-endian header of uint32 header size, version (1), width,
    height, bytes per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) and the magic ``GPAT``, then the
    pattern's name (UTF-8, to the header's end), then width x height x bytes pixels, rows top to bottom.
    A pattern with alpha is composited over white (GIMP's Stripes are black lines in alpha)."""
    import struct

    path = Path(path)
    data = path.read_bytes()
    what = f"{path} is not a GIMP pattern (.pat version 1)"
    if len(data) < 24 or data[20:24] != b"GPAT":
        raise ValueError(f"{what}: no GPAT header; give a .pat file from GIMP (Debian's gimp-data)")
    header, version, w, h, depth = struct.unpack(">5I", data[:20])
    if version != 1 or depth not in (1, 2, 3, 4) or not (0 < w <= 8192 and 0 < h <= 8192) or header < 24:
        raise ValueError(f"{what}: version {version}, {w}x{h}, {depth} bytes per pixel")
    need = header + w * h * depth
    if len(data) < need:
        raise ValueError(f"{what}: {len(data)} bytes, its header announces {need} (a truncated file)")
    px = np.frombuffer(data, dtype=np.uint8, count=w * h * depth, offset=header).reshape(h, w, depth)
    rgb = (px[..., :1].repeat(3, 2) if depth <= 2 else px[..., :3]).astype(np.float32)
    if depth in (2, 4):
        a = px[..., -1:].astype(np.float32) / 255.0
        rgb = rgb * a + 255.0 * (1.0 - a)
    return Image.fromarray(np.ascontiguousarray(rgb.round().astype(np.uint8)), "RGB")


def tile_to(im: Image.Image, size: int) -> Image.Image:
    """``im`` repeated (as a seamless pattern repeats) until both sides are at least ``size``: a small
    texture keeps its own pixel scale instead of being blown up by the crop pool's resize."""
    w, h = im.size
    nx, ny = -(-size // w), -(-size // h)
    if nx == 1 and ny == 1:
        return im
    out = Image.new("RGB", (w * nx, h * ny))
    for i in range(nx):
        for j in range(ny):
            out.paste(im, (i * w, j * h))
    return out


class CropPool:
    """Images held in memory (uint8) at ``resize`` (shorter side); ``sample`` draws random
    ``crop`` x ``crop`` squares with horizontal flips.

    ``scales`` = (lo, hi): the side of the square cut from the resized image is drawn
    uniformly in [lo * crop, hi * crop] (clipped to the image) and resized to ``crop``
    (bilinear, antialiased), so one photo gives details and whole scenes. (1, 1) is the
    paper's plain random crop.
    """

    def __init__(self, images: Sequence[Image.Image], resize: int, crop: int, names: Sequence[str] = (),
                 scales: tuple[float, float] = (1.0, 1.0), hue: float = 0.0,
                 weights: Sequence[float] | None = None):
        if not images:
            raise ValueError("CropPool needs at least one image")
        if weights is not None and (len(weights) != len(images) or min(weights) < 0 or sum(weights) <= 0):
            raise ValueError(f"CropPool weights: one non-negative number per image ({len(images)}), not all 0")
        if crop > resize:
            raise ValueError(f"crop {crop} must not exceed resize {resize}")
        if not 0 < scales[0] <= scales[1]:
            raise ValueError(f"scales must be 0 < lo <= hi, got {scales}")
        self.images = [torch.from_numpy(np.asarray(resize_short(im.convert("RGB"), resize), dtype=np.uint8).copy()).permute(2, 0, 1)
                       for im in images]
        self.names = list(names)
        self.crop = crop
        self.scales = scales
        self.hue = hue
        # None: every image equally likely (the draw the pool always made, so old runs resume bit for bit)
        self.weights = list(weights) if weights is not None else None

    @property
    def tensors(self) -> list[torch.Tensor]:  # kept for callers that count images
        return self.images

    def sample(self, n: int, rng: random.Random) -> torch.Tensor:
        out = []
        for _ in range(n):
            k = rng.randrange(len(self.images)) if self.weights is None else \
                rng.choices(range(len(self.images)), self.weights)[0]
            t = self.images[k]
            _, h, w = t.shape
            side = self.crop
            if self.scales != (1.0, 1.0):
                side = int(round(self.crop * rng.uniform(*self.scales)))
                side = max(8, min(side, h, w))
            i, j = rng.randrange(h - side + 1), rng.randrange(w - side + 1)
            x = t[:, i:i + side, j:j + side].float().div_(255.0)
            if side != self.crop:
                x = F.interpolate(x[None], size=(self.crop, self.crop), mode="bilinear", align_corners=False,
                                  antialias=side > self.crop)[0].clamp_(0, 1)
            if rng.random() < 0.5:
                x = x.flip(2)
            if self.hue and rng.random() < self.hue:
                x = rotate_hue(x, rng.uniform(0.0, 2.0 * math.pi))
            out.append(x)
        return torch.stack(out)


_YIQ = yiq_matrix().float()


def rotate_hue(x: torch.Tensor, angle: float) -> torch.Tensor:
    """(3, H, W) in [0, 1] with its chroma (YIQ's I, Q) rotated by ``angle``: the same
    luminance and strokes, another palette. Clamped to [0, 1]."""
    c, s_ = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s_], [0.0, s_, c]])
    m = torch.linalg.inv(_YIQ) @ rot @ _YIQ
    return torch.einsum("ij,jhw->ihw", m, x).clamp_(0.0, 1.0)


def read_manifest(path: str | Path) -> list[tuple[str, Path]]:
    """(name, path) pairs of a manifest: TSV lines ``name<TAB>path[<TAB>anything]``, '#' comments;
    relative paths are relative to the manifest's folder."""
    path = Path(path)
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path}: line {line!r} is not name<TAB>path")
        p = Path(os.path.expanduser(parts[1]))
        out.append((parts[0], p if p.is_absolute() else path.parent / p))
    return out


def content_sources(cfg: Any) -> list[tuple[str, Path]]:
    """(name, path) of every content image file of this config, held-out names removed."""
    held = set(HELD_OUT_CONTENT) | set(cfg.held_out_content)
    srcs: list[tuple[str, Path]] = []
    for d in ([cfg.content_dir] if cfg.content_dir else []) + list(cfg.content_dirs):
        srcs += [(p.stem, p) for p in list_images(d, recursive=cfg.recursive)]
    for m in cfg.content_lists:
        srcs += read_manifest(m)
    return [(n, p) for n, p in srcs if n not in held]


def _open_rgb(p: Path, resize: int) -> Image.Image:
    if p.suffix.lower() == PATTERN_SUFFIX:
        return tile_to(read_gimp_pattern(p), resize)
    with Image.open(p) as im:
        im.draft("RGB", (resize, resize))  # JPEG: decode at a reduced size, much faster for big files
        return im.convert("RGB")


def load_pools(cfg: Any) -> tuple[CropPool, CropPool]:
    """The content and style pools. Large folders (COCO, WikiArt) are sampled: at most
    ``max_images`` of each, chosen with the run's seed, so memory stays bounded."""
    pick = random.Random(cfg.seed)
    srcs = content_sources(cfg)
    if cfg.max_images and len(srcs) > cfg.max_images:
        srcs = sorted(pick.sample(srcs, cfg.max_images))
    content_imgs = [_open_rgb(p, cfg.resize) for _, p in srcs]
    content_names = [n for n, _ in srcs]
    for name in cfg.skimage_content:
        if name in HELD_OUT_CONTENT or name in cfg.held_out_content:
            raise ValueError(f"{name} is held out for evaluation; remove it from skimage_content")
        content_imgs.append(skimage_image(name))
        content_names.append(f"skimage:{name}")
    held_styles = set(HELD_OUT_STYLES) | set(cfg.held_out_styles)
    style_paths = list_images(cfg.style_dir, tuple(held_styles), recursive=cfg.recursive, patterns=True)
    if cfg.max_images and len(style_paths) > cfg.max_images:
        style_paths = sorted(pick.sample(style_paths, cfg.max_images))
    listed = [(n, p) for m in cfg.style_lists for n, p in read_manifest(m) if n not in held_styles]
    style_imgs = [_open_rgb(p, cfg.resize) for p in style_paths] + [_open_rgb(p, cfg.resize) for _, p in listed]
    style_names = [p.stem for p in style_paths] + [n for n, _ in listed]
    return (CropPool(content_imgs, cfg.resize, cfg.crop, content_names, cfg.scales),
            CropPool(style_imgs, cfg.resize, cfg.crop, style_names, cfg.scales, hue=cfg.style_hue,
                     weights=style_weights(len(style_paths), len(listed), cfg.style_list_share)))


def style_weights(n_folder: int, n_listed: int, share: float) -> list[float] | None:
    """Sampling weights of the style pool: ``None`` (uniform over all images) when ``share`` is 0 or one
    side is empty; else the manifests' images together are drawn with probability ``share`` and the style
    folder's with ``1 - share`` (each side uniform within itself)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"style_list_share is a probability in [0, 1), got {share}")
    if share == 0.0 or not n_folder or not n_listed:
        return None
    return [(1.0 - share) / n_folder] * n_folder + [share / n_listed] * n_listed
