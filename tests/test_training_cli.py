"""`zoo train` and `zoo eval` end to end on real MNIST with a tiny DCGAN (needs ZOO_DATA_DIR)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from zoo.cli_train import eval as eval_cmd
from zoo.cli_train import split_settings, train
from zoo.errors import ConfigError

DATA = os.environ.get("ZOO_DATA_DIR")
needs_data = pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: real MNIST files are needed")


def test_split_settings_routes_config_and_recipe_keys():
    from zoo.training.run import get_architecture

    arch = get_architecture("dcgan")
    cfg, rec = split_settings(arch, '{"ngf": 16}', ("ndf=8", "lr_g=0.001", "recipe.batch_size=32"))
    assert cfg == {"ngf": 16, "ndf": 8} and rec == {"lr_g": 0.001, "batch_size": 32}
    with pytest.raises(ConfigError, match="neither a config key"):
        split_settings(arch, None, ("bogus=1",))


@needs_data
@pytest.mark.slow
def test_train_then_eval_writes_a_valid_hub_folder(tmp_path, monkeypatch):
    from zoo.cards import check_card
    from zoo.metrics.classifier import build, save_classifier
    from zoo.metrics.evaluate import load_generator_folder

    out, run = tmp_path / "dcgan-mnist", tmp_path / "run"
    runner = CliRunner()
    args = ["dcgan", "--data", str(Path(DATA) / "mnist"), "--dataset", "mnist", "--set", "ngf=4", "--set", "ndf=4",
            "--set", "nz=8", "--set", "batch_size=16", "--out", str(out), "--steps", "3", "--run-dir", str(run),
            "--no-progress", "--threads", "1"]
    res = runner.invoke(train, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    for name in ("config.json", "model.safetensors", "README.md", "samples.png"):
        assert (out / name).exists(), name
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["nc"] == 1 and cfg["config"]["image_size"] == 32 and cfg["recipe"]["batch_size"] == 16
    assert cfg["training"]["dataset_files"]["train-images-idx3-ubyte.gz"].startswith("440fcabf")
    assert check_card((out / "README.md").read_text(), needs_metrics=False) == []
    G, _ = load_generator_folder(out)
    assert G.sample(2, seed=0).shape == (2, 1, 32, 32)
    assert (run / "checkpoint.pt").exists() and len((run / "log.jsonl").read_text().splitlines()) == 1

    torch.manual_seed(0)
    clf_dir = tmp_path / "clf"
    save_classifier(build(channels=1, width=4), clf_dir, {"config": {"channels": 1, "num_classes": 10, "width": 4}})
    res = runner.invoke(eval_cmd, [str(out), "--data", str(Path(DATA) / "mnist"), "-n", "200", "--classifier",
                                   str(clf_dir), "--write"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "config.json").read_text())["metrics"]
    assert metrics["fid"] > metrics["fid_real_baseline"] > 0  # 3 steps of training are far from the data
    assert check_card((out / "README.md").read_text()) == []
    # the scores were kept: a second eval of the same weights reads them (nothing sampled or extracted)
    from zoo.metrics.fid import Evaluator

    monkeypatch.setattr(Evaluator, "score_generator", lambda self, G: pytest.fail("scored again"))
    res = runner.invoke(eval_cmd, [str(out), "--data", str(Path(DATA) / "mnist"), "-n", "200", "--classifier",
                                   str(clf_dir)], catch_exceptions=False)
    assert res.exit_code == 0 and "matches the card" in res.output, res.output
    monkeypatch.undo()
    # with an empty cache, a second eval reproduces the card's numbers
    monkeypatch.setenv("ZOO_FEATURE_CACHE", str(tmp_path / "fresh-cache"))
    res = runner.invoke(eval_cmd, [str(out), "--data", str(Path(DATA) / "mnist"), "-n", "200", "--classifier",
                                   str(clf_dir)], catch_exceptions=False)
    assert res.exit_code == 0 and "matches the card" in res.output, res.output
