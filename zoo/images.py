"""Image input and output shared by the zoo: paths, PIL images and tensors.

Reading (:func:`open_image`, :func:`load_image`):

- Sources: a path (``str`` or ``os.PathLike``), a ``PIL.Image.Image`` or a tensor;
  ``"skimage:<name>"`` (when no such file exists) is a photo bundled with
  scikit-image, such as the public-domain ``skimage:astronaut``.
- EXIF orientation is honoured (the image is turned the way a viewer shows it).
- Modes: RGB; greyscale ("L", "1", 16-bit "I;16"/"I", float "F") becomes RGB by
  repeating the channel; palette and CMYK images are converted to RGB.
- 16-bit PNG: 16-bit greyscale keeps its full precision (values / 65535).
  16-bit RGB and RGBA PNGs are decoded by Pillow at 8 bits per channel (Pillow
  keeps the high byte); that loses nothing visible in a stylized output, which
  is written with 8 bits per channel.
- Alpha (RGBA, LA, palette with transparency): the colour is composited over
  white (so the undefined colour of transparent pixels does not leak into the
  model), and the alpha channel is returned separately. With ``alpha="keep"``
  callers put it back on the output (``to_pil(x, alpha=a)``, resized to the
  output's size); with ``alpha="drop"`` it is discarded and the output is RGB.
- Errors are :class:`zoo.ImageError` with the file named: missing, empty,
  not an image, truncated or corrupt.

Image bombs: a file's width x height is read from its header first and refused
(:class:`zoo.errors.LimitExceededError`) above ``[limits] image_pixels`` (50 MP by
default; ``ZOO_MAX_IMAGE_PIXELS`` raises it) before any pixel is decoded: a
small PNG can declare a gigapixel image.

Tensors are float32, RGB in [0, 1], (3, H, W) or (N, 3, H, W); a uint8 tensor is
divided by 255; a 1-channel tensor is repeated to 3.

Large images (:func:`fit_pixels`): models bound the number of pixels they process
(style transfer: ``max_pixels``, default :data:`DEFAULT_MAX_PIXELS` = 2048 x 2048). A larger
image is downscaled, keeping its aspect ratio, before processing, and the result
is resized back to the input's size (bicubic) unless the caller asks for another
size. A 6000x4000 photo is thus processed at 2508x1672 and returned at 6000x4000;
peak memory stays at a few GiB instead of the ~25 GiB the full size would need.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError, LimitExceededError, OutputPathError

if TYPE_CHECKING:  # pragma: no cover
    import torch

DEFAULT_MAX_PIXELS = 2048 * 2048
AlphaPolicy = Literal["keep", "drop"]


def is_pathlike(src: Any) -> bool:
    return isinstance(src, (str, os.PathLike))


#: ``"skimage:<name>"`` names a photo bundled with scikit-image (if installed), e.g. the
#: public-domain ``skimage:astronaut`` or the CC0 ``skimage:coffee``, ``skimage:chelsea``.
SKIMAGE_PREFIX = "skimage:"
SKIMAGE_IMAGES = (
    "astronaut", "brick", "camera", "cat", "chelsea", "coffee", "grass", "gravel", "horse",
    "hubble_deep_field", "rocket",
)


def _skimage_image(name: str) -> Image.Image:
    if name not in SKIMAGE_IMAGES:
        raise ImageError(f"unknown bundled image 'skimage:{name}'; choose one of {', '.join(SKIMAGE_IMAGES)}")
    try:
        import skimage.data
    except ImportError as e:
        raise ImageError(f"'skimage:{name}' needs scikit-image: pip install scikit-image") from e
    arr = np.asarray(getattr(skimage.data, name)())
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    return Image.fromarray(arr)


def open_image(src: str | os.PathLike[str] | Image.Image) -> Image.Image:
    """A fully decoded PIL image from a path or a PIL image, EXIF orientation applied.

    Raises :class:`zoo.ImageError` for missing, empty, unreadable or truncated files.
    """
    if isinstance(src, Image.Image):
        img = src
        name = getattr(src, "filename", "") or "<PIL image>"
    elif isinstance(src, str) and src.startswith(SKIMAGE_PREFIX) and not Path(src).exists():
        img = _skimage_image(src[len(SKIMAGE_PREFIX):])
        name = src
    elif is_pathlike(src):
        path = Path(src)
        name = str(path)
        if not path.exists():
            raise ImageError(f"{name}: no such file. Check the path.")
        if path.is_dir():
            raise ImageError(f"{name} is a directory; give an image file.")
        if path.stat().st_size == 0:
            raise ImageError(f"{name} is empty (0 bytes). Replace it with a valid image file.")
        try:
            img = Image.open(path)
        except UnidentifiedImageError as e:
            raise ImageError(
                f"{name} is not an image Pillow can read (PNG, JPEG, WebP, TIFF, BMP ...). "
                "Check that the file is an image and not damaged."
            ) from e
        except Image.DecompressionBombError as e:
            raise ImageError(
                f"{name} has more pixels than Pillow's safety limit ({e}). If you trust the file, raise "
                "PIL.Image.MAX_IMAGE_PIXELS and the zoo's own limit ([limits] image_pixels in zoo.toml or "
                "ZOO_MAX_IMAGE_PIXELS); the zoo processes large images downscaled (max_pixels)."
            ) from e
        except OSError as e:
            raise ImageError(f"{name} cannot be read: {e}") from e
        check_pixels(img, name)
    else:
        raise ImageError(
            f"expected a path, a PIL image or a tensor, got {type(src).__name__}"
        )
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(
            f"{name} is truncated or corrupt ({e}). Re-download or re-export the image."
        ) from e
    if img.width == 0 or img.height == 0:
        raise ImageError(f"{name} has no pixels ({img.width}x{img.height}).")
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block: keep the stored orientation
        pass
    return img


def check_pixels(img: Image.Image, name: str) -> None:
    """Refuse an image (opened, not decoded) whose header declares more than ``[limits] image_pixels``."""
    from .config import current_limits

    limit = current_limits().image_pixels
    pixels = img.width * img.height
    if pixels > limit:
        img.close()
        raise LimitExceededError(f"{name} declares {img.width}x{img.height} pixels", f"{pixels:,} pixels", limit,
                                 "image_pixels")


def check_output_pixels(height: int, width: int, what: str = "the output size") -> None:
    """Refuse an output of more than ``[limits] image_pixels`` before anything of that size is allocated:
    the same bound as for the images read (a 30000x30000 output would take 10.8 GB as float32)."""
    from .config import current_limits

    limit = current_limits().image_pixels
    pixels = int(height) * int(width)
    if pixels > limit:
        raise LimitExceededError(f"{what} is {width}x{height} pixels (width x height)", f"{pixels:,} pixels", limit,
                                 "image_pixels")


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ImageError(f"{name} holds {bad:,} NaN or infinite pixel value(s); an image's values must be finite. "
                         "Fix the image (or replace those values, e.g. numpy.nan_to_num) and try again")


def check_output_path(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Check, before any work is done, that a file can be written at ``path``: not a folder, and the
    nearest existing parent is a folder in which a file can be created (tried, then removed)."""
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"the {what} {path} is a folder; give a file name such as {path / 'out.png'}")
    parent = path.parent if str(path.parent) else Path(".")
    existing = parent
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"cannot write the {what} {path}: {existing} is a file, not a folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"cannot write the {what} {path}: the file is not writable")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".zoo-write-check-"):
            pass
    except OSError as e:
        raise OutputPathError(f"cannot write the {what} {path}: {existing} is not writable ({e.strerror or e}); "
                              "choose another path with -o") from e
    return path


