"""`zoo new-plugin --task style-transfer`: the package it writes trains (`zoo train`), evaluates (`zoo eval`),
stylizes (`zoo stylize --model`), publishes (`zoo push`) and shows in the catalog with its own snippet
(real style-transfer data from ../shared/data, a tiny network, a few steps)."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
import torch
from PIL import Image

import zoo
from zoo import testing

from test_publishing import install, run  # noqa: E402 (tests/ is on the path)

DATA = os.environ.get("ZOO_DATA_DIR")
needs_data = pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: ../shared/data/style-transfer is needed")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_scaffold_depends_on_the_zoo_it_was_made_with_and_says_how_to_install_it(tmp_path):
    from zoo.scaffold import new_plugin, zoo_requirement

    s = new_plugin("brush", tmp_path, task="style-transfer")
    meta = tomllib.loads((s.root / "pyproject.toml").read_text())
    dep = meta["project"]["dependencies"]
    assert dep == [zoo_requirement()] and dep[0].startswith("zoo-models")
    # not a bare name on no index: where this zoo was installed from (a direct reference), or its version
    assert " @ " in dep[0] or ">=" in dep[0]
    if " @ " in dep[0]:
        assert meta["tool"]["hatch"]["metadata"]["allow-direct-references"] is True
    readme = (s.root / "README.md").read_text()
    assert "not on a package index" in readme and "pip install -e /path/to/the/zoo" in readme
    assert (s.root / "zoo_brush" / "train.py").is_file()
    gan = new_plugin("pix", tmp_path)  # the GAN scaffold says the same
    assert tomllib.loads((gan.root / "pyproject.toml").read_text())["project"]["dependencies"] == dep
    assert "not on a package index" in (gan.root / "README.md").read_text()


@needs_data
def test_a_style_plugin_from_the_scaffold_trains_evaluates_stylizes_publishes_and_shows_in_the_catalog(
        tmp_path, monkeypatch):
    from zoo.scaffold import new_plugin

    data = Path(DATA) / "style-transfer"
    s = new_plugin("brush", tmp_path / "src", task="style-transfer")
    install(s.root, "brush", monkeypatch)
    # the conformance kit, the stylize contract included, over the demo weights
    testing.check_plugin("brush", weights=False)
    with testing.use_mirror(s.root / "hub"):
        assert testing.check_plugin("brush")["weights"] == ["brush.demo"]

    # trains with `zoo train`, through the zoo's mechanism (checkpoint, log, export with the card writer)
    trained = tmp_path / "trained" / s.repo_id
    run("train", "brush", "--data", data, "--out", trained, "--run-dir", tmp_path / "run", "--steps", "6",
        "--set", "crop=32", "--set", "batch_size=2", "--set", "width=8", "--checkpoint-every", "3", "--threads", "1",
        "--no-progress")
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 6 and {"content", "style"} <= set(log[-1])
    config = json.loads((trained / "config.json").read_text())
    assert config["config"] == {"width": 8} and config["training"]["trainer"] == "zoo_brush.train:Trainer"
    assert config["training"]["recipe"]["losses"] == {"content": "brush-content", "style": "brush-style"}
    from zoo.plugins import get_host

    assert get_host().registry.losses["brush-style"].kind == "perceptual"  # its own, through the loss hook

    # evaluates with `zoo eval`: the style-transfer judge, figures with their protocol, written into the card
    out = run("eval", trained, "--data", data, "--set", "size=32", "--write").output
    assert "evaluator style-judge" in out and "[vgg16.hed-bsds500 judge, 9 held-out pairs at 32 px]" in out
    metrics = json.loads((trained / "config.json").read_text())["metrics"]
    assert metrics["style_loss_judge"] > 0 and metrics["protocols"]["ssim_to_content"].endswith("at 32 px")
    assert "style_loss_judge" in (trained / "README.md").read_text()
    testing.check_repo_folder(trained)  # publishable, metrics in the model-index

    # stylizes with `zoo stylize --model` (a folder), through the contract
    photo, painting = tmp_path / "photo.png", data / "style" / "udnie.jpg"
    Image.fromarray((torch.rand(24, 40, 3).numpy() * 255).astype("uint8")).save(photo)
    out = run("stylize", photo, painting, "--model", trained, "-o", tmp_path / "out.png").output
    assert "40x24" in out and Image.open(tmp_path / "out.png").size == (40, 24)

    # publishes with `zoo push` (a folder mirror): the printed Weights record carries the card's metrics
    mirror = tmp_path / "mirror"
    out = run("push", trained, "--repo", s.repo_id, "--mirror", mirror, "--layout", "folder").output
    assert "metrics={" in out and "style_loss_judge" in out and "protocols={" in out
    revision = json.loads(run("push", trained, "--repo", s.repo_id, "--dry-run", "--json").output)["revision"]
    from zoo.hub import sha256_file

    weights = trained / "model.safetensors"
    init = s.root / s.package / "__init__.py"
    init.write_text(init.read_text().replace(s.revision, revision).replace(s.sha256, sha256_file(weights))
                    .replace(f"size={s.size}", f"size={weights.stat().st_size}")
                    .replace("config={'width': 16}", "config={'width': 8}"))
    install(s.root, "brush", monkeypatch)
    with testing.use_mirror(mirror):
        model = zoo.load("brush.demo")
        y = model.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
        assert y.shape == (1, 3, 32, 32)

        # shows in the catalog with its own "Load it" snippet
        from zoo.catalog.site import build_site
        from zoo.plugins import get_host

        site = tmp_path / "site"
        build_site(site, host=get_host())
        page = (site / "models" / "brush.demo.html").read_text()
        assert "brush.demo" in page and "stylize" in page and "G.sample" not in page


def test_the_style_package_builds_a_wheel_whose_own_tests_pass(tmp_path):
    """As an author would: build the wheel (its zoo dependency a direct reference), install it, run its tests."""
    import subprocess
    import sys

    from zoo.scaffold import new_plugin

    s = new_plugin("brush", tmp_path / "src", task="style-transfer")
    dist, site = tmp_path / "dist", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(s.root)], check=True, capture_output=True)
    wheel = next(dist.glob("zoo_brush-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "HF_"))}
    env.update(PYTHONPATH=str(site), HF_HOME=str(tmp_path / "hf"), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=s.root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "3 passed" in out.stdout
