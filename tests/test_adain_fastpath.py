"""AdaIN's inference path (zoo_adain.fastpath: zoo.fastconv's kernels, in bands on large images) gives what
the modules' own forwards give."""

from __future__ import annotations

import pytest
import torch

from zoo_adain import fastpath
from zoo_adain.model import build


def _model(depth: int, width: float) -> torch.nn.Module:
    torch.manual_seed(depth)
    m = build(encoder="vgg19_normalised", depth=depth, encoder_width=width, decoder_width=width)
    return m.eval()


def _plain(mods: list[torch.nn.Module], x: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():  # autograd on: every module's own forward
        for m in mods:
            x = m(x)
    return x.detach()


@pytest.mark.parametrize("depth", [3, 4])
def test_encoder_and_decoder_fast_paths_equal_the_plain_forwards(depth: int) -> None:
    m = _model(depth, 0.125)
    x = torch.rand(1, 3, 200, 176)  # above BAND_MIN_SIDE: groups of 384 x 384 pixels and more run in bands
    enc = [m.encoder.preprocess, *(c for st in m.encoder.stages for c in st.children())]
    dec = [c for st in m.decoder.stages for c in st.children()]
    f_plain = _plain(enc, x)
    with torch.inference_mode():
        f_fast = m.encoder(x)
        y_fast = m.decoder(f_fast)
    torch.testing.assert_close(f_fast, f_plain, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(y_fast, _plain(dec, f_plain), atol=1e-4, rtol=1e-4)


def test_large_groups_run_in_bands_and_small_ones_whole(monkeypatch) -> None:
    m = _model(3, 0.125)
    calls: list[str] = []
    real = fastpath.run_banded
    monkeypatch.setattr(fastpath, "run_banded", lambda ops, x: calls.append(",".join(o.kind for o in ops)) or real(ops, x))
    x = torch.rand(1, 3, 400, 400)
    with torch.inference_mode():
        m.decoder(m.encoder(x))
    # the full-resolution group of the encoder (its 1x1 input normalisation folded into conv1_1) and the
    # decoder's last (upsampling to 400 x 400) are banded; the 100 x 100 ones are not
    assert calls == ["conv,conv,pool", "up_conv,conv"]


def test_training_keeps_the_modules_own_differentiable_forwards() -> None:
    m = _model(3, 0.125).train()
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    m.decoder(m.encoder(x)).mean().backward()
    assert x.grad is not None and all(p.grad is not None for p in m.decoder.parameters())


def test_band_groups_refuse_a_layer_they_do_not_cover() -> None:
    assert fastpath.band_groups([torch.nn.Conv2d(3, 3, 5)]) is None


def test_a_forward_hook_on_a_layer_still_sees_its_output() -> None:
    m = _model(3, 0.125)
    seen: list[tuple[int, ...]] = []
    conv = m.encoder.stages[1].conv1_2.conv if hasattr(m.encoder.stages[1], "conv1_2") else None
    conv = conv or next(c for c in m.encoder.modules() if isinstance(c, torch.nn.Conv2d) and c.kernel_size == (3, 3))
    h = conv.register_forward_hook(lambda _m, _i, o: seen.append(tuple(o.shape)))
    try:
        with torch.no_grad():
            m.encoder(torch.rand(1, 3, 200, 200))
    finally:
        h.remove()
    assert len(seen) == 1


@pytest.mark.parametrize("style_batch", [1, 2])
def test_decoding_an_affine_map_folded_into_the_first_conv_equals_applying_it(style_batch: int) -> None:
    m = _model(3, 0.125)
    torch.manual_seed(5)
    f = torch.rand(2, m.encoder.out_channels, 13, 11)
    scale = torch.rand(style_batch, f.shape[1], 1, 1) + 0.5
    shift = torch.randn(style_batch, f.shape[1], 1, 1)
    want = _plain([c for st in m.decoder.stages for c in st.children()], f * scale + shift)
    with torch.inference_mode():
        got = m.decoder(f, (scale, shift))
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    assert not any(p.is_inference() for p in m.decoder.parameters())  # the model's own weights are untouched


def test_the_folded_affine_map_is_adain_with_its_alpha_blend() -> None:
    from zoo_adain.ops import adain_affine, adain_from_stats, calc_mean_std

    torch.manual_seed(6)
    f, s = torch.rand(2, 8, 9, 7) * 3, torch.rand(1, 8, 5, 6) * 2
    mean, std = calc_mean_std(s)
    with torch.enable_grad():
        t = adain_from_stats(f, mean, std)
    for alpha in (1.0, 0.3):
        scale, shift = adain_affine(f, mean, std, alpha)
        torch.testing.assert_close(f * scale + shift, alpha * t + (1 - alpha) * f, atol=1e-5, rtol=1e-5)


def test_style_statistics_without_autograd_equal_the_differentiable_ones() -> None:
    from zoo_adain.ops import calc_mean_std

    torch.manual_seed(7)
    f = (torch.rand(3, 16, 12, 10) * 4).contiguous(memory_format=torch.channels_last)
    with torch.enable_grad():
        want = calc_mean_std(f)
    with torch.inference_mode():
        got = calc_mean_std(f)
        got_bf16 = calc_mean_std(f.bfloat16())
    for g, w in zip(got, want):
        assert g.dtype == torch.float32 and g.shape == (3, 16, 1, 1)
        torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-5)
    for g, w in zip(got_bf16, want):  # bf16 input: within its rounding
        torch.testing.assert_close(g, w, atol=0.0, rtol=2e-2)
