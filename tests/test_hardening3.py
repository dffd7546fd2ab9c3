"""Hardening, third round (issue 22): bad card values isolated, sizes before hashes, timeouts that
hold, noisy and slow plugins, typed errors for bad training data and stylize inputs.

One section per item of the issue; each test reproduces what the probe found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from tinyplugin import install_model_module, make_repo, plugin_source

import zoo
from zoo import errors, hub
from zoo.cli import cli


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def tiny(tmp_path, fake_plugins):
    """The tiny model in a folder mirror, registered by a fake plugin."""
    repo = make_repo(tmp_path / "src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    return repo


# -- 1. one bad card value is that card's error ------------------------------------------------

BAD_VALUES = {
    "impossible-date": "date: 2021-02-30",
    "hour-25": "trained: 2021-01-01 25:00:00",
    "huge-integer": "steps: " + "9" * 5000,
}


def _spoil_card(readme: Path, line: str) -> int:
    """Put ``line`` into the card's front matter (after 'license:'); returns its line number."""
    lines = readme.read_text().splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if x.startswith("license:")) + 1
    lines.insert(at, line + "\n")
    readme.write_text("".join(lines))
    return at + 1


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_a_bad_card_value_is_a_card_error_with_its_line(tmp_path, kind):
    from zoo.cards import check_card, parse_card

    readme = make_repo(tmp_path / "r").folder / "README.md"
    line = _spoil_card(readme, BAD_VALUES[kind])
    with pytest.raises(errors.CardError) as e:
        parse_card(readme.read_text(), str(readme))
    assert e.value.line == line and "cannot be read" in str(e.value) and "quote it" in str(e.value)
    assert [p.line for p in check_card(readme.read_text(), str(readme))] == [line]


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_zoo_card_and_catalog_isolate_one_bad_card(tiny, tmp_path, monkeypatch, kind):
    line = _spoil_card(tiny.folder / "README.md", BAD_VALUES[kind])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", f"{tmp_path / 'src'}{os.pathsep}@cards")
    r = run("card", "tiny.test", ok=False)
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert f"README.md:{line}:" in r.output and "cannot be read" in r.output
    assert "Error: " in r.output
    run("card", "dcgan.mnist")  # every other card still renders

    out = tmp_path / "site"
    r = run("catalog", "-o", out)
    pages = {p.stem for p in (out / "models").glob("*.html")}
    assert {"tiny.test", "dcgan.mnist", "adain.zoo"} <= pages, pages
    bad = (out / "models" / "tiny.test.html").read_text()
    assert 'id="card-problem"' in bad and "cannot be read" in bad
    assert 'id="card-problem"' not in (out / "models" / "dcgan.mnist.html").read_text()
    assert "tiny.test" in (out / "index.html").read_text()


