"""naoto0804/pytorch-AdaIN checkpoints -> the zoo (the real files can't be downloaded here,
so the test writes state dicts in their key layout: nn.Sequential indices)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import zoo
from zoo.convert import convert
from zoo_adain.convert import DECODER_MAP, VGG_MAP, from_naoto0804, to_naoto0804

torch.set_num_threads(1)


def _pad_conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3)), nn.ReLU()]


def upstream_vgg() -> nn.Sequential:
    """naoto0804's net.vgg layout (53 modules, to relu5_4), written out from its layer list."""
    pool = lambda: nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)  # noqa: E731
    layers: list[nn.Module] = [nn.Conv2d(3, 3, (1, 1))]
    layers += _pad_conv(3, 64) + _pad_conv(64, 64) + [pool()]
    layers += _pad_conv(64, 128) + _pad_conv(128, 128) + [pool()]
    layers += _pad_conv(128, 256) + _pad_conv(256, 256) * 1 + _pad_conv(256, 256) + _pad_conv(256, 256) + [pool()]
    layers += _pad_conv(256, 512) + _pad_conv(512, 512) + _pad_conv(512, 512) + _pad_conv(512, 512) + [pool()]
    layers += _pad_conv(512, 512) * 1 + _pad_conv(512, 512) + _pad_conv(512, 512) + _pad_conv(512, 512)
    return nn.Sequential(*layers)


def upstream_decoder() -> nn.Sequential:
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    layers: list[nn.Module] = _pad_conv(512, 256) + [up()]
    layers += _pad_conv(256, 256) + _pad_conv(256, 256) + _pad_conv(256, 256) + _pad_conv(256, 128) + [up()]
    layers += _pad_conv(128, 128) + _pad_conv(128, 64) + [up()]
    layers += _pad_conv(64, 64) + [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(64, 3, (3, 3))]
    return nn.Sequential(*layers)


def _upstream_transfer(vgg: nn.Sequential, dec: nn.Sequential, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    enc = vgg[:31]
    fc, fs = enc(c), enc(s)
    def ms(f):  # noqa: E306
        n, ch = f.shape[:2]
        v = f.view(n, ch, -1).var(dim=2) + 1e-5
        return f.view(n, ch, -1).mean(dim=2).view(n, ch, 1, 1), v.sqrt().view(n, ch, 1, 1)
    (cm, cs), (sm, ss) = ms(fc), ms(fs)
    return dec((fc - cm) / cs * ss + sm)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Sequential, nn.Sequential, Path, Path]:
    torch.manual_seed(3)
    vgg, dec = upstream_vgg(), upstream_decoder()
    assert len(vgg) == 53 and sum(p.numel() for p in dec.parameters()) == 3_505_219
    d = tmp_path_factory.mktemp("naoto")
    torch.save(vgg.state_dict(), d / "vgg_normalised.pth")
    torch.save(dec.state_dict(), d / "decoder.pth")
    return vgg.eval(), dec.eval(), d / "vgg_normalised.pth", d / "decoder.pth"


def test_key_tables_cover_the_upstream_layout(upstream) -> None:  # type: ignore[no-untyped-def]
    vgg, dec, _, _ = upstream
    conv_idx = lambda seq: [i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d)]  # noqa: E731
    assert list(VGG_MAP) == conv_idx(vgg)[:10]
    assert list(DECODER_MAP) == conv_idx(dec)
    zoo_keys = set(zoo.build("adain", encoder_width=0.0625, decoder_width=0.0625).state_dict())
    mapped = {f"{k}.{p}" for k in [*VGG_MAP.values(), *DECODER_MAP.values()] for p in ("weight", "bias")}
    assert mapped == zoo_keys


def test_convert_round_trip_gives_the_upstream_outputs(upstream, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vgg, dec, vgg_path, dec_path = upstream
    # the files in either order
    result = convert("adain", [dec_path, vgg_path], tmp_path / "adain-paper", layout="naoto0804", license="mit")
    folder = result.out_dir
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    meta = json.loads((folder / "config.json").read_text())
    assert meta["config"]["encoder"] == "vgg19_normalised"
    state = load_file(str(folder / "model.safetensors"))
    with torch.device("meta"):
        model = zoo.build("adain", **meta["config"])
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()

    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(1, 3, 40, 48, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    with torch.inference_mode():
        ref = _upstream_transfer(vgg, dec, c, s)
        ours = model(c, s)
        # the relu4_1 features agree too
        torch.testing.assert_close(model.encode(c), vgg[:31](c), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)

    # and back: the inverse mapping reproduces the upstream tensors
    v2, d2 = to_naoto0804(state)
    for k, t in d2.items():
        assert torch.equal(t, dec.state_dict()[k])
    for k, t in v2.items():
        assert torch.equal(t, vgg.state_dict()[k])


def test_rejects_wrong_files(upstream) -> None:  # type: ignore[no-untyped-def]
    vgg, dec, _, _ = upstream
    with pytest.raises(zoo.ConversionError, match="two files"):
        from_naoto0804([vgg.state_dict()], {})
    with pytest.raises(zoo.ConversionError, match="vgg_normalised.pth and decoder.pth"):
        from_naoto0804([vgg.state_dict(), vgg.state_dict()], {})
    broken = dict(dec.state_dict())
    del broken["14.weight"]
    with pytest.raises(zoo.ConversionError, match="14.weight"):
        from_naoto0804([vgg.state_dict(), broken], {})
    with pytest.raises(zoo.ConversionError, match="contradicts"):
        from_naoto0804([vgg.state_dict(), dec.state_dict()], {"encoder": "timm:test_resnet"})


def test_pickles_are_read_with_weights_only(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pwned",))

    p = tmp_path / "decoder.pth"
    torch.save({"1.weight": torch.zeros(1), "x": Evil()}, p)
    with pytest.raises(zoo.ConversionError, match="weights_only=True"):
        convert("adain", [p, p], tmp_path / "out", layout="naoto0804")