def split_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour as float32 (H, W, 3) in [0, 1] (composited over white) and alpha (H, W) or None."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img).astype(np.float32)
        _check_finite(arr, "the image")
        scale = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        grey = np.clip(arr / scale, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None
    if mode == "F":
        values = np.asarray(img, dtype=np.float32)
        _check_finite(values, f"the float image ({getattr(img, 'filename', '') or 'mode F'})")
        grey = np.clip(values, 0.0, 1.0)
        return np.repeat(grey[..., None], 3, axis=2), None
    if mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3]
        rgb = rgba[..., :3] * alpha[..., None] + (1.0 - alpha[..., None])
        return rgb, alpha
    if mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.float32) / 255.0, None


def pil_to_tensor(img: Image.Image) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(3, H, W) float32 colour in [0, 1] and (1, H, W) alpha or None."""
    import torch

    rgb, alpha = split_alpha(img)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
    a = None if alpha is None else torch.from_numpy(np.ascontiguousarray(alpha))[None]
    return x, a


def check_tensor(x: torch.Tensor, *, name: str = "image") -> torch.Tensor:
    """A float32 (N, 3, H, W) tensor in [0, 1] from a (3|1, H, W) or (N, 3|1, H, W) tensor."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise ImageError(f"{name}: expected a tensor, got {type(x).__name__}")
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() == 4 and x.shape[1] == 4:
        raise ImageError(
            f"{name}: a 4-channel (RGBA) tensor {tuple(x.shape)}; pass the colour channels (x[:, :3]) "
            "and put the alpha back on the result, or pass a path or PIL image (alpha is then kept)"
        )
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ImageError(f"{name}: expected shape (3, H, W) or (N, 3, H, W), got {tuple(x.shape)}")
    if x.shape[-1] == 0 or x.shape[-2] == 0 or x.shape[0] == 0:
        raise ImageError(f"{name}: empty tensor of shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    elif not x.is_floating_point():
        raise ImageError(f"{name}: expected a float tensor in [0, 1] or uint8, got {x.dtype}")
    elif not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ImageError(f"{name}: the tensor holds {bad:,} NaN or infinite value(s); an image's values must be "
                         "finite, in [0, 1]. Fix the input (e.g. torch.nan_to_num) and try again")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.float()


def load_image(src: Any, *, alpha: AlphaPolicy = "drop") -> tuple[torch.Tensor, torch.Tensor | None]:
    """Any source as a (1, 3, H, W) float32 tensor in [0, 1], plus (1, 1, H, W) alpha or None.

    Tensors pass through :func:`check_tensor` (their batch is kept). ``alpha="drop"``
    returns None for the alpha.
    """
    import torch

    if isinstance(src, torch.Tensor):
        return check_tensor(src), None
    x, a = pil_to_tensor(open_image(src))
    return x[None], (a[None] if (a is not None and alpha == "keep") else None)


# NTSC YIQ (FCC 1953 coefficients): Y is the luminance, I and Q the chroma. One matrix for every
# colour operation of the style-transfer models (luminance-only transfer, hue rotation).
RGB_TO_YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def yiq_matrix(like: torch.Tensor | None = None) -> torch.Tensor:
    """RGB_TO_YIQ as a (3, 3) tensor (on ``like``'s device and dtype when given)."""
    import torch

    m = torch.tensor(RGB_TO_YIQ, dtype=torch.float64)
    return m if like is None else m.to(like)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB to YIQ."""
    import torch

    return torch.einsum("ij,njhw->nihw", yiq_matrix(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) YIQ back to RGB (the inverse matrix, computed in float64)."""
    import torch

    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(yiq_matrix()).to(x), x)