def test_zoo_serve_with_a_bad_card_serves_every_page(tiny, tmp_path):
    _spoil_card(tiny.folder / "README.md", BAD_VALUES["impossible-date"])
    env = dict(os.environ, HF_HUB_OFFLINE="1", ZOO_MIRRORS=f"{tmp_path / 'src'}{os.pathsep}@cards",
               PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", "from zoo.cli import main; main()", "serve", "--port", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any("serving the catalog at" in x for x in lines) and len(lines) < 20:
            lines.append(proc.stdout.readline())
            assert lines[-1], f"zoo serve ended: {lines}"
        line = lines[-1]
        url = line.split(" at ", 1)[1].split()[0]
        base = url.rsplit("/", 1)[0]
        assert "tiny.test" in urllib.request.urlopen(url, timeout=30).read().decode()
        page = urllib.request.urlopen(f"{base}/models/tiny.test.html", timeout=30).read().decode()
        assert 'id="card-problem"' in page
        assert urllib.request.urlopen(f"{base}/models/dcgan.mnist.html", timeout=30).status == 200
    finally:
        proc.terminate()
        proc.wait(10)


# -- 4. a plugin printing on stdout does not corrupt --json ------------------------------------

NOISY_PLUGIN = """
import os, sys
import zoo
print("hello from the noisy plugin's import")
sys.stdout.write("{not json\\n")
os.system("echo from a subprocess of the noisy plugin")

@zoo.hookimpl
def register_architectures(register):
    print("registering, loudly")
    register(zoo.Architecture(name="noisy", builder="fakeplug_tiny_model:build", default_tag="x",
                              schema={}, paper="none", reference_code="none"))
"""


@pytest.mark.parametrize("command", [["list", "--json"], ["plugins", "--json"], ["info", "noisy", "--json"]])
def test_a_plugin_printing_on_stdout_does_not_corrupt_json(fake_plugins, command):
    site = fake_plugins({"noisy": NOISY_PLUGIN})
    install_model_module(site)
    r = run(*command)
    data = json.loads(r.stdout)  # stdout is exactly the JSON
    assert data
    assert "[noisy] hello from the noisy plugin's import" in r.stderr
    assert "[noisy] registering, loudly" in r.stderr and "[noisy] {not json" in r.stderr
    assert "plugin 'noisy' wrote to stdout" in r.stderr


def test_a_plugin_writing_on_file_descriptor_1_does_not_corrupt_json_in_a_real_process(fake_plugins):
    site = fake_plugins({"noisy": NOISY_PLUGIN})
    install_model_module(site)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", "from zoo.cli import main; main()", "list", "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert any(row["name"].startswith("noisy") for row in json.loads(proc.stdout))
    assert "[noisy] from a subprocess of the noisy plugin" in proc.stderr


# -- 5. a slow plugin is named, and bounded ----------------------------------------------------

SLOW_PLUGIN = """
import time
import zoo
time.sleep(%s)

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="slow", builder="fakeplug_tiny_model:build", default_tag="x",
                              schema={}, paper="none", reference_code="none"))
"""


def _zoo(args, env_extra, timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env_extra)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", "from zoo.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - start


def test_a_plugin_whose_import_hangs_is_skipped_after_the_bound_with_a_message(fake_plugins):
    site = fake_plugins({"slow": SLOW_PLUGIN % 30})
    install_model_module(site)
    proc, took = _zoo(["list", "--json"], {"ZOO_PLUGIN_TIMEOUT": "1"})
    assert proc.returncode == 0, proc.stderr
    assert took < 25, took  # not the plugin's 30 s
    names = [row["name"] for row in json.loads(proc.stdout)]
    assert "dcgan.mnist" in names and not any(n.startswith("slow") for n in names)
    proc, _ = _zoo(["plugins", "--json"], {"ZOO_PLUGIN_TIMEOUT": "1"})
    slow = next(p for p in json.loads(proc.stdout) if p["name"] == "slow")
    assert slow["state"] == "broken" and "did not finish within 1 s" in slow["error"]
    assert "ZOO_PLUGIN_TIMEOUT" in slow["error"]


def test_a_slow_plugin_is_named_on_stderr(fake_plugins):
    site = fake_plugins({"slow": SLOW_PLUGIN % 2.5})
    install_model_module(site)
    r = run("list", "slow*")
    assert "slow" in r.stdout
    assert "plugin 'slow'" in r.stderr and "s to import and register" in r.stderr


def test_a_bad_plugin_timeout_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGIN_TIMEOUT", "0")
    with pytest.raises(errors.ConfigError, match="ZOO_PLUGIN_TIMEOUT"):
        zoo.config.load_settings()


# -- 7. zoo stylize: output size bounded, non-finite input refused -----------------------------


@pytest.fixture(scope="module")
def adain_folder(tmp_path_factory):
    import numpy as np
    import torch
    from PIL import Image
    from safetensors.torch import save_file

    d = tmp_path_factory.mktemp("adain-tiny")
    cfg = {"encoder": "vgg19_normalised", "encoder_width": 0.125, "decoder_width": 0.125, "pretrained_encoder": False}
    torch.manual_seed(0)
    m = zoo.build("adain", **cfg)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, str(d / "model.safetensors"))
    (d / "config.json").write_text(json.dumps({"architecture": "adain", "config": cfg}))
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (31, 45, 3), dtype=np.uint8)).save(d / "c.png")
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(d / "s.png")
    nan = rng.random((24, 32)).astype(np.float32)
    nan[5, 7] = np.nan
    Image.fromarray(nan, mode="F").save(d / "nan.tiff")
    return d


