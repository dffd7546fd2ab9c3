"""bench/gpu_adain.py: the packer keeps the judge's held-out images out and stays within the device's limits;
`train` runs the trainer on the packed folder (here on the CPU, at a tiny size) and leaves a folder that
zoo.load reads and at most 8 files to bring back."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _script():
    spec = importlib.util.spec_from_file_location("gpu_adain", ROOT / "bench" / "gpu_adain.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _image(path: Path, w: int, h: int, seed: int) -> Path:
    g = torch.Generator().manual_seed(seed)
    Image.fromarray((torch.rand(h, w, 3, generator=g).numpy() * 255).astype("uint8")).save(path)
    return path


def _pattern(path: Path, w: int = 8, h: int = 6) -> Path:
    """A GIMP pattern (.pat version 1, RGB)."""
    name = b"test\0"
    header = struct.pack(">5I", 24 + len(name), 1, w, h, 3) + b"GPAT" + name
    path.write_bytes(header + bytes((i * 7) % 256 for i in range(w * h * 3)))
    return path


def _random_vgg16(path: Path) -> Path:
    from safetensors.torch import save_file
    from zoo_adain.encoders import VGG16Encoder

    g = torch.Generator().manual_seed(0)
    state = {k: (torch.randn(v.shape, generator=g) * math.sqrt(2.0 / v[0].numel()) if v.dim() == 4
                 else torch.zeros(v.shape)).contiguous() for k, v in VGG16Encoder().state_dict().items()}
    save_file(state, str(path))
    return path


def _sources(tmp_path: Path) -> dict[str, Path]:
    st = tmp_path / "style-transfer"
    (st / "content").mkdir(parents=True)
    (st / "style").mkdir()
    _image(st / "content" / "street.jpg", 900, 600, 0)  # downscaled to 768 x 512
    _image(st / "content" / "astronaut.png", 64, 64, 1)  # held out (the judge's)
    _image(st / "style" / "stripes.png", 80, 60, 2)
    _image(st / "style" / "udnie.jpg", 64, 64, 3)  # held out
    photos = tmp_path / "photos.tsv"
    _image(tmp_path / "wall.png", 70, 50, 4)
    photos.write_text("# name\tpath\tpackage\tlicence\nmy:wall\twall.png\tpkg\tCC0\nplasma:EveningGlow\twall.png\n")
    patterns = tmp_path / "patterns.tsv"
    _pattern(tmp_path / "p.pat")
    patterns.write_text("gimp:Test/p\tp.pat\tgimp-data\tGPL-3+\n")
    return {"st": st, "photos": photos, "patterns": patterns, "weights": _random_vgg16(tmp_path / "vgg16.safetensors")}


def _pack(g, src: dict[str, Path], out: Path, *more: str) -> int:
    return g.main(["pack", "--out", str(out), "--style-transfer", str(src["st"]), "--content-list", str(src["photos"]),
                   "--style-list", str(src["patterns"]), "--no-skimage", "--encoder-weights", str(src["weights"]), *more])


def test_pack_leaves_the_held_out_images_out_and_downscales(tmp_path, capsys):
    g = _script()
    src = _sources(tmp_path)
    out = tmp_path / "pack"
    assert _pack(g, src, out) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert [p["name"] for p in m["photos"]] == ["street", "my:wall"]
    assert [p["name"] for p in m["paintings"]] == ["stripes"] and [p["name"] for p in m["patterns"]] == ["gimp:Test/p"]
    assert {"astronaut", "plasma:EveningGlow", "mate:Storm"} <= set(m["held_out_content"])
    assert not list(out.rglob("astronaut*")) and not list(out.rglob("udnie*")) and not list(out.rglob("*Evening*"))
    with Image.open(out / "photos" / "street.jpg") as im:
        assert im.size == (768, 512)
    assert (out / m["encoder"]["file"]).read_bytes() == src["weights"].read_bytes() and not m["encoder"]["pinned"]
    eps = next((out / "site").glob("*.dist-info")) / "entry_points.txt"
    assert "adain = zoo_adain" in eps.read_text()
    assert "packed" in capsys.readouterr().out
    # a size bound the folder does not meet is refused, and a folder that is not a pack is never removed
    assert _pack(g, src, out, "--max-mib", "0.001") == 2
    assert "over --max-mib" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text()) == m and not list(tmp_path.glob(".pack.*"))  # kept whole
    (tmp_path / "other").mkdir()
    assert _pack(g, src, tmp_path / "other") == 2


def test_train_on_the_packed_folder_exports_a_loadable_folder_within_the_return_limits(tmp_path, monkeypatch, capsys):
    import zoo
    import zoo.loading

    g = _script()
    src = _sources(tmp_path)
    data, out = tmp_path / "pack", tmp_path / "out"
    assert _pack(g, src, data) == 0
    rc = g.main(["train", "--data", str(data), "--out", str(out), "--device", "cpu", "--threads", "1", "--steps", "3",
                 "--resize", "48", "--crop", "32", "--batch-size", "2", "--decoder-width", "0.0625",
                 "--precision", "fp32", "--sample-every", "2", "--checkpoint-every", "2", "--run-dir", str(tmp_path / "run")])
    assert rc == 0, capsys.readouterr()
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["adain-paper-gpu/README.md", "adain-paper-gpu/config.json", "adain-paper-gpu/model.safetensors",
                     "adain-paper-gpu/samples.jpg", "log.jsonl", "samples-step_0000002.png", "samples-step_0000003.png",
                     "summary.json"]
    assert g.return_problems(out) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["packed"] == {"photos": 2, "paintings": 1, "patterns": 1}
    # the judge's wallpapers are held out by the trainer itself (zoo_adain.data.HELD_OUT_CONTENT): nothing to add
    from zoo_adain.data import HELD_OUT_CONTENT

    assert summary["settings"]["held_out_content"] == []
    assert {"mate:Storm", "plasma:EveningGlow"} <= set(HELD_OUT_CONTENT)
    config = json.loads((out / "adain-paper-gpu" / "config.json").read_text())
    assert config["includes"] == {"encoder": "vgg16.hed-bsds500"} and config["training"]["steps_done"] == 3
    settings = config["training"]["settings"]
    assert settings["resize"] == 48 and settings["crop"] == 32 and settings["style_list_share"] == 0.25
    # the folder loads through zoo.load, its encoder from the included model's file (here the random VGG16)
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: data / json.loads(
        (data / "manifest.json").read_text())["encoder"]["file"])
    model = zoo.load(str(out / "adain-paper-gpu"))
    y = model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert y.shape == (1, 3, 32, 32) and torch.isfinite(y).all()


def test_train_refuses_a_folder_that_is_not_a_whole_pack(tmp_path, capsys):
    g = _script()
    src = _sources(tmp_path)
    data = tmp_path / "pack"
    assert _pack(g, src, data) == 0
    (data / "photos" / "street.jpg").unlink()
    assert g.main(["train", "--data", str(data), "--out", str(tmp_path / "out"), "--device", "cpu"]) == 2
    assert "lacks 1 packed files" in capsys.readouterr().err
    assert g.main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--device", "cpu"]) == 2
