"""zoo.images: reading any image (modes, 16-bit, alpha, EXIF), errors, sizes, grids."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import zoo
from zoo.images import (
    DEFAULT_MAX_PIXELS,
    check_tensor,
    fit_pixels,
    load_image,
    make_grid,
    open_image,
    save_grid,
    save_image,
    shorter_side,
    to_pil,
)


def _png16(path: Path, arr: np.ndarray) -> None:
    """Write a 16-bit PNG by hand (colour type 0 grey, 2 RGB, 6 RGBA), filter 0 rows."""
    h, w = arr.shape[:2]
    c = 1 if arr.ndim == 2 else arr.shape[2]
    ctype = {1: 0, 3: 2, 4: 6}[c]
    rows = arr.reshape(h, w * c).astype(">u2")
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(h))

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, ctype, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_rgb_png_round_trip(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).integers(0, 256, (13, 7, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    x, a = load_image(tmp_path / "a.png")
    assert x.shape == (1, 3, 13, 7) and x.dtype == torch.float32 and a is None
    assert np.array_equal(np.asarray(to_pil(x)), arr)


def test_greyscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    Image.fromarray(np.arange(60, dtype=np.uint8).reshape(6, 10), "L").save(tmp_path / "g.png")
    x, _ = load_image(str(tmp_path / "g.png"))
    assert x.shape == (1, 3, 6, 10)
    assert torch.equal(x[0, 0], x[0, 1]) and torch.equal(x[0, 1], x[0, 2])
    assert x[0, 0, 0, 5].item() == pytest.approx(5 / 255)


def test_16bit_greyscale_keeps_full_precision(tmp_path: Path) -> None:
    arr = (np.arange(12 * 9, dtype=np.uint16).reshape(9, 12) * 601).astype(np.uint16)
    _png16(tmp_path / "g16.png", arr)
    x, _ = load_image(tmp_path / "g16.png")
    assert x.shape == (1, 3, 9, 12)
    np.testing.assert_allclose(x[0, 0].numpy(), arr / 65535.0, atol=1e-6)
    # values that differ only in the low byte stay distinct (not rounded to 8 bits)
    assert len(torch.unique(x[0, 0])) == arr.size


def test_16bit_rgb_and_rgba_png_are_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 65536, (5, 6, 3)).astype(np.uint16)
    _png16(tmp_path / "c16.png", rgb)
    x, _ = load_image(tmp_path / "c16.png")
    assert x.shape == (1, 3, 5, 6)
    # Pillow decodes 16-bit colour at 8 bits: within 1/255 of the true value
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), rgb / 65535.0, atol=1 / 255 + 1e-6)
    rgba = rng.integers(0, 65536, (5, 6, 4)).astype(np.uint16)
    rgba[..., 3] = 65535
    _png16(tmp_path / "c16a.png", rgba)
    x, a = load_image(tmp_path / "c16a.png", alpha="keep")
    assert x.shape == (1, 3, 5, 6) and a is not None and a.shape == (1, 1, 5, 6)


def test_rgba_alpha_kept_or_dropped(tmp_path: Path) -> None:
    arr = np.zeros((4, 4, 4), np.uint8)
    arr[..., 0] = 255  # red
    arr[:, :2, 3] = 255  # left half opaque, right half transparent
    Image.fromarray(arr, "RGBA").save(tmp_path / "t.png")
    x, a = load_image(tmp_path / "t.png", alpha="keep")
    assert a is not None and torch.equal(a[0, 0, :, :2], torch.ones(4, 2)) and torch.equal(a[0, 0, :, 2:], torch.zeros(4, 2))
    # transparent pixels are composited over white, opaque ones keep their colour
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(x[0, :, 0, 3], torch.ones(3))
    out = to_pil(x, alpha=a)
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], arr[..., 3])
    _, dropped = load_image(tmp_path / "t.png", alpha="drop")
    assert dropped is None


def test_palette_and_cmyk_images(tmp_path: Path) -> None:
    p = Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4), "L").convert("P")
    p.save(tmp_path / "p.png")
    Image.new("CMYK", (5, 3), (0, 255, 0, 0)).save(tmp_path / "c.jpg")
    assert load_image(tmp_path / "p.png")[0].shape == (1, 3, 4, 4)
    x, _ = load_image(tmp_path / "c.jpg")
    assert x.shape == (1, 3, 3, 5)


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    img = Image.new("RGB", (30, 10), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 5, 10))  # a white strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "o.jpg", exif=exif, quality=95)
    shown = open_image(tmp_path / "o.jpg")
    assert shown.size == (10, 30)
    # after the 90-degree turn the left strip is at the top
    arr = np.asarray(shown)
    assert arr[:4].mean() > 200 and arr[-10:].mean() < 50


def test_pil_input_with_exif_orientation() -> None:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.new("RGB", (8, 2)).save(buf, "JPEG", exif=exif)
    buf.seek(0)
    assert open_image(Image.open(buf)).size == (2, 8)


@pytest.mark.parametrize(
    "content, match",
    [(None, "no such file"), (b"", "empty"), (b"not an image at all", "not an image"), ("dir", "directory")],
)
def test_unreadable_files_raise_image_error(tmp_path: Path, content: bytes | None | str, match: str) -> None:
    p = tmp_path / "bad.png"
    if content == "dir":
        p.mkdir()
    elif content is not None:
        p.write_bytes(content)  # type: ignore[arg-type]
    with pytest.raises(zoo.ImageError, match=match):
        load_image(p)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_raise_image_error(tmp_path: Path, fmt: str) -> None:
    arr = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    p = tmp_path / f"cut.{fmt.lower()}"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(zoo.ImageError, match="truncated or corrupt") as e:
        load_image(p)
    assert str(p) in str(e.value)


def test_tensor_inputs() -> None:
    assert check_tensor(torch.rand(3, 5, 7)).shape == (1, 3, 5, 7)
    assert check_tensor(torch.rand(2, 1, 5, 7)).shape == (2, 3, 5, 7)
    u8 = torch.full((3, 2, 2), 255, dtype=torch.uint8)
    assert torch.equal(check_tensor(u8), torch.ones(1, 3, 2, 2))
    for bad in (torch.rand(4, 5, 5), torch.rand(5, 5), torch.zeros(3, 0, 4), torch.zeros(3, 2, 2, dtype=torch.int64)):
        with pytest.raises(zoo.ImageError):
            check_tensor(bad)
    with pytest.raises(zoo.ImageError, match="RGBA"):
        check_tensor(torch.rand(4, 5, 5))
    with pytest.raises(zoo.ImageError, match="path, a PIL image or a tensor"):
        load_image(42)


def test_memory_bound_for_a_large_photo() -> None:
    h, w = fit_pixels(4000, 6000, DEFAULT_MAX_PIXELS)
    assert h * w <= DEFAULT_MAX_PIXELS and (h, w) == (1672, 2508)
    assert abs(w / h - 1.5) < 0.002
    assert fit_pixels(300, 200, DEFAULT_MAX_PIXELS) == (300, 200)  # never upscaled
    assert shorter_side(300, 200, 100) == (150, 100) and shorter_side(200, 300, 100) == (100, 150)


def test_save_grid(tmp_path: Path) -> None:
    imgs = torch.stack([torch.full((3, 4, 6), i / 10) for i in range(5)])
    grid = make_grid(imgs, nrow=3, padding=1)
    assert grid.shape == (3, 2 * (4 + 1) + 1, 3 * (6 + 1) + 1)
    assert grid[0, 1, 1].item() == 0.0 and grid[0, 6, 1].item() == pytest.approx(0.3)
    assert grid[0, 6, 15].item() == 1.0  # the empty sixth cell is padding colour
    out = save_grid(imgs, tmp_path / "sub" / "grid.png", nrow=3)
    im = Image.open(out)
    assert im.size == (3 * 8 + 2, 2 * 6 + 2) and im.mode == "RGB"
    save_grid(torch.rand(4, 1, 8, 8), tmp_path / "grey.png", nrow=2)  # MNIST-like greyscale


def test_save_image_formats(tmp_path: Path) -> None:
    x = torch.rand(3, 9, 11)
    rgba = to_pil(x, alpha=torch.rand(1, 3, 3))
    assert rgba.mode == "RGBA" and rgba.size == (11, 9)
    assert Image.open(save_image(rgba, tmp_path / "o.jpg")).mode == "RGB"
    assert Image.open(save_image(rgba, tmp_path / "o.png")).mode == "RGBA"
    with pytest.raises(zoo.ImageError, match="suffix"):
        save_image(x, tmp_path / "o.unknownext")
    assert np.asarray(to_pil(torch.full((3, 2, 2), 7.0))).max() == 255  # clamped


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 41), w=st.integers(1, 41), mode=st.sampled_from(["RGB", "L", "RGBA"]))
def test_any_size_round_trips(tmp_path_factory: pytest.TempPathFactory, h: int, w: int, mode: str) -> None:
    rng = np.random.default_rng(h * 100 + w)
    shape = (h, w) if mode == "L" else (h, w, len(mode))
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    if mode == "RGBA":
        arr[..., 3] = 255
    p = tmp_path_factory.mktemp("any") / "x.png"
    Image.fromarray(arr, mode).save(p)
    x, _ = load_image(p)
    assert x.shape == (1, 3, h, w)
    back = np.asarray(to_pil(x))
    expect = np.repeat(arr[..., None], 3, 2) if mode == "L" else arr[..., :3]
    assert np.array_equal(back, expect)


def test_reads_the_shared_style_and_content_images(data_dir: Path) -> None:
    """Every painting and photo in the data folder reads as RGB at its displayed size."""
    folder = data_dir / "style-transfer"
    files = sorted(p for sub in ("style", "content") for p in (folder / sub).iterdir() if p.is_file())
    if not files:
        pytest.skip(f"no images under {folder}")
    for p in files:
        img = open_image(p)
        x, _ = load_image(p)
        assert x.shape == (1, 3, img.height, img.width), p.name
        assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.01, p.name


def test_decompression_bomb_is_an_image_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (40, 40)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1600 px > 2 * 100: Pillow refuses
    with pytest.raises(zoo.ImageError, match="MAX_IMAGE_PIXELS"):
        load_image(tmp_path / "big.png")


def test_bundled_scikit_image_photos() -> None:
    pytest.importorskip("skimage")
    img = open_image("skimage:astronaut")
    assert img.size == (512, 512) and img.mode == "RGB"
    assert load_image("skimage:camera")[0].shape == (1, 3, 512, 512)  # greyscale -> RGB
    with pytest.raises(zoo.ImageError, match="astronaut"):
        open_image("skimage:nope")