@pytest.mark.parametrize("size", ["30000x30000", "30000"])
def test_stylize_refuses_a_huge_output_size_before_loading(adain_folder, tmp_path, monkeypatch, size):
    from zoo_adain import cli as adain_cli
    from zoo_adain.cli import stylize

    monkeypatch.setattr(adain_cli, "load_model", lambda *a, **k: pytest.fail("loaded the model before the size check"))
    start = time.monotonic()
    r = CliRunner().invoke(stylize, [str(adain_folder / "c.png"), str(adain_folder / "s.png"), "-o",
                                     str(tmp_path / "o.png"), "--model", str(adain_folder), "--size", size])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert "over the limit of 50,000,000" in r.output and "image_pixels" in r.output
    assert time.monotonic() - start < 30  # not 68 s of allocating


def test_the_api_refuses_a_huge_output_size_before_allocating(adain_folder):
    model = zoo.load(str(adain_folder))
    with pytest.raises(errors.LimitExceededError, match="30000x30000"):
        model.stylize(adain_folder / "c.png", adain_folder / "s.png", size=(30000, 30000))
    with pytest.raises(errors.LimitExceededError):
        model.stylize(adain_folder / "c.png", adain_folder / "s.png", size=30000, resample="reference")


def test_stylize_refuses_a_float_tiff_with_a_nan_pixel(adain_folder, tmp_path):
    from zoo_adain.cli import stylize

    out = tmp_path / "o.png"
    for content, style in (("nan.tiff", "s.png"), ("c.png", "nan.tiff")):
        r = CliRunner().invoke(stylize, [str(adain_folder / content), str(adain_folder / style), "-o", str(out),
                                         "--model", str(adain_folder)])
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert "1 NaN or infinite pixel value" in r.output and not out.exists()


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_stylize_refuses_a_non_finite_tensor(adain_folder, bad):
    import torch

    model = zoo.load(str(adain_folder))
    x = torch.rand(3, 32, 32)
    x[1, 2, 3] = float(bad)
    with pytest.raises(errors.ImageError, match="NaN or infinite"):
        model.stylize(x, torch.rand(3, 32, 32))
    with pytest.raises(errors.ImageError, match="NaN or infinite"):
        model.stylize(torch.rand(3, 32, 32), x)


# -- 6. zoo train on broken data: typed errors naming the file, bounded memory -----------------


def _jpeg(seed: int = 0, size=(32, 32)) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(
        buf, "JPEG", quality=75)
    return buf.getvalue()


def _cifar_zip(path: Path, entries: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _cifar_batches(folder: Path, *, n=20, overrides=None) -> Path:
    """A cifar-10-batches-py folder of small batches (n images each), pickled as the official ones."""
    import pickle

    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": [int(v) for v in rng.integers(0, 10, n)]}
        d.update((overrides or {}).get(name, {}))
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))
    return folder


def _idx(path: Path, dims, body: bytes | None = None, *, ndim: int | None = None) -> Path:
    import gzip
    import struct

    ndim = len(dims) if ndim is None else ndim
    head = struct.pack(">HBB", 0, 8, ndim) + b"".join(struct.pack(">I", d) for d in dims)
    if body is None:
        n = 1
        for d in dims:
            n *= d
        body = bytes(i % 10 for i in range(n))
    path.write_bytes(gzip.compress(head + body))
    return path


