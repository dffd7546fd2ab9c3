"""The whitening-colouring transform at AdaIN's bottleneck (config key ``wct_mix``; Li et al. 2017)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

import zoo
from zoo.errors import ConfigError
from zoo_adain import train as T
from zoo_adain.model import build
from zoo_adain.ops import StyleStats, adain, colouring, covariance, stats_of, wct_from_stats

from _adain_helpers import spread_adain


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _features(seed: int, n: int, c: int = 12, h: int = 9, w: int = 10) -> torch.Tensor:
    """ReLU-like features with correlated channels and one dead channel (as a random encoder has)."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g)
    x = torch.einsum("dc,nchw->ndhw", mix, torch.randn(n, c, h, w, generator=g))
    x = torch.relu(x + 0.5)
    x[:, 3] = 0.0
    return x


@pytest.mark.parametrize("grad", [True, False])
def test_no_wct_is_adain(grad: bool) -> None:
    fc, fs = _features(0, 2), _features(1, 1) * 2
    with torch.set_grad_enabled(grad):
        torch.testing.assert_close(wct_from_stats(fc, stats_of(fs, 1.0), 0.0), adain(fc, fs), rtol=1e-4, atol=1e-4)


def test_full_wct_gives_the_style_its_mean_and_covariance() -> None:
    fc, fs = _features(2, 2), _features(3, 1) * 3 + 0.2
    out = wct_from_stats(fc, stats_of(fs, 1.0), 1.0)
    s_mean, s_cov = covariance(fs)
    o_mean, o_cov = covariance(out)
    for i in range(2):
        torch.testing.assert_close(o_mean[i], s_mean[0], rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(o_cov[i], s_cov[0], rtol=1e-3, atol=1e-3 * float(s_cov.abs().max()))
    # AdaIN matches the diagonal only: its off-diagonal covariance is the content's correlations, not the style's
    a_cov = covariance(adain(fc, fs))[1][0]
    assert (a_cov - s_cov[0]).abs().max() > 10 * (o_cov[0] - s_cov[0]).abs().max()


def test_colour_is_the_square_root_of_the_covariance() -> None:
    fs = _features(4, 2)
    _, cov = covariance(fs)
    _, colour = colouring(fs)
    torch.testing.assert_close(colour @ colour, cov, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(colour, colour.transpose(1, 2))


def test_a_mix_of_styles_is_the_mix_of_their_outputs() -> None:
    fc, s1, s2 = _features(5, 1), _features(6, 1), _features(7, 1) * 2
    a, b = stats_of(s1, 1.0), stats_of(s2, 1.0)
    mixed = wct_from_stats(fc, StyleStats.mix([a, b], [0.3, 0.7]), 0.6)
    torch.testing.assert_close(mixed, 0.3 * wct_from_stats(fc, a, 0.6) + 0.7 * wct_from_stats(fc, b, 0.6),
                               rtol=1e-4, atol=1e-4)


def test_wct_needs_the_colour_matrix() -> None:
    fc, fs = _features(8, 1), _features(9, 1)
    with pytest.raises(ConfigError, match="colour matrix"):
        wct_from_stats(fc, stats_of(fs, 0.0), 0.5)


def test_the_model_config_key_and_its_bounds() -> None:
    arch = zoo.model_info("adain").architecture
    assert arch.validate_config({"wct_mix": 0.5})["wct_mix"] == 0.5
    with pytest.raises(Exception, match="wct_mix"):
        arch.validate_config({"wct_mix": 1.5})
    assert zoo.build("adain", encoder_width=0.25, decoder_width=0.25, wct_mix=1.0).wct_mix == 1.0


def test_the_model_and_stylize_decode_the_mixed_transform() -> None:
    m = spread_adain()
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 40)
    with torch.no_grad():
        plain = m(c, s)
        m.wct_mix = 0.7
        fc, fs = m.encode(c), m.encode(s)
        expect = m.decode(0.7 * _wct(fc, fs) + 0.3 * adain(fc, fs))
        got = m(c, s)
    torch.testing.assert_close(got, expect, rtol=1e-4, atol=1e-4)
    assert (got - plain).abs().mean() > 1e-3  # the bottleneck changed the picture
    out = m.stylize(c, s, precision="fp32", style_size=None)
    torch.testing.assert_close(out, got.clamp(0, 1), rtol=1e-4, atol=1e-4)
    m.wct_mix = 0.0
    torch.testing.assert_close(m.stylize(c, s, precision="fp32", style_size=None), plain.clamp(0, 1),
                               rtol=1e-4, atol=1e-4)


def _wct(fc: torch.Tensor, fs: torch.Tensor) -> torch.Tensor:
    """WCT written out as Li et al. describe it (eigendecompositions of both covariances), for one pair."""
    c = fc.shape[1]
    x, y = fc[0].reshape(c, -1).double(), fs[0].reshape(c, -1).double()
    x, my = x - x.mean(1, keepdim=True), y.mean(1, keepdim=True)
    y = y - my
    ec, vc = torch.linalg.eigh(x @ x.T / (x.shape[1] - 1) + 1e-5 * torch.eye(c, dtype=x.dtype))
    es, vs = torch.linalg.eigh(y @ y.T / (y.shape[1] - 1) + 1e-5 * torch.eye(c, dtype=x.dtype))
    whitened = vc @ torch.diag(ec.clamp_min(1e-5).rsqrt()) @ vc.T @ x
    return (vs @ torch.diag(es.clamp_min(1e-5).sqrt()) @ vs.T @ whitened + my).reshape(fc.shape).float()


def test_masks_whiten_each_region_by_its_own_statistics(tmp_path: Path) -> None:
    m = spread_adain()
    m.wct_mix = 1.0
    c = torch.rand(1, 3, 32, 32)
    s1, s2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32) * 0.5
    left = torch.zeros(1, 1, 32, 32)
    left[..., :16] = 1.0
    out = m.stylize(c, [s1, s2], masks=[left, 1 - left], precision="fp32", style_size=None)
    one = m.stylize(c, s1, precision="fp32", style_size=None)
    assert out.shape == one.shape and torch.isfinite(out).all()
    assert (out - one).abs().mean() > 1e-3
    stats = StyleStats(torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1))  # no colour matrix: refused
    with pytest.raises(ConfigError, match="colour matrix"):
        m.stylize(c, stats, precision="fp32")


