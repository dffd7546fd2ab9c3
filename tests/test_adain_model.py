"""AdaIN parity: parameter counts, layer shapes, the op against its formula, sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zoo
from zoo_adain.model import AdaIN, Decoder, StyleStats, VGGEncoder, adain, calc_mean_std

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model() -> AdaIN:
    torch.manual_seed(0)
    return zoo.build("adain").eval()


def test_parameter_counts(model: AdaIN) -> None:
    # naoto0804's decoder.pth has 3,505,219 parameters; VGG-19 to conv4_1 plus the 1x1 conv:
    # 3*3+3 + conv1_1..conv4_1 = 3,505,728 + 12
    assert sum(p.numel() for p in model.decoder.parameters()) == 3_505_219
    assert sum(p.numel() for p in model.encoder.parameters()) == 12 + 1_792 + 36_928 + 73_856 + 147_584 + 295_168 + 3 * 590_080 + 1_180_160


def test_layer_shapes_follow_vgg19(model: AdaIN) -> None:
    convs = [(n, tuple(m.weight.shape)) for n, m in model.encoder.named_modules() if isinstance(m, nn.Conv2d)]
    assert [s for _, s in convs] == [
        (3, 3, 1, 1), (64, 3, 3, 3), (64, 64, 3, 3), (128, 64, 3, 3), (128, 128, 3, 3), (256, 128, 3, 3),
        (256, 256, 3, 3), (256, 256, 3, 3), (256, 256, 3, 3), (512, 256, 3, 3),
    ]
    dec = [tuple(m.weight.shape) for m in model.decoder.modules() if isinstance(m, nn.Conv2d)]
    assert dec == [
        (256, 512, 3, 3), (256, 256, 3, 3), (256, 256, 3, 3), (256, 256, 3, 3), (128, 256, 3, 3),
        (128, 128, 3, 3), (64, 128, 3, 3), (64, 64, 3, 3), (3, 64, 3, 3),
    ]
    # reflection padding before every 3x3 conv, ceil-mode pooling, nearest upsampling, no final ReLU
    pads = [m for m in model.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert len(pads) == 9 + 9
    pools = [m for m in model.encoder.modules() if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 3 and all(p.ceil_mode for p in pools)
    ups = [m for m in model.decoder.modules() if isinstance(m, nn.Upsample)]
    assert len(ups) == 3 and all(u.mode == "nearest" for u in ups)
    last = list(model.decoder.modules())[-1]
    assert isinstance(last, nn.Conv2d)


@pytest.mark.parametrize("hw", [(37, 53), (33, 33), (9, 13), (9, 64), (64, 64)])
def test_feature_shapes_at_odd_sizes(model: AdaIN, hw: tuple[int, int]) -> None:
    h, w = hw
    with torch.inference_mode():
        feats = model.encode_with_intermediate(torch.rand(1, 3, h, w))
    ceil = lambda v, k: -(-v // k)  # noqa: E731
    expected = [(64, h, w), (128, ceil(h, 2), ceil(w, 2)), (256, ceil(h, 4), ceil(w, 4)), (512, ceil(h, 8), ceil(w, 8))]
    assert [tuple(f.shape[1:]) for f in feats] == expected


@pytest.mark.parametrize("hw", [(32, 48), (40, 40), (37, 53)])
def test_decoder_output_size(model: AdaIN, hw: tuple[int, int]) -> None:
    h, w = hw
    x = torch.rand(1, 3, h, w)
    with torch.inference_mode():
        raw = model.decode(model.encode(x))
        styled = model.stylize(x, torch.rand(1, 3, 24, 24), style_size=None, precision="fp32")
    ceil8 = lambda v: -(-v // 8) * 8  # noqa: E731
    # divisible by 8: the same size; otherwise the next multiple of 8 ...
    assert tuple(raw.shape[-2:]) == (ceil8(h), ceil8(w))
    # ... which stylize() avoids by padding and cropping: always the input's size
    assert tuple(styled.shape) == (1, 3, h, w)


def _formula(c: torch.Tensor, s: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y), written out in float64 loops."""
    out = torch.empty_like(c, dtype=torch.float64)
    for n in range(c.shape[0]):
        for k in range(c.shape[1]):
            x = c[n, k].double().flatten()
            y = s[min(n, s.shape[0] - 1), k].double().flatten()
            mx, my = x.sum() / x.numel(), y.sum() / y.numel()
            sx = (((x - mx) ** 2).sum() / (x.numel() - 1) + eps).sqrt()
            sy = (((y - my) ** 2).sum() / (y.numel() - 1) + eps).sqrt()
            out[n, k] = ((c[n, k].double() - mx) / sx * sy + my)
    return out