def _mnist(folder: Path, n_images=10, n_labels=10, image_dims=None, label_dims=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _idx(folder / "train-images-idx3-ubyte.gz", image_dims or (n_images, 28, 28))
    _idx(folder / "train-labels-idx1-ubyte.gz", label_dims or (n_labels,))
    return folder


def _load(dataset, root):
    from zoo.training.data import load_dataset

    return load_dataset(dataset, root, "train", verify=False)


def test_a_good_small_dataset_still_loads(tmp_path):
    assert len(_load("mnist", _mnist(tmp_path / "m"))) == 10
    data = _load("cifar10", _cifar_batches(tmp_path / "c" / "cifar-10-batches-py").parent)
    assert len(data) == 100 and data.shape == (3, 32, 32)
    z = _cifar_zip(tmp_path / "CIFAR-10-images.zip", {"train/cat/0001.jpg": _jpeg(), "train/dog/0002.jpg": _jpeg(1)})
    assert len(_load("cifar10", z)) == 2


@pytest.mark.parametrize(("entry", "message"), [
    (b"this is a text file, not a JPEG\n", "train/cat/0002.jpg is not an image"),
    ("truncated", "train/cat/0002.jpg is a damaged image"),
    (_jpeg(2, size=(64, 48)), "train/cat/0002.jpg is 64x48 pixels, expected 32x32"),
])
def test_a_bad_image_in_the_cifar_zip_is_a_data_error_naming_it(tmp_path, entry, message):
    if entry == "truncated":
        entry = _jpeg(3)[:300]
    z = _cifar_zip(tmp_path / "CIFAR-10-images.zip", {"train/cat/0001.jpg": _jpeg(), "train/cat/0002.jpg": entry})
    with pytest.raises(errors.DataError) as e:
        _load("cifar10", z)
    assert message in str(e.value) and str(z) in str(e.value)


def test_a_small_zip_holding_a_huge_entry_is_refused_by_its_declared_size(tmp_path):
    import resource
    import zipfile

    z = tmp_path / "CIFAR-10-images.zip"
    chunk = bytes(1 << 24)
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("train/cat/0001.jpg", _jpeg())
        with zf.open("train/cat/0002.jpg", "w", force_zip64=True) as f:
            for _ in range(96):  # 1.5 GiB of zeros, a few MB zipped
                f.write(chunk)
    assert z.stat().st_size < 16 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(errors.DataError, match=r"0002.jpg declares 1,610,612,736 bytes uncompressed"):
        _load("cifar10", z)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 512 * 1024  # nothing near 1.5 GB was read (peak RSS grew by less than 512 MB)


def test_a_zip_with_zero_images_is_a_data_error(tmp_path):
    z = _cifar_zip(tmp_path / "CIFAR-10-images.zip", {"README.txt": b"nothing here"})
    with pytest.raises(errors.DataError, match="zero images"):
        _load("cifar10", z)


@pytest.mark.parametrize(("case", "message"), [
    ("missing", "has no data_batch_3"),
    ("short", "data_batch_2 is not a CIFAR-10 python batch, or is truncated"),
    ("labels", "data_batch_4: 20 images but 3 labels"),
    ("rows", "data_batch_1: its data is a uint8 array of shape (20, 100)"),
    ("class", "label 12 is not one of the 10 cifar10 classes"),
])
def test_a_broken_cifar_batch_is_a_data_error_naming_it(tmp_path, case, message):
    import numpy as np

    overrides = {
        "labels": {"data_batch_4": {b"labels": [1, 2, 3]}},
        "rows": {"data_batch_1": {b"data": np.zeros((20, 100), np.uint8)}},
        "class": {"data_batch_5": {b"labels": [12] * 20}},
    }.get(case)
    folder = _cifar_batches(tmp_path / "cifar-10-batches-py", overrides=overrides)
    if case == "missing":
        (folder / "data_batch_3").unlink()
    if case == "short":
        raw = (folder / "data_batch_2").read_bytes()
        (folder / "data_batch_2").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(errors.DataError) as e:
        _load("cifar10", folder.parent)
    assert message in str(e.value)
    assert str(folder) in str(e.value)


def test_a_cifar_tarball_with_a_short_batch_is_a_data_error(tmp_path):
    import tarfile

    folder = _cifar_batches(tmp_path / "src" / "cifar-10-batches-py")
    raw = (folder / "data_batch_2").read_bytes()
    (folder / "data_batch_2").write_bytes(raw[:1000])
    tar = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tar, "w:gz") as t:
        t.add(folder, arcname="cifar-10-batches-py")
    with pytest.raises(errors.DataError, match=r"cifar-10-batches-py/data_batch_2\) is not a CIFAR-10 python batch"):
        _load("cifar10", tar)


