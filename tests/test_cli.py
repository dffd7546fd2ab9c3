"""The CLI through click's runner, and the packaged wheel from a fresh virtual environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

import zoo
from zoo.cli import cli

DEMO = "dcgan.mnist"


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_list_and_patterns():
    out = run("list").output
    for arch in ("dcgan", "gan", "wgan", "wgan-gp", "sngan", "adain"):
        assert any(line.split()[0] == arch for line in out.splitlines()), f"{arch} missing:\n{out}"
    pretrained = json.loads(run("list", "--pretrained", "--json").output)
    assert DEMO in [r["name"] for r in pretrained]
    assert run("list", "nothing-like-this*").output.startswith("no models match")


def test_info_and_unknown_name_suggestion():
    out = run("info", DEMO).output
    assert "sha256" in out and "zoo_dcgan.model:build" in out
    data = json.loads(run("info", "dcgan", "--json").output)
    assert data["name"] == DEMO and data["weights"]["repo_id"]
    bad = run("info", "dcgan.mnsit", ok=False)
    assert bad.exit_code == 1 and "Did you mean" in bad.output and "dcgan.mnist" in bad.output


def test_card_renders(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = run("card", "dcgan").output
    assert "license:" in out and "HOW TO USE" in out.upper()
    assert run("card", "dcgan", "--raw").output.startswith("---")


def test_plugins_lists_builtins_and_broken(fake_plugins):
    fake_plugins({"broken-one": "import not_a_module_anywhere\n"})
    out = run("plugins").output
    assert "dcgan" in out and "BROKEN" in out and "not_a_module_anywhere" in out
    assert "failed to load" in run("list").output  # said on stderr, mixed into output here


def test_sample_same_seed_same_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    run("sample", DEMO, "-n", "16", "--seed", "0", "-o", str(a))
    run("sample", DEMO, "-n", "16", "--seed", "0", "-o", str(b))
    run("sample", DEMO, "-n", "16", "--seed", "1", "-o", str(c))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    from PIL import Image

    img = Image.open(a)
    assert img.size[0] > 100 and img.size[1] > 100


def test_sample_rejects_a_non_generator_and_bad_count(monkeypatch):
    r = run("sample", DEMO, "-n", "0", ok=False)
    assert r.exit_code == 2 and "at least 1" in r.output


def test_download_and_verify(use_olah, monkeypatch):
    out = run("download", DEMO).output
    assert "hub" in out
    out = run("verify", DEMO).output
    assert "cache" in out and "ok" in out
    # tamper with the cached file: verify reports and removes it
    from zoo.hub import from_cache

    w = zoo.model_info(DEMO).weights
    blob = from_cache(w.repo_id, w.filename, w.revision).resolve()
    os.chmod(blob, 0o644)
    blob.write_bytes(b"tampered")
    r = run("verify", DEMO, "--delete-bad", ok=False)
    assert r.exit_code == 1 and "BAD sha256 (removed)" in r.output
    assert from_cache(w.repo_id, w.filename, w.revision) is None


def test_download_when_hub_is_down(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    r = run("download", DEMO, ok=False)
    assert r.exit_code == 1 and "cannot reach" in r.output


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    """Build the wheel, install it into a fresh venv, run `zoo list` and `zoo card` elsewhere."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("zoo_models-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # install the wheel itself with pip (from this environment) into the fresh venv ...
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target", site, str(wheel)],
                   check=True, capture_output=True)
    # ... and borrow only its dependencies from this environment (appended, so the wheel wins)
    import pluggy

    deps = str(Path(pluggy.__file__).resolve().parent.parent)
    (Path(site) / "zz_deps.pth").write_text(deps + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ZOO_"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    zoo_bin = [str(py), "-c", "import sys; from zoo.cli import main; sys.argv[0] = 'zoo'; main()"]
    where = subprocess.run([str(py), "-c", "import zoo, zoo_dcgan; print(zoo.__file__); print(zoo_dcgan.__file__)"],
                           cwd=outside, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert line.startswith(site), f"imported from {line}, not from the installed wheel"
    listed = subprocess.run(zoo_bin + ["list"], cwd=outside, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert DEMO in listed.stdout and "adain" in listed.stdout
    card = subprocess.run(zoo_bin + ["card", "dcgan"], cwd=outside, env=env, capture_output=True, text=True)
    assert card.returncode == 0, card.stderr
    assert "HOW TO USE" in card.stdout.upper()
    # the card came from the cards/ shipped inside the wheel
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("zoo/_embedded/cards/") and n.endswith("model.safetensors") for n in names)
    assert "zoo/_embedded/zoo.toml" in names
