"""The second example plugin (examples/zoo-plugin-lsgan): installed with pip into its own folder, found
through its entry point, it brings a loss, recipes and a command, and `zoo train` trains it on real MNIST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "zoo-plugin-lsgan"


@pytest.fixture(scope="module")
def lsgan_site(tmp_path_factory) -> Path:
    """`pip install --no-deps` of the example into a folder of its own (the shared venv stays as it is)."""
    site = tmp_path_factory.mktemp("lsgan-site")
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-compile",
                          "-q", "--target", str(site), str(EXAMPLE)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert any(site.glob("zoo_plugin_lsgan-*.dist-info")) and (site / "zoo_lsgan" / "__init__.py").is_file()
    return site


def _env(site: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HF_"))}
    env.update(PYTHONPATH=str(site), HF_HOME=str(tmp / "hf"), HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    return env


def zoo_cli(site: Path, tmp: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    code = "import sys; from zoo.cli import main; sys.argv[0] = 'zoo'; main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=tmp, env=_env(site, tmp),
                          capture_output=True, text=True, timeout=timeout)


def test_installed_lsgan_registers_through_every_hook(lsgan_site, tmp_path):
    plugins = zoo_cli(lsgan_site, tmp_path, "plugins", "--check")
    assert plugins.returncode == 0, plugins.stdout + plugins.stderr
    line = next(ln for ln in plugins.stdout.splitlines() if ln.startswith("lsgan "))
    assert "ok" in line and "zoo-plugin-lsgan 0.1.0" in line
    assert "1 registered, 1 command, 1 loss, 2 recipes" in line
    assert "check: all imports succeed" in plugins.stdout
    info = zoo_cli(lsgan_site, tmp_path, "info", "dcgan")
    assert "least-squares (plugin lsgan, loss least-squares)" in info.stdout, info.stdout + info.stderr
    # its command is listed without importing it, and `zoo --help` imports no torch
    code = textwrap.dedent("""
        import sys
        from click.testing import CliRunner
        from zoo.cli import cli
        out = CliRunner().invoke(cli, ["--help"]).output
        assert "lsgan-interpolate" in out and "[plugin lsgan]" in out, out
        assert "zoo_lsgan.cli" not in sys.modules and "torch" not in sys.modules, sorted(sys.modules)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(lsgan_site, tmp_path),
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
    # the plugin's own tests (the conformance kit, its loss) pass against the installed copy
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                           cwd=tmp_path, env=_env(lsgan_site, tmp_path), capture_output=True, text=True, timeout=300)
    assert tests.returncode == 0 and "4 passed" in tests.stdout, tests.stdout[-3000:] + tests.stderr[-2000:]


@pytest.mark.slow
def test_zoo_train_trains_lsgan_on_mnist_and_its_command_runs(lsgan_site, tmp_path, data_dir):
    mnist = data_dir / "mnist"
    if not (mnist / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no MNIST in {mnist}")
    out, run_dir = tmp_path / "lsgan-mnist", tmp_path / "run"
    trained = zoo_cli(lsgan_site, tmp_path, "train", "lsgan", "--data", mnist, "--dataset", "mnist", "--out", out,
                      "--steps", "40", "--set", "ngf=8", "--set", "ndf=8", "--set", "nz=16", "--set", "batch_size=32",
                      "--run-dir", run_dir, "--sample-every", "0", "--checkpoint-every", "0", "--threads", "1",
                      "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-4000:]
    assert f"wrote {out} (40 steps" in trained.stdout
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architecture"] == "lsgan"
    assert cfg["config"] == {"nz": 16, "ngf": 8, "ndf": 8, "nc": 1, "image_size": 32}
    assert cfg["recipe"]["loss"] == "least-squares" and cfg["recipe"]["batch_size"] == 32
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [10, 20, 30, 40]
    # least squares on raw scores: both losses are finite and non-negative (a BCE-with-logits D loss would
    # be too, but the G loss 1/2 E[(D(G(z)) - 1)^2] of an untrained D is near 1/2, not near log 2)
    assert all(0.0 <= r["loss_d"] < 10 and 0.0 <= r["loss_g"] < 10 for r in log), log
    # the plugin's command on the folder zoo train wrote
    strip = tmp_path / "strip.png"
    ran = zoo_cli(lsgan_site, tmp_path, "lsgan-interpolate", out, "-o", strip, "--steps", "5")
    assert ran.returncode == 0, ran.stderr[-3000:]
    from PIL import Image

    with Image.open(strip) as im:
        assert im.size == (5 * 32 + 6 * 2, 32 + 2 * 2)
        lo, hi = im.convert("L").getextrema()
    assert hi - lo > 10, "the strip is blank"
    # and the folder loads and samples like any zoo model
    sampled = zoo_cli(lsgan_site, tmp_path, "sample", out, "-n", "4", "-o", tmp_path / "grid.png")
    assert sampled.returncode == 0 and (tmp_path / "grid.png").is_file(), sampled.stderr[-3000:]
    # the recipe it brings for another plugin's architecture trains that architecture with its loss
    other = tmp_path / "dcgan-ls"
    trained = zoo_cli(lsgan_site, tmp_path, "train", "dcgan", "--recipe", "least-squares", "--data", mnist,
                      "--dataset", "mnist", "--out", other, "--steps", "3", "--set", "ngf=4", "--set", "ndf=4",
                      "--set", "nz=8", "--set", "batch_size=16", "--run-dir", tmp_path / "run-dcgan",
                      "--sample-every", "0", "--checkpoint-every", "0", "--threads", "1", "--no-progress")
    assert trained.returncode == 0, trained.stderr[-4000:]
    cfg = json.loads((other / "config.json").read_text())
    assert cfg["architecture"] == "dcgan" and cfg["recipe"]["loss"] == "least-squares"