@pytest.mark.parametrize(("case", "message"), [
    ("255-dims", "its IDX header declares 255 dimensions, but this file holds 3"),
    ("labels", "100 images but 3 labels"),
    ("zero", "zero images"),
    ("dims", "its IDX header declares 4 dimensions"),
    ("huge", "more than the 268,435,456 a dataset file of this kind may hold"),
    ("short", "holds 100 bytes of data, its header says 10x28x28 = 7,840"),
])
def test_a_broken_idx_file_is_a_data_error_naming_it(tmp_path, case, message):
    folder = tmp_path / "mnist"
    if case == "255-dims":
        _mnist(folder)
        _idx(folder / "train-images-idx3-ubyte.gz", (10, 28, 28), ndim=255)
    elif case == "labels":
        _mnist(folder, n_images=100, n_labels=3)
    elif case == "zero":
        _mnist(folder, n_images=0, n_labels=0)
    elif case == "dims":
        _mnist(folder, image_dims=(4, 1, 28, 28), n_labels=4)
    elif case == "huge":
        _mnist(folder)
        _idx(folder / "train-images-idx3-ubyte.gz", (60000, 60000, 28), body=b"")
    elif case == "short":
        _mnist(folder)
        _idx(folder / "train-images-idx3-ubyte.gz", (10, 28, 28), body=bytes(100))
    with pytest.raises(errors.DataError) as e:
        _load("mnist", folder)
    assert message in str(e.value), str(e.value)
    assert "train-images-idx3-ubyte.gz" in str(e.value)
    assert "4 images but 4 labels" not in str(e.value)


def test_zoo_train_on_broken_data_says_so_before_training(tmp_path):
    z = _cifar_zip(tmp_path / "my-cifar.zip", {"train/cat/0001.jpg": b"not a jpeg"})
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["train", "dcgan", "--data", str(z), "--dataset", "cifar10", "--out", str(out),
                                 "--steps", "1", "--run-dir", str(tmp_path / "run")])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "Traceback" not in r.output and "0001.jpg is not an image" in r.output, r.output
    assert not out.exists()


# -- 2. sizes compared with the pin before hashing or downloading ------------------------------


def _cache_leftovers(tmp_path: Path) -> list[Path]:
    root = tmp_path / "hf-cache"
    return sorted(p for p in root.glob("models--*/**/*") if p.is_file() or p.is_symlink())


@pytest.fixture
def hostile_hub(tiny, monkeypatch):
    """The tiny repo on a loopback Hub with hostile faults; the zoo pointed at it only."""
    from fakehub import FakeHub

    with FakeHub() as server:
        server.add_folder(tiny.repo_id, tiny.folder, tiny.revision)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        yield server


def _no_hashing(monkeypatch):
    def refuse(path, *a, **k):
        raise AssertionError(f"{path} was hashed before its size was compared with the pin")

    monkeypatch.setattr(hub, "sha256_file", refuse)


