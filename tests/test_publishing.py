"""Publishing: `zoo new-plugin` writes a package whose tests pass; `zoo push` checks a
Hub-repo folder, then publishes it into a mirror (loaded back through olah) or to a
Hub through huggingface_hub (a loopback fake Hub that speaks the upload API)."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakehub import FakeHub

import zoo
from zoo import testing
from zoo.cli import cli
from zoo.plugins import reset_host
from zoo.publish import folder_revision


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def install(root: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the generated package importable and its entry point visible (as pip install -e would)."""
    package = "zoo_" + name.replace("-", "_")
    site = root.parent / f"site-{name}"
    info = site / f"zoo_{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: zoo-{name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{name} = {package}\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(root))
    for m in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[m]
    importlib.invalidate_caches()
    reset_host()


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A package written by `zoo new-plugin` and installed; returns its Scaffold."""
    from zoo.scaffold import new_plugin

    def make(name: str = "pix", org: str = "my-org"):
        s = new_plugin(name, tmp_path / "src", org=org)
        install(s.root, name, monkeypatch)
        return s

    return make


# -- new-plugin ------------------------------------------------------------------


def test_new_plugin_writes_a_complete_package(tmp_path):
    out = run("new-plugin", "pix", "-o", tmp_path).output
    root = tmp_path / "zoo-pix"
    assert str(root) in out and "pip install -e ." in out
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["zoo.plugins"] == {"pix": "zoo_pix"}
    assert meta["build-system"]["build-backend"] == "hatchling.build"
    registration = (root / "zoo_pix" / "__init__.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+torch", registration, re.M)
    assert "zoo_pix.model:build" in registration
    hub = root / "hub" / "my-org" / "pix-demo"
    # the pins in the registration are those of the folder it wrote
    from zoo.hub import sha256_file

    assert f'sha256="{sha256_file(hub / "model.safetensors")}"' in registration
    assert f'revision="{folder_revision(hub)}"' in registration
    from zoo.cards import read_card_file

    read_card_file(hub / "README.md")
    assert "testing.check_plugin" in (root / "tests" / "test_conformance.py").read_text()
    # it refuses to overwrite, and refuses a bad name
    again = run("new-plugin", "pix", "-o", tmp_path, ok=False)
    assert again.exit_code == 1 and "--force" in again.output
    bad = run("new-plugin", "Pix.Net", "-o", tmp_path, ok=False)
    assert bad.exit_code == 1 and "lower case" in bad.output


def test_generated_plugin_is_listed_loaded_and_conforms(plugin, monkeypatch):
    s = plugin("pix")
    assert "pix.demo" in run("list", "pix*").output
    with testing.use_mirror(s.root / "hub"):
        assert testing.check_plugin("pix") == {"architectures": ["pix"], "weights": ["pix.demo"]}
        images = zoo.load("pix.demo").sample(4, seed=0)
    assert tuple(images.shape) == (4, 1, 16, 16)


@pytest.mark.slow
def test_generated_package_tests_pass_from_its_wheel(tmp_path):
    """As a user would: build the wheel, install it, run the generated tests."""
    from zoo.scaffold import new_plugin

    s = new_plugin("pix", tmp_path / "src")
    dist, site = tmp_path / "dist", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(s.root)], check=True, capture_output=True)
    wheel = next(dist.glob("zoo_pix-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "HF_"))}
    env.update(PYTHONPATH=str(site), HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=s.root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "3 passed" in out.stdout
    # and the installed package is what the tests used, with its entry point
    where = subprocess.run([sys.executable, "-c", "import zoo_pix; print(zoo_pix.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(site))


# -- push: checks before anything is published -----------------------------------


def _break(folder: Path, how: str) -> None:
    if how == "card":
        card = folder / "README.md"
        card.write_text(card.read_text().replace("## Limitations", "## Caveats"))
    elif how == "config":
        (folder / "config.json").write_text('{"architecture": "pix", "config": {"latent_dim": 16, "depth": 3}}')
    elif how == "shapes":
        (folder / "config.json").write_text('{"architecture": "pix", "config": {"latent_dim": 8}}')
    elif how == "unbuildable":
        (folder / "config.json").write_text('{"architecture": "pix", "config": {"image_size": 48}}')
    elif how == "pickle":
        import torch

        torch.save({"x": torch.zeros(1)}, folder / "extra.pth")


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("card", "missing section '## Limitations'"),
        ("config", "no config key(s) ['depth']"),
        ("shapes", "the model built from config.json expects (1024, 8)"),
        ("unbuildable", "'image_size' must be one of [16, 32, 64]"),
        ("pickle", "extra.pth is a pickle"),
    ],
)
def test_push_refuses_a_bad_folder_and_publishes_nothing(plugin, tmp_path, how, message):
    s = plugin()
    _break(s.hub_folder, how)
    mirror = tmp_path / "mirror"
    r = run("push", s.hub_folder, "--repo", "my-org/pix-demo", "--mirror", mirror, ok=False)
    assert r.exit_code == 1 and message in r.output, r.output
    assert not mirror.exists()
    with FakeHub() as hub:  # and the Hub is not contacted at all
        r = run("push", s.hub_folder, "--repo", "my-org/pix-demo", "--endpoint", hub.endpoint, ok=False)
        assert r.exit_code == 1 and message in r.output
        assert hub.requests == []


def test_push_needs_an_installed_architecture(tmp_path):
    from zoo.scaffold import new_plugin

    s = new_plugin("pix", tmp_path)  # written, not installed
    r = run("push", s.hub_folder, "--repo", "my-org/pix-demo", "--dry-run", ok=False)
    assert r.exit_code == 1 and "'pix' is not registered by any installed plugin" in r.output
    assert "pip install -e" in r.output


def test_push_argument_errors(plugin, tmp_path):
    s = plugin()
    assert run("push", s.hub_folder, "--repo", "no-slash", ok=False).exit_code == 2
    r = run("push", s.hub_folder, "--repo", "a/b", "--mirror", tmp_path, "--endpoint", "http://x", ok=False)
    assert r.exit_code == 2 and "not both" in r.output


def test_dry_run_prints_the_pins_and_publishes_nothing(plugin):
    s = plugin()
    data = json.loads(run("push", s.hub_folder, "--repo", "my-org/pix-demo", "--dry-run", "--json").output)
    assert data["revision"] == s.revision
    files = {f["path"]: f for f in data["files"]}
    assert files["model.safetensors"]["sha256"] == s.sha256 and files["model.safetensors"]["size"] == s.size
    assert f"sha256={s.sha256!r}" in data["weights"] and "name='pix.demo'" in data["weights"]


# -- push into a mirror ------------------------------------------------------------


def test_push_to_a_mirror_then_load_through_olah(plugin, use_olah, tmp_path):
    org = "pub-" + tmp_path.name[-10:].lower().strip("_-")
    s = plugin("pix", org=org)
    out = run("push", s.hub_folder, "--repo", s.repo_id, "--mirror", use_olah.mirror).output
    assert f"revision {s.revision}" in out  # the deterministic first commit: the pin new-plugin wrote
    assert s.sha256 in out and "zoo.Weights(" in out
    git_dir = use_olah.mirror / "models" / s.repo_id
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=git_dir, capture_output=True, text=True).stdout.strip()
    assert head == s.revision
    model = zoo.load("pix.demo")
    from zoo.hub import from_cache, sha256_file

    cached = from_cache(s.repo_id, "model.safetensors", s.revision)  # downloaded through olah into the cache
    assert cached is not None and sha256_file(cached) == s.sha256 and not model.training
    # a second publication is a new commit; the pinned first one is still served
    card = s.hub_folder / "README.md"
    card.write_text(card.read_text().replace("## Limitations\n", "## Limitations\nA second version.\n"))
    second = json.loads(run("push", s.hub_folder, "--repo", s.repo_id, "--mirror", use_olah.mirror, "--json").output)
    assert second["revision"] != s.revision
    log = subprocess.run(["git", "log", "--format=%H"], cwd=git_dir, capture_output=True, text=True).stdout.split()
    assert log == [second["revision"], s.revision]
    reset_host()
    assert testing.check_card("pix.demo")  # the card at the pinned revision, from olah


def test_push_to_a_folder_mirror_for_zoo_mirrors(plugin, tmp_path, monkeypatch):
    s = plugin()
    mirror = tmp_path / "plain"
    out = run("push", s.hub_folder, "--repo", s.repo_id, "--mirror", mirror, "--layout", "folder").output
    assert f"revision {s.revision}" in out
    assert (mirror / s.repo_id / "model.safetensors").read_bytes() == (s.hub_folder / "model.safetensors").read_bytes()
    with testing.use_mirror(mirror):
        testing.check_load_roundtrip("pix.demo")


# -- push to a Hub -------------------------------------------------------------------


def test_push_to_a_hub_then_load_from_it(plugin, monkeypatch):
    s = plugin()
    with FakeHub(token="hf_secret") as hub:
        data = json.loads(run("push", s.hub_folder, "--repo", s.repo_id, "--endpoint", hub.endpoint,
                              "--token", "hf_secret", "--json").output)
        paths = [p for _, p in hub.requests]
        assert paths[0] == "/api/repos/create" and paths[-1] == f"/api/models/{s.repo_id}/commit/main"
        revision = data["revision"]
        assert re.fullmatch(r"[0-9a-f]{40}", revision) and revision in data["location"]
        stored = hub.repos[s.repo_id].commits[revision]
        assert stored["model.safetensors"] == (s.hub_folder / "model.safetensors").read_bytes()
        assert sorted(stored) == ["README.md", "config.json", "model.safetensors"]
        # pin the printed revision, as the author would, and load through huggingface_hub
        init = s.root / s.package / "__init__.py"
        init.write_text(init.read_text().replace(s.revision, revision))
        install(s.root, s.name, monkeypatch)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        testing.check_load_roundtrip("pix.demo")
        assert ("GET", f"/{s.repo_id}/resolve/{revision}/model.safetensors") in hub.requests
        # pushing again is a new commit on top
        again = json.loads(run("push", s.hub_folder, "--repo", s.repo_id, "--endpoint", hub.endpoint,
                               "--token", "hf_secret", "--json").output)
        assert again["revision"] != revision


def test_push_to_a_hub_with_a_bad_token(plugin):
    s = plugin()
    with FakeHub(token="hf_secret") as hub:
        r = run("push", s.hub_folder, "--repo", s.repo_id, "--endpoint", hub.endpoint, "--token", "wrong", ok=False)
        assert r.exit_code == 1 and "HTTP 401" in r.output and "hf auth login" in r.output
        assert s.repo_id not in hub.repos


def test_push_to_an_unreachable_hub(plugin):
    s = plugin()
    r = run("push", s.hub_folder, "--repo", s.repo_id, "--endpoint", "http://127.0.0.1:9", "--token", "x", ok=False)
    assert r.exit_code == 1 and "nothing was committed" in r.output


def test_the_publishing_modules_import_no_torch():
    code = ("import sys, zoo.testing, zoo.cli_publish, zoo.scaffold, zoo.repofolder; "
            "print(sorted(m for m in ('torch', 'safetensors.torch', 'huggingface_hub') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
