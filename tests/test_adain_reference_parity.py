"""AdaIN.stylize against naoto0804/pytorch-AdaIN's test.py (read at commit 47950d0): colour
preservation, content sizes not divisible by 8, and the style's resizing.

The reference's steps are written out here from its documented behaviour (function.py's
``coral``: per-channel standardisation, ``X X^T + I``, SVD matrix square roots, float32;
test.py: ``transforms.Resize(n)`` on the PIL image, then ``vgg``, AdaIN, ``decoder`` on the
unpadded tensor, whose output is 8 * ceil(H / 8) high) and run with the zoo's own layers,
whose equality with the reference's ``net.py`` test_adain_convert checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from _adain_helpers import spread_adain
from zoo_adain.model import AdaIN, adain
from zoo_adain.stylize import coral, reference_size

torch.set_num_threads(1)
TOL = {"atol": 1e-5, "rtol": 0}


@pytest.fixture(scope="module")
def model() -> AdaIN:
    return spread_adain()


def reference_coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """function.py's coral, step by step, in float32 with torch.svd as there."""
    def flat(x):
        f = x.reshape(3, -1)
        return f, f.mean(-1, keepdim=True), f.std(-1, keepdim=True)

    def mat_sqrt(a):
        u, d, v = torch.svd(a)
        return u @ torch.diag(d.pow(0.5)) @ v.t()

    sf, sm, ss = flat(source.float())
    tf, tm, ts = flat(target.float())
    sn, tn = (sf - sm) / ss, (tf - tm) / ts
    s_cov = sn @ sn.t() + torch.eye(3)
    t_cov = tn @ tn.t() + torch.eye(3)
    out = mat_sqrt(t_cov) @ (torch.inverse(mat_sqrt(s_cov)) @ sn)
    return (out * ts + tm).reshape(source.shape)


def reference_transfer(model: AdaIN, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """test.py's style_transfer with alpha 1: vgg(content), vgg(style), AdaIN, decoder; no padding."""
    with torch.no_grad():
        return model.decoder(adain(model.encoder(content), model.encoder(style)))


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 4 + 1, w // 4 + 1, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(base).resize((w, h), Image.BICUBIC))


def _to_tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)


def test_coral_is_the_reference_transform() -> None:
    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    for (hs, ws), (ht, wt) in (((64, 80), (64, 80)), ((50, 70), (96, 64))):  # equal and unequal pixel counts
        src = torch.einsum("ij,jhw->ihw", mix, torch.rand(3, hs, ws, generator=g))
        tgt = torch.rand(3, ht, wt, generator=g) * 0.6 + 0.3
        got = coral(src, tgt)
        torch.testing.assert_close(got, reference_coral(src, tgt), **TOL)
    # no clamp inside: the reference lets values leave [0, 1], and so does the zoo
    src = torch.rand(3, 40, 40, generator=g)
    tgt = torch.rand(3, 40, 40, generator=g) ** 4
    assert float(coral(src, tgt).min()) < 0.0


@pytest.mark.parametrize("hw", [(37, 53), (45, 64), (64, 41)])
def test_sizes_not_divisible_by_8_give_the_reference_pixels(model: AdaIN, hw: tuple[int, int]) -> None:
    g = torch.Generator().manual_seed(1)
    c = torch.rand(1, 3, *hw, generator=g)
    s = torch.rand(1, 3, 40, 48, generator=g)
    ref = reference_transfer(model, c, s)
    assert ref.shape[-2:] == tuple(-(-v // 8) * 8 for v in hw)  # test.py's output is larger
    got = model.stylize(c, s, precision="fp32", style_size=None)
    assert got.shape == c.shape
    torch.testing.assert_close(got, ref[..., : hw[0], : hw[1]].clamp(0, 1), **TOL)


def test_style_size_resizes_as_the_reference(model: AdaIN, tmp_path: Path) -> None:
    torchvision = pytest.importorskip("torchvision")
    from torchvision import transforms

    style = tmp_path / "style.png"
    Image.fromarray(_photo(90, 131, 2)).save(style)
    with Image.open(style) as im:
        ref_style = transforms.ToTensor()(transforms.Resize(48)(im.convert("RGB")))
    assert tuple(ref_style.shape[-2:]) == reference_size(90, 131, 48) == (48, int(48 * 131 / 90))
    c = _to_tensor(Image.fromarray(_photo(48, 64, 3)))[None]
    ref = reference_transfer(model, c, ref_style[None])
    got = model.stylize(c, style, precision="fp32", style_size=48, resample="reference")
    torch.testing.assert_close(got, ref.clamp(0, 1), **TOL)
    # the zoo's own resizing (antialiased bicubic) differs, which is why the option exists
    zoo_default = model.stylize(c, style, precision="fp32", style_size=48)
    assert float((zoo_default - got).abs().max()) > 1e-4
    del torchvision


def test_preserve_color_matches_test_py(model: AdaIN, tmp_path: Path) -> None:
    pytest.importorskip("torchvision")
    from torchvision import transforms

    content, style = tmp_path / "content.png", tmp_path / "style.png"
    Image.fromarray(_photo(70, 90, 4)).save(content)
    Image.fromarray(_photo(60, 100, 5)).save(style)
    # test.py --content_size 56 --style_size 48 --preserve_color
    with Image.open(content) as im:
        c = transforms.ToTensor()(transforms.Resize(56)(im.convert("RGB")))
    with Image.open(style) as im:
        s = transforms.ToTensor()(transforms.Resize(48)(im.convert("RGB")))
    s = reference_coral(s, c)
    ref = reference_transfer(model, c[None], s[None])
    got = model.stylize(content, style, precision="fp32", size=56, style_size=48, preserve_color=True,
                        resample="reference", keep_alpha=False)
    assert got.size == (ref.shape[-1], ref.shape[-2])  # 72 x 56: both sizes divisible by 8 here
    # compare before 8-bit rounding: the same path with a tensor content gives the float output
    got_t = model.stylize(c[None], style, precision="fp32", style_size=48, preserve_color=True, resample="reference")
    torch.testing.assert_close(got_t, ref.clamp(0, 1), **TOL)
    # and the PIL output is the rounding of it
    assert np.abs(np.asarray(got, dtype=np.float32) / 255.0 - got_t[0].permute(1, 2, 0).numpy()).max() <= 0.5 / 255 + 1e-6