def test_a_huge_sparse_file_in_a_mirror_is_refused_by_its_size_without_hashing(tiny, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    target = mirror / tiny.repo_id / "model.safetensors"
    target.parent.mkdir(parents=True)
    with open(target, "wb") as f:
        f.truncate(8 << 30)  # 8 GB, sparse: nothing written
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    _no_hashing(monkeypatch)
    with pytest.raises(errors.SizeMismatchError) as e:
        zoo.load("tiny.test")
    msg = str(e.value)
    assert "8,589,934,592 bytes" in msg and f"{tiny.size:,}" in msg and str(mirror) in msg and "nor hashed" in msg
    assert isinstance(e.value, errors.HashMismatchError) and target.exists()  # nothing outside the cache deleted


def test_a_second_mirror_with_the_right_file_is_used_after_a_wrong_sized_one(tiny, tmp_path, monkeypatch):
    import shutil

    bad, good = tmp_path / "bad", tmp_path / "good"
    (bad / tiny.repo_id).mkdir(parents=True)
    with open(bad / tiny.repo_id / "model.safetensors", "wb") as f:
        f.truncate(8 << 30)
    shutil.copytree(tiny.folder, good / tiny.repo_id)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", f"{bad}{os.pathsep}{good}")
    assert zoo.load("tiny.test") is not None


def test_a_folder_whose_config_pins_the_size_is_refused_by_stat(tiny, tmp_path, monkeypatch):
    folder = tiny.folder
    cfg = json.loads((folder / "config.json").read_text())
    cfg["weights"] = {"file": "model.safetensors", "sha256": tiny.sha256, "size": tiny.size}
    (folder / "config.json").write_text(json.dumps(cfg))
    with open(folder / "model.safetensors", "r+b") as f:
        f.truncate(8 << 30)
    _no_hashing(monkeypatch)
    with pytest.raises(errors.SizeMismatchError) as e:
        zoo.load(str(folder))
    assert "8,589,934,592 bytes" in str(e.value) and "config.json pins another file" in str(e.value)
    r = run("info", str(folder), ok=False)
    assert r.exit_code == 1 and "size mismatch" in r.output and "Traceback" not in r.output


def test_an_endpoint_stating_400_mb_for_a_small_pin_is_refused_before_downloading(tiny, hostile_hub, tmp_path):
    hostile_hub.fault["model.safetensors"] = "huge"
    with pytest.raises(errors.SizeMismatchError) as e:
        zoo.load("tiny.test")
    msg = str(e.value)
    assert hostile_hub.endpoint in msg and "419,430,400 bytes" in msg and f"{tiny.size:,}" in msg
    assert "Nothing was downloaded" in msg and "Weights record is wrong" not in msg
    assert not any(m == "GET" and p.endswith("model.safetensors") for m, p in hostile_hub.requests)
    assert not [p for p in _cache_leftovers(tmp_path) if p.name != "config.json"], _cache_leftovers(tmp_path)


def test_an_endpoint_streaming_more_than_the_pin_is_cut_off_and_nothing_is_kept(tiny, hostile_hub, tmp_path):
    hostile_hub.fault["model.safetensors"] = "flood"  # states the true size, then streams 300 MB
    start = time.monotonic()
    with pytest.raises(errors.SizeMismatchError) as e:
        zoo.load("tiny.test")
    msg = str(e.value)
    assert hostile_hub.endpoint in msg and "stopped" in msg and "nothing was kept" in msg
    assert "Weights record is wrong" not in msg
    time.sleep(0.5)  # let the server notice the hang-up
    assert hostile_hub.sent["model.safetensors"] < 32 << 20, hostile_hub.sent  # not 300 MB
    assert time.monotonic() - start < 60
    assert not _cache_leftovers(tmp_path), _cache_leftovers(tmp_path)
    hostile_hub.fault.clear()
    hub.forget()
    assert zoo.load("tiny.test") is not None  # and the next call, from an honest server, works


def test_a_config_json_stated_at_2_kb_and_streamed_at_300_mb_is_cut_off_at_the_bound(tmp_path, fake_plugins,
                                                                                       monkeypatch):
    from fakehub import FakeHub

    repo = make_repo(tmp_path / "src", repo_id="zoo-tests/flood")
    cfg = json.loads((repo.folder / "config.json").read_text())
    cfg["padding"] = "x" * (2048 - len(json.dumps(cfg)) - 20)
    (repo.folder / "config.json").write_text(json.dumps(cfg))
    site = fake_plugins({"tiny": plugin_source(None)})
    install_model_module(site)
    with FakeHub() as server:
        server.add_folder(repo.repo_id, repo.folder, repo.revision)
        server.fault["config.json"] = "flood"
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        with pytest.raises(errors.SizeMismatchError) as e:
            zoo.load(f"hf-hub:{repo.repo_id}@{repo.revision}")
        assert "the server stated" in str(e.value) and "stopped" in str(e.value)
        time.sleep(0.5)
        assert server.sent["config.json"] < 32 << 20, server.sent  # not 291 MB
    assert not _cache_leftovers(tmp_path), _cache_leftovers(tmp_path)


# -- 3. ZOO_TIMEOUT bounds every read; no retries; lock waits bounded ---------------------------


def test_a_server_that_stalls_mid_download_fails_after_one_timeout_without_retries(tiny, hostile_hub, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setenv("ZOO_TIMEOUT", "2")
    hostile_hub.fault["model.safetensors"] = "stall"
    start = time.monotonic()
    with pytest.raises(zoo.HubUnreachableError) as e:
        zoo.load("tiny.test")
    took = time.monotonic() - start
    assert took < 30, took  # one timeout, not 68-72 s of retries
    assert "stalled: no data for 2 s" in str(e.value) and "not retried" in str(e.value)
    gets = [p for m, p in hostile_hub.requests if m == "GET" and p.endswith("model.safetensors")]
    assert len(gets) == 1, hostile_hub.requests
    assert not [p for p in _cache_leftovers(tmp_path) if p.name == "model.safetensors" or "incomplete" in p.name]


def test_a_registered_model_falls_back_to_the_builtin_mirror_promptly(monkeypatch, tmp_path):
    from fakehub import FakeHub

    from zoo.plugins import get_host, reset_host

    w = get_host().registry.weights["dcgan.mnist"]
    with FakeHub() as server:
        server.add_folder(w.repo_id, ROOT / "cards" / w.repo_id, w.revision)
        server.fault[w.filename] = "stall"
        server.stall_after = 1 << 20
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_TIMEOUT", "2")
        reset_host()  # the settings are read when the plugins load
        start = time.monotonic()
        G = zoo.load("dcgan.mnist")
        took = time.monotonic() - start
        gets = [p for m, p in server.requests if m == "GET"]
    assert len(gets) == 1 and server.sent[w.filename] == 1 << 20  # it stalled, once
    assert G is not None and took < 30, took  # not 72 s
    found = hub.find_file(w.repo_id, w.filename, w.revision, sha256=w.sha256, size=w.size)
    assert found.source == "mirror"


def test_a_download_lock_held_by_a_stopped_process_is_waited_for_only_a_timeout(tiny, hostile_hub, tmp_path,
                                                                                monkeypatch):
    import signal

    lock = tmp_path / "hf-cache" / ".locks" / "models--zoo-tests--tiny-test" / f"{tiny.sha256}.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import os, signal, sys; from filelock import FileLock; l = FileLock(sys.argv[1]); "
                               "l.acquire(); print('locked', flush=True); os.kill(os.getpid(), signal.SIGSTOP)",
         str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("ZOO_TIMEOUT", "1")
        start = time.monotonic()
        with pytest.raises(errors.DownloadLockedError) as e:
            zoo.load("tiny.test")
        assert time.monotonic() - start < 30
        msg = str(e.value)
        assert f"process {holder.pid} (stopped" in msg and "made no progress for 1 s" in msg and "kill" in msg
        assert isinstance(e.value, zoo.HubUnreachableError)  # a registered model would go on to the mirrors
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.kill()
        holder.wait(10)
    hub.forget()
    assert zoo.load("tiny.test") is not None  # the lock is free: the download goes through


def test_the_size_timeout_and_retry_rules_are_documented():
    text = (ROOT / "docs" / "loading.md").read_text()
    for phrase in ("ZOO_TIMEOUT", "no retries", "pinned size", "stopped", "lock"):
        assert phrase in text, phrase


def test_zoo_verify_reports_a_wrong_sized_mirror_file_without_hashing_it(tiny, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    target = mirror / tiny.repo_id / "model.safetensors"
    target.parent.mkdir(parents=True)
    with open(target, "wb") as f:
        f.truncate(8 << 30)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    _no_hashing(monkeypatch)
    r = run("verify", "tiny.test", ok=False)
    assert r.exit_code == 1 and "BAD sha256" in r.output and "8,589,934,592 bytes" in r.output, r.output
    assert "not hashed" in r.output and "Traceback" not in r.output