def fit_pixels(height: int, width: int, max_pixels: int | None) -> tuple[int, int]:
    """(h, w) with the same aspect ratio and at most ``max_pixels`` pixels (never upscaled)."""
    if max_pixels is None or height * width <= max_pixels:
        return height, width
    s = math.sqrt(max_pixels / (height * width))
    return max(1, int(height * s)), max(1, int(width * s))


def shorter_side(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) scaled so that the shorter side is ``size`` (as torchvision's Resize(int))."""
    if height <= width:
        return size, max(1, int(round(width * size / height)))
    return max(1, int(round(height * size / width))), size


def resize(x: torch.Tensor, size: tuple[int, int], *, mode: str = "bicubic") -> torch.Tensor:
    """Resize (N, C, H, W) to ``size`` (h, w); antialiased when shrinking; bicubic is clamped."""
    import torch.nn.functional as F

    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode in ("bilinear", "bicubic"):
        y = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=True)
        return y.clamp_(0.0, 1.0) if mode == "bicubic" else y
    return F.interpolate(x, size=size, mode=mode)


def to_pil(x: torch.Tensor, alpha: torch.Tensor | None = None) -> Image.Image:
    """A PIL image (RGB, or RGBA with ``alpha``) from a (3, H, W) or (1, 3, H, W) tensor in [0, 1].

    Values are clamped to [0, 1] and rounded to 8 bits. ``alpha`` ((1, H, W) or
    (1, 1, H, W), any size) is resized to the image's size.
    """
    import torch

    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ImageError(f"to_pil takes one image, got a batch of {x.shape[0]}; convert them one by one")
        x = x[0]
    if x.dim() != 3 or x.shape[0] not in (1, 3):
        raise ImageError(f"expected an image tensor (3, H, W), got {tuple(x.shape)}")
    x = x.detach().float().cpu()
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    arr = (x.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    img = Image.fromarray(arr, "RGB")
    if alpha is not None:
        a = alpha.detach().float().cpu()
        a = a.reshape(1, 1, *a.shape[-2:])
        a = resize(a, (img.height, img.width), mode="bilinear")[0, 0]
        a8 = (a.clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()
        img.putalpha(Image.fromarray(a8, "L"))
    return img


def save_image(img: Image.Image | torch.Tensor, path: str | os.PathLike[str], **save_kwargs: Any) -> Path:
    """Write a PIL image or a (3, H, W) tensor in [0, 1]; the format follows the suffix.

    An RGBA image saved as JPEG loses its alpha (JPEG has none). Creates parent folders.
    """
    path = Path(path)
    if not isinstance(img, Image.Image):
        img = to_pil(img)
    if path.suffix.lower() in (".jpg", ".jpeg") and img.mode != "RGB":
        img = img.convert("RGB")
        save_kwargs.setdefault("quality", 95)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        img.save(path, **save_kwargs)
    except (KeyError, ValueError) as e:
        raise ImageError(f"cannot write {path}: {e}. Use a .png or .jpg suffix.") from e
    return path


def make_grid(
    images: torch.Tensor | Sequence[torch.Tensor], nrow: int = 8, padding: int = 2, pad_value: float = 1.0
) -> torch.Tensor:
    """Tile (N, C, H, W) images in [0, 1] into one (3, H', W') image, ``nrow`` per row."""
    import torch

    if not isinstance(images, torch.Tensor):
        images = torch.stack([check_tensor(t)[0] for t in images])
    x = check_tensor(images, name="images").detach().cpu()
    if nrow < 1:
        raise ImageError(f"nrow must be >= 1, got {nrow}")
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), float(pad_value))
    for i in range(n):
        r, col = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i].clamp(0, 1)
    return grid


def save_grid(
    images: torch.Tensor | Sequence[torch.Tensor],
    path: str | os.PathLike[str],
    nrow: int = 8,
    *,
    padding: int = 2,
    pad_value: float = 1.0,
    scale: int = 1,
) -> Path:
    """Save a grid of images in [0, 1] (a generator's samples): ``nrow`` images per row,
    enlarged ``scale`` times (nearest neighbour, so small images stay crisp)."""
    img = to_pil(make_grid(images, nrow, padding, pad_value))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return save_image(img, path)


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "check_output_path",
    "check_pixels",
    "check_tensor",
    "fit_pixels",
    "load_image",
    "make_grid",
    "open_image",
    "pil_to_tensor",
    "resize",
    "save_grid",
    "save_image",
    "shorter_side",
    "split_alpha",
    "to_pil",
]
