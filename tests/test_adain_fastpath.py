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
    # the full-resolution group of the encoder and the decoder's last (upsampling to 400 x 400) are banded;
    # the 100 x 100 ones are not
    assert calls == ["pointwise,conv,conv,pool", "up_conv,conv"]


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