def test_adain_op_matches_formula() -> None:
    g = torch.Generator().manual_seed(1)
    c = torch.randn(2, 5, 7, 9, generator=g) * 3 + 1
    s = torch.randn(2, 5, 4, 6, generator=g) * 0.5 - 2
    torch.testing.assert_close(adain(c, s).double(), _formula(c, s), rtol=1e-5, atol=1e-5)
    # one style broadcast over a batch of contents
    torch.testing.assert_close(adain(c, s[:1]).double(), _formula(c, s[:1]), rtol=1e-5, atol=1e-5)
    # the output carries the style's statistics
    m, sd = calc_mean_std(adain(c, s))
    ms, sds = calc_mean_std(s)
    torch.testing.assert_close(m, ms, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(sd, sds, rtol=1e-3, atol=1e-3)


def test_adain_op_rejects_mismatched_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        adain(torch.rand(1, 4, 3, 3), torch.rand(1, 5, 3, 3))


def test_style_mix_equals_mix_of_outputs() -> None:
    g = torch.Generator().manual_seed(2)
    c = torch.randn(1, 8, 6, 6, generator=g)
    s1, s2 = torch.randn(1, 8, 5, 5, generator=g), torch.randn(1, 8, 5, 5, generator=g) * 2
    st = [StyleStats(*calc_mean_std(s)) for s in (s1, s2)]
    mixed = StyleStats.mix(st, [0.25, 0.75])
    from zoo_adain.model import adain_from_stats

    torch.testing.assert_close(adain_from_stats(c, mixed.mean, mixed.std), 0.25 * adain(c, s1) + 0.75 * adain(c, s2))


def test_alpha_zero_is_decoder_of_content_features(model: AdaIN) -> None:
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        out = model.transfer(c, model.style_stats(s), alpha=0.0)
        ref = model.decode(model.encode(c))
    torch.testing.assert_close(out, ref)


def test_builds_on_meta_device_with_every_tensor_in_the_state_dict() -> None:
    with torch.device("meta"):
        m = zoo.build("adain")
    assert all(t.is_meta for t in m.state_dict().values())
    names = set(m.state_dict())
    assert {n for n, _ in m.named_parameters()} | {n for n, _ in m.named_buffers()} == names
    assert all(k.startswith(("encoder.", "decoder.")) for k in names)


def test_widths_scale_the_channels() -> None:
    m = zoo.build("adain", encoder_width=0.25, decoder_width=0.5)
    assert isinstance(m.encoder, VGGEncoder) and m.encoder.channels == (16, 32, 64, 128)
    assert isinstance(m.decoder, Decoder)
    with torch.inference_mode():
        assert tuple(m(torch.rand(2, 3, 24, 24), torch.rand(1, 3, 16, 16)).shape) == (2, 3, 24, 24)


def test_bad_encoder_name_is_a_config_error() -> None:
    with pytest.raises(zoo.ConfigError, match="vgg19_normalised"):
        zoo.build("adain", encoder="resnet")


def test_timm_encoder_features_only() -> None:
    pytest.importorskip("timm")
    m = zoo.build("adain", encoder="timm:test_resnet")
    enc = m.encoder
    assert enc.reductions[-1] == 8 and len(enc.channels) == len(enc.reductions)
    x = torch.rand(2, 3, 40, 56)
    with torch.inference_mode():
        feats = m.encode_with_intermediate(x)
        out = m.stylize(x, torch.rand(3, 32, 32), style_size=None, precision="fp32")
    assert [f.shape[1] for f in feats] == list(enc.channels)
    assert tuple(out.shape) == (2, 3, 40, 56)
    # the normalisation buffers are persistent, so zoo.load's strict loading covers them
    assert {"encoder.mean", "encoder.std"} <= set(m.state_dict())
    with torch.device("meta"):
        meta = zoo.build("adain", encoder="timm:test_resnet")
    assert set(meta.state_dict()) == set(m.state_dict())


def test_registration_imports_no_torch() -> None:
    import subprocess
    import sys

    code = "import sys, zoo, zoo_adain; zoo.model_info('adain'); assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registered_record() -> None:
    info = zoo.model_info("adain")
    arch = info.architecture
    assert info.name == "adain.zoo" and arch.task == "style-transfer"
    assert arch.builder == "zoo_adain.model:build" and "naoto0804" in arch.converters
    assert arch.validate_config({}) == {
        "encoder": "vgg19_normalised", "encoder_width": 1.0, "decoder_width": 1.0, "pretrained_encoder": False,
        "depth": 4, "wct_mix": 0.0,
    }


def test_a_bf16_model_takes_float_images() -> None:
    m = zoo.build("adain", encoder_width=0.125, decoder_width=0.125).eval().to(torch.bfloat16)
    with torch.inference_mode():
        y = m(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
        z = m.stylize(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), precision="fp32")
    assert y.dtype == torch.bfloat16 and y.shape == (1, 3, 16, 16)
    assert z.dtype == torch.float32 and next(m.parameters()).dtype == torch.bfloat16
