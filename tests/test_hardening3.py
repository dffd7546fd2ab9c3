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
        line = proc.stdout.readline()
        assert "serving the catalog at" in line, line + proc.stderr.read()
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
