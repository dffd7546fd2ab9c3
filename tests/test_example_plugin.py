"""The example third-party plugin (examples/zoo-plugin-example), installed from its
wheel into a fresh virtual environment beside the zoo's own wheel, found through
its entry point, with its weights downloaded through a mirror (olah)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "zoo-plugin-example"
FOLDER = EXAMPLE / "hub" / "zoo-examples" / "ppca-fashion-mnist"
REPO_ID = "zoo-examples/ppca-fashion-mnist"


def test_the_example_folder_is_publishable_and_pinned():
    """Fast: the committed folder passes `zoo push`'s checks, and the registration pins it."""
    from zoo.hub import sha256_file
    from zoo.publish import folder_revision

    registration = (EXAMPLE / "zoo_ppca" / "__init__.py").read_text()
    assert f'revision="{folder_revision(FOLDER)}"' in registration
    assert f'sha256="{sha256_file(FOLDER / "model.safetensors")}"' in registration
    assert f"size={(FOLDER / 'model.safetensors').stat().st_size}," in registration
    assert "import torch" not in registration
    from zoo.cards import read_card_file

    read_card_file(FOLDER / "README.md")


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A new venv holding only the zoo's wheel and the example's wheel; dependencies borrowed by a .pth."""
    tmp = tmp_path_factory.mktemp("example-env")
    dist = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(ROOT), str(EXAMPLE)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    wheels = sorted(dist.glob("*.whl"))
    assert {w.name.split("-")[0] for w in wheels} == {"zoo_models", "zoo_plugin_example"}
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
                                "--target", site, *map(str, wheels)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]
    import pluggy

    (Path(site) / "zz_deps.pth").write_text(str(Path(pluggy.__file__).resolve().parent.parent) + "\n")
    outside = tmp / "elsewhere"
    outside.mkdir()
    return py, Path(site), outside


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ZOO_", "HF_"))}
    env.update(HF_HOME=str(tmp / "hf"), HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


@pytest.mark.slow
def test_example_plugin_loads_through_its_entry_point_from_a_mirror(fresh_env, olah, tmp_path):
    py, site, outside = fresh_env
    revision = olah.publish(FOLDER, REPO_ID)  # the mirror: a git repo served by olah
    assert f'revision="{revision}"' in (EXAMPLE / "zoo_ppca" / "__init__.py").read_text()
    code = """
import json, zoo, zoo_ppca
from zoo.hub import find_file
status = {p.name: p for p in zoo.list_plugins()}["ppca"]
G = zoo.load("ppca")
x = G.sample(4, seed=0)
w = zoo.model_info("ppca").weights
cached = find_file(w.repo_id, w.filename, w.revision, sha256=w.sha256)
print(json.dumps({"zoo": zoo.__file__, "plugin": zoo_ppca.__file__, "dist": status.distribution,
                  "state": status.state, "name": G.zoo_name, "shape": list(x.shape),
                  "range": [float(x.min()), float(x.max())], "where": str(cached.path)}))
"""
    env = _env(tmp_path, HF_ENDPOINT=olah.endpoint, ZOO_MIRRORS="")
    out = subprocess.run([str(py), "-c", code], cwd=outside, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["zoo"].startswith(str(site)) and data["plugin"].startswith(str(site))
    assert data["dist"] == "zoo-plugin-example" and data["state"] == "ok"
    assert data["name"] == "ppca.fashion-mnist" and data["shape"] == [4, 1, 28, 28]
    assert 0.0 <= data["range"][0] <= data["range"][1] <= 1.0
    assert data["where"].startswith(str(tmp_path / "hf")), "the weights did not come through the mirror into the cache"
    # the CLI of the installed zoo sees the plugin too
    cli = [str(py), "-c", "import sys; from zoo.cli import main; sys.argv[0] = 'zoo'; main()"]
    listed = subprocess.run(cli + ["list", "ppca*"], cwd=outside, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and "ppca.fashion-mnist" in listed.stdout, listed.stderr


@pytest.mark.slow
def test_example_plugin_own_tests_pass_in_the_fresh_env(fresh_env, tmp_path):
    py, site, outside = fresh_env
    code = "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))"
    out = subprocess.run([str(py), "-c", code, "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")], cwd=outside,
                         env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "5 passed" in out.stdout
