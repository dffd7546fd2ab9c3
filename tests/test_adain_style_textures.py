"""More style images for AdaIN training (issue 20): GIMP patterns read from .pat files and tiled, style
manifests, and the share of style crops drawn from them."""

from __future__ import annotations

import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from zoo_adain import train as T  # noqa: E402

GIMP_PATTERNS = Path("/usr/share/gimp/2.0/patterns")
MANIFEST = Path(__file__).resolve().parents[1] / "plugins" / "zoo_adain" / "manifests" / "style-gimp.tsv"


def write_pat(path: Path, pixels: np.ndarray, name: str = "test pattern", version: int = 1,
              magic: bytes = b"GPAT") -> Path:
    """A .pat file as GIMP writes it (devel-docs/pat.txt): header, name with its NUL, pixels."""
    h, w, depth = pixels.shape
    name_b = name.encode() + b"\0"
    header = struct.pack(">5I", 24 + len(name_b), version, w, h, depth) + magic + name_b
    path.write_bytes(header + pixels.astype(np.uint8).tobytes())
    return path


def test_rgb_pattern_reads_back_its_pixels(tmp_path):
    px = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    im = T.read_gimp_pattern(write_pat(tmp_path / "p.pat", px))
    assert im.mode == "RGB" and im.size == (7, 5)
    assert np.array_equal(np.asarray(im), px)


def test_grey_and_alpha_patterns(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4, 1) * 20
    im = np.asarray(T.read_gimp_pattern(write_pat(tmp_path / "g.pat", grey)))
    assert np.array_equal(im, grey.repeat(3, 2))
    # RGBA: black where opaque, nothing where transparent -> black lines on white
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, :, 3] = 255
    im = np.asarray(T.read_gimp_pattern(write_pat(tmp_path / "a.pat", rgba)))
    assert (im[0] == 0).all() and (im[1] == 255).all()


@pytest.mark.parametrize("kind", ["magic", "version", "truncated"])
def test_a_broken_pattern_is_a_clear_error(tmp_path, kind):
    px = np.zeros((4, 4, 3), dtype=np.uint8)
    p = write_pat(tmp_path / "bad.pat", px, magic=b"XXXX" if kind == "magic" else b"GPAT",
                  version=2 if kind == "version" else 1)
    if kind == "truncated":
        p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(ValueError, match="not a GIMP pattern") as e:
        T.read_gimp_pattern(p)
    assert str(p) in str(e.value)


def test_tiling_keeps_the_pixel_scale(tmp_path):
    px = np.random.default_rng(1).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    im = T.tile_to(Image.fromarray(px), 25)
    a = np.asarray(im)
    assert a.shape == (30, 30, 3)
    assert np.array_equal(a[:6, :10], px) and np.array_equal(a[24:30, 20:30], px)
    big = Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8))
    assert T.tile_to(big, 25) is big


def test_style_manifest_joins_the_pool_with_its_share(tmp_path):
    from test_adain_training import _cfg

    tex = [write_pat(tmp_path / f"t{i}.pat", np.full((8, 8, 3), 40 * i, dtype=np.uint8)) for i in range(3)]
    manifest = tmp_path / "styles.tsv"
    manifest.write_text("# name<TAB>path\n" + "".join(f"tex:{i}\t{p.name}\n" for i, p in enumerate(tex))
                        + "the_scream\tt0.pat\n")  # a held-out name never trains, whatever its source
    cfg = _cfg(tmp_path, style_lists=(str(manifest),), style_list_share=0.75)
    _, spool = T.load_pools(cfg)
    folder = [n for n in spool.names if not n.startswith("tex:")]
    assert [n for n in spool.names if n.startswith("tex:")] == ["tex:0", "tex:1", "tex:2"]
    assert "the_scream" not in spool.names and folder
    assert all(t.shape[1] >= cfg.resize and t.shape[2] >= cfg.resize for t in spool.images)
    # the share: 75% of crops from the three textures, whose pixels are flat 0/40/80 (the folder's are not)
    rng = random.Random(0)
    drawn = spool.sample(400, rng)
    flat = (drawn.amax((1, 2, 3)) - drawn.amin((1, 2, 3))) < 1e-6
    assert 0.68 < float(flat.float().mean()) < 0.82
    with pytest.raises(ValueError, match="style_list_share"):
        T.style_weights(2, 3, 1.0)
    assert T.style_weights(2, 3, 0.0) is None and T.style_weights(0, 3, 0.5) is None


def test_uniform_draw_is_unchanged_without_weights():
    # runs started before the weights existed resume bit for bit: the same rng calls, the same crops
    ims = [Image.fromarray(np.full((20, 20, 3), 60 * i, dtype=np.uint8)) for i in range(4)]
    a = T.CropPool(ims, 20, 16).sample(10, random.Random(3))
    rng = random.Random(3)
    picks = []
    for _ in range(10):
        picks.append(rng.randrange(4))
        rng.randrange(5), rng.randrange(5), rng.random()
    assert [int(round(float(x.mean()) * 255 / 60)) for x in a] == picks


@pytest.mark.skipif(not GIMP_PATTERNS.is_dir(), reason="Debian's gimp-data is not installed")
def test_every_listed_gimp_pattern_reads():
    listed = T.read_manifest(MANIFEST)
    assert len(listed) == 58 and all(n.startswith("gimp:") for n, _ in listed)
    for name, path in listed:
        im = T.read_gimp_pattern(path)
        assert min(im.size) >= 20, name