def _style_dir(tmp_path: Path) -> Path:
    d = tmp_path / "styles"
    d.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(2):
        img = torch.rand(3, 48, 48, generator=g) * (0.5 + 0.25 * i)
        Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(d / f"s{i}.png")
    return d


def test_a_run_trains_under_wct_and_exports_it(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from zoo.loading import load_state

    cfg = T.TrainConfig(encoder="random", out=str(tmp_path / "run"), style_dir=str(_style_dir(tmp_path)),
                        skimage_content=("camera", "rocket"), resize=48, crop=32, batch_size=2, lr=1e-3, steps=2,
                        bf16=False, threads=1, log_every=1000, save_every=2, depth=3, wct_mix=1.0)
    T.train(cfg, print_fn=lambda *a, **k: None)
    out = T.export_hub_folder(Path(cfg.out), tmp_path / "hub")
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["wct_mix"] == 1.0
    assert T.same_decoder(config, {**config, "wct_mix": 0.0}) and not T.same_decoder(config, {**config, "depth": 4})
    model = build(**config)
    load_state(model, str(out / "model.safetensors"), name="adain.test")
    assert model.wct_mix == 1.0
    dec = T.new_decoder(depth=3)
    dec.load_state_dict(load_file(str(Path(cfg.out) / "decoder.safetensors")))
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        f_c, f_s = model.encode(c), model.encode(s)
        expect = dec(T.bottleneck(f_c, f_s, 1.0))
        # the model folds the transform into the decoder's first conv: the same sums in another order
        torch.testing.assert_close(model.eval()(c, s), expect, rtol=1e-3, atol=1e-3)
    # an AdaIN run's export keeps its config as before: no wct_mix key
    assert "wct_mix" not in T.builder_config(False, 1.0, 3, 0.0)


def test_the_folded_map_is_the_map_applied() -> None:
    """Without autograd the decoder takes the transform (and alpha's blend) folded into its first convolution;
    with it, the features are transformed first: the same picture."""
    m = spread_adain()
    m.wct_mix = 0.6
    c, s = torch.rand(2, 3, 32, 32), torch.rand(1, 3, 24, 24)
    stats = m.style_stats(s)
    for alpha in (1.0, 0.4):
        with torch.no_grad():
            folded = m.transfer(c, stats, alpha)
        with torch.enable_grad():
            unfolded = m.transfer(c, stats, alpha).detach()
        torch.testing.assert_close(folded, unfolded, rtol=1e-3, atol=1e-3)


def test_the_transform_is_exact_inside_a_bf16_training_step() -> None:
    """A training step runs under bf16 autocast; the covariance (a Gram matrix minus the means' product) and the
    map must still be float32's, or whitening blows up (it did: the loss became NaN at step 2)."""
    fc, fs = _features(5, 2) * 4 + 6.0, _features(6, 1) * 3 + 5.0  # large means: the cancellation is the test
    exact = wct_from_stats(fc, stats_of(fs, 1.0), 1.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mean, cov = covariance(fc)
        out = wct_from_stats(fc, stats_of(fs, 1.0), 1.0)
    assert cov.dtype == torch.float32 and out.dtype == torch.float32
    torch.testing.assert_close(cov, covariance(fc)[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, exact, rtol=1e-5, atol=1e-5)
