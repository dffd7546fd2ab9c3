"""`zoo stylize`: options reach model.stylize; a Hub-repo folder works as --model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from safetensors.torch import save_file

import zoo
from zoo_adain.cli import stylize

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("adain-tiny")
    cfg = {"encoder": "vgg19_normalised", "encoder_width": 0.125, "decoder_width": 0.125, "pretrained_encoder": False}
    torch.manual_seed(0)
    m = zoo.build("adain", **cfg)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(d / "model.safetensors"))
    (d / "config.json").write_text(json.dumps({"architecture": "adain", "config": cfg}))
    rng = np.random.default_rng(0)
    for name, size in {"c.png": (45, 31), "s1.png": (20, 20), "s2.jpg": (30, 24)}.items():
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(d / name)
    Image.fromarray(np.where(np.arange(45)[None, :] < 20, 255, 0).astype(np.uint8).repeat(31, 0)).save(d / "mask.png")
    return d


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(stylize, list(args))
    return r.exit_code, r.output


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--alpha", "0.5", "--preserve-color"],
        ["--preserve-color", "luminance", "--size", "16"],
        ["S2", "--style-weights", "1,3"],
        ["S2", "--mask", "MASK"],
        ["--size", "20x10", "--precision", "bf16"],
        ["--wct-mix", "1"],
        ["S2", "--mask", "MASK", "--wct-mix", "0.5"],
    ],
)
def test_stylize_command(folder: Path, tmp_path: Path, extra: list[str]) -> None:
    extra = [str(folder / "s2.jpg") if e == "S2" else str(folder / "mask.png") if e == "MASK" else e for e in extra]
    styles = [str(folder / "s1.png")] + [e for e in extra if e.endswith(".jpg")]
    opts = [e for e in extra if not e.endswith(".jpg")]
    out = tmp_path / "out.png"
    code, text = _run(str(folder / "c.png"), *styles, "-o", str(out), "--model", str(folder), "--style-size", "0", *opts)
    assert code == 0, text
    img = Image.open(out)
    expected = {"16": (23, 16), "20x10": (20, 10)}
    size = next((expected[o] for o in opts if o in expected), (45, 31))
    assert img.size == size and "wrote" in text


def test_errors_are_messages_not_tracebacks(folder: Path, tmp_path: Path) -> None:
    code, text = _run(str(tmp_path / "nope.png"), str(folder / "s1.png"), "-o", str(tmp_path / "o.png"), "--model", str(folder))
    assert code == 1 and "no such file" in text and "Traceback" not in text
    code, text = _run(str(folder / "c.png"), str(folder / "s1.png"), "-o", str(tmp_path / "o.png"), "--model", str(tmp_path))
    assert code == 1 and "config.json" in text
    code, text = _run(str(folder / "c.png"), str(folder / "s1.png"), "-o", str(tmp_path / "o.png"), "--model", str(folder), "--style-weights", "a,b")
    assert code == 2 and "commas" in text


def test_stylize_resample_reference(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "ref.png"
    code, text = _run(str(folder / "c.png"), str(folder / "s2.jpg"), "-o", str(out), "--model", str(folder),
                      "--style-size", "16", "--size", "24", "--resample", "reference", "--precision", "fp32")
    assert code == 0, text
    from zoo_adain.cli import load_model

    model = load_model(str(folder), None)
    expect = model.stylize(folder / "c.png", folder / "s2.jpg", style_size=16, size=24, resample="reference",
                           precision="fp32")
    assert Image.open(out).size == expect.size == (34, 24)  # torchvision's rule: int(24 * 45 / 31) = 34
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), np.asarray(expect.convert("RGB")))


def test_wct_mix_reaches_the_bottleneck(folder: Path, tmp_path: Path) -> None:
    from _adain_helpers import spread_adain

    from zoo_adain.cli import load_model

    spread = tmp_path / "spread"  # weights that carry the picture through (the fixture's give a flat image)
    spread.mkdir()
    save_file({k: v.contiguous() for k, v in spread_adain().state_dict().items()}, str(spread / "model.safetensors"))
    cfg = {"encoder": "vgg19_normalised", "encoder_width": 0.25, "decoder_width": 0.25, "pretrained_encoder": False}
    (spread / "config.json").write_text(json.dumps({"architecture": "adain", "config": cfg}))
    model = load_model(str(spread), None)
    outs = {}
    for mix in ("0", "1"):
        out = tmp_path / f"wct{mix}.png"
        code, text = _run(str(folder / "c.png"), str(folder / "s1.png"), "-o", str(out), "--model", str(spread),
                          "--precision", "fp32", "--wct-mix", mix)
        assert code == 0, text
        model.wct_mix = float(mix)
        expect = model.stylize(folder / "c.png", folder / "s1.png", precision="fp32")
        outs[mix] = np.asarray(Image.open(out).convert("RGB"))
        assert np.array_equal(outs[mix], np.asarray(expect.convert("RGB")))
    assert np.abs(outs["0"].astype(int) - outs["1"]).mean() > 1
    code, text = _run(str(folder / "c.png"), str(folder / "s1.png"), "-o", str(tmp_path / "x.png"), "--model", str(folder),
                      "--wct-mix", "2")
    assert code == 2 and "wct-mix" in text
