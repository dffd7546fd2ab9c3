"""The published CIFAR-10 FID protocol (zoo.metrics.published_protocol, `zoo eval --protocol fid50k-train`):
the streamed statistics and Fréchet distance against torchmetrics, and the command end to end on a small
CIFAR-10-layout folder (the key it stores under, the metrics it keeps, the cached training statistics)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from zoo.metrics.published_protocol import GaussianStats, frechet_distance

ROOT = Path(__file__).resolve().parent.parent


def test_streamed_statistics_and_distance_match_torchmetrics() -> None:
    from torchmetrics.image.fid import FrechetInceptionDistance

    from zoo.metrics.features import Precomputed

    g = torch.Generator().manual_seed(0)
    a = torch.randn(2000, 24, generator=g, dtype=torch.float64)
    b = torch.randn(1500, 24, generator=g, dtype=torch.float64) * 1.2 + 0.3
    sa, sb = GaussianStats(24), GaussianStats(24)
    for i in range(0, len(a), 333):  # uneven batches
        sa.update(a[i : i + 333])
    sb.update(b)
    mu_a, cov_a = sa.mean_cov()
    assert torch.allclose(mu_a, a.mean(0)) and torch.allclose(cov_a, torch.cov(a.T))
    m = FrechetInceptionDistance(feature=Precomputed(24))
    m.update(a, real=True)
    m.update(b, real=False)
    ours = frechet_distance(mu_a, cov_a, *sb.mean_cov())
    assert ours == pytest.approx(float(m.compute()), rel=1e-9)
    assert frechet_distance(mu_a, cov_a, mu_a, cov_a) == pytest.approx(0.0, abs=1e-6)


def _tiny_cifar(root: Path, per_batch: int = 6, n_test: int = 8) -> Path:
    """A cifar-10-batches-py folder (the python layout) of random images: 5 train batches and a test batch."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        data = rng.integers(0, 256, size=(n, 3 * 32 * 32), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": [int(x) for x in rng.integers(0, 10, n)]}, f)
    return root


@pytest.mark.skipif(not (ROOT / "cards/zoo/dcgan-cifar10/model.safetensors").exists(), reason="no dcgan card")
def test_eval_published_protocol_stores_its_key_beside_the_other_metrics(tmp_path: Path) -> None:
    from zoo.cli_train import eval as eval_cmd

    data = _tiny_cifar(tmp_path / "data")
    folder = tmp_path / "dcgan-cifar10"
    shutil.copytree(ROOT / "cards/zoo/dcgan-cifar10", folder)
    before = json.loads((folder / "config.json").read_text())["metrics"]
    args = [str(folder), "--data", str(data), "--protocol", "fid50k-train", "-n", "12",
            "--precision", "bf16", "--write"]
    r = CliRunner().invoke(eval_cmd, args)
    assert r.exit_code == 0, r.output
    metrics = json.loads((folder / "config.json").read_text())["metrics"]
    # 12 samples in bf16 is not the published protocol: its own key, never fid50k_train
    assert "fid50k_train" not in metrics
    fid = metrics["fid12_train_bf16"]
    assert fid > 0 and metrics["fid12_train_bf16_real_baseline"] > 0
    assert metrics["fid12_train_bf16_n_train"] == 30 and metrics["fid12_train_bf16_n_samples"] == 12
    assert "--protocol fid50k-train" in metrics["fid12_train_bf16_command"]
    assert {k: metrics[k] for k in before} == before  # the 10k-vs-test figures stay
    from zoo.cards import check_card

    card = (folder / "README.md").read_text()
    assert "`fid12_train_bf16` | " in card and check_card(card) == []
    # the train statistics were cached: a second run reads them and gives the same figure
    cached = sorted(Path(__import__("os").environ["ZOO_FEATURE_CACHE"]).glob("stats-*.safetensors"))
    assert len(cached) >= 2  # train and test statistics
    r2 = CliRunner().invoke(eval_cmd, args[:-1])
    assert r2.exit_code == 0, r2.output
    assert f"{fid:.5g}" in r2.output


def test_other_datasets_are_refused_with_the_reason(tmp_path: Path) -> None:
    from zoo.errors import DataError
    from zoo.metrics.published_protocol import evaluate_fid50k_train

    with pytest.raises(DataError, match="CIFAR-10"):
        evaluate_fid50k_train(torch.nn.Identity(), "mnist", tmp_path)
