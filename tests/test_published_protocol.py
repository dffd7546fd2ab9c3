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
    # 12 samples is not the published protocol: its own key, never fid50k_train
    assert metrics.get("fid50k_train") == before.get("fid50k_train")  # the card's own, if any, stays as it was
    fid = metrics["fid12_train"]
    assert fid > 0 and metrics["fid12_train_real_baseline"] > 0
    assert metrics["fid12_train_n_train"] == 30 and metrics["fid12_train_n_samples"] == 12
    assert metrics["fid12_train_precision"] == "bf16"
    assert "--protocol fid50k-train" in metrics["fid12_train_command"]
    assert {k: metrics[k] for k in before} == before  # the 10k-vs-test figures stay
    from zoo.cards import check_card

    card = (folder / "README.md").read_text()
    assert "`fid12_train` | " in card and check_card(card) == []
    # the train statistics were cached: a second run reads them and gives the same figure
    cached = sorted(Path(__import__("os").environ["ZOO_FEATURE_CACHE"]).glob("stats-*.safetensors"))
    assert len(cached) >= 2  # train and test statistics
    r2 = CliRunner().invoke(eval_cmd, args[:-1])
    assert r2.exit_code == 0, r2.output
    assert f"{fid:.5g}" in r2.output


def test_only_the_published_sample_count_in_a_checked_precision_gets_the_published_key() -> None:
    from zoo.metrics.published_protocol import KEY, result_key

    assert result_key(50_000, "fp32") == KEY == result_key(50_000, "bf16")
    assert result_key(10_000, "bf16") == "fid10k_train" and result_key(12, "fp32") == "fid12_train"
    assert result_key(50_000, "fp16") == "fid50k_train_fp16"  # never checked against fp32


def test_other_datasets_are_refused_with_the_reason(tmp_path: Path) -> None:
    from zoo.errors import DataError
    from zoo.metrics.published_protocol import evaluate_fid50k_train

    with pytest.raises(DataError, match="CIFAR-10"):
        evaluate_fid50k_train(torch.nn.Identity(), "mnist", tmp_path)


class _Features(torch.nn.Module):
    """A fixed random projection of the pixels (8 features); ``fail_after`` batches then an error, as a
    computation stopped half way (Ctrl-C, the session's end)."""

    num_features = 8

    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.w = torch.randn(3 * 4 * 4, 8, generator=torch.Generator().manual_seed(1))
        self.calls, self.fail_after = 0, fail_after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt
        return x.flatten(1) @ self.w


def test_statistics_resume_where_an_interrupted_run_stopped(tmp_path: Path, capsys) -> None:
    from zoo.metrics.published_protocol import streamed_statistics

    images = torch.randint(0, 256, (100, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    whole = streamed_statistics(_Features(), images, tmp_path / "whole.safetensors", batch_size=10,
                                desc="x", progress=False)
    path = tmp_path / "stats.safetensors"
    partial = tmp_path / "stats.partial.safetensors"
    with pytest.raises(KeyboardInterrupt):
        streamed_statistics(_Features(fail_after=7), images, path, batch_size=10, desc="x", progress=False,
                            checkpoint_every=30)
    assert partial.is_file() and not path.exists()  # 60 images' sums kept (saved at 30 and 60)
    f = _Features()
    resumed = streamed_statistics(f, images, path, batch_size=10, desc="train statistics", progress=False)
    assert f.calls == 4  # 60 of 100 were done: four batches left
    assert "resuming at 60/100" in capsys.readouterr().err
    for a, b in zip(resumed, whole):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert path.is_file() and not partial.exists()
    # done: read back, nothing computed
    again = _Features(fail_after=0)
    torch.testing.assert_close(streamed_statistics(again, images, path, batch_size=10, desc="x")[1], whole[1])


def test_a_partial_file_that_does_not_fit_is_started_over(tmp_path: Path) -> None:
    from zoo.metrics.published_protocol import streamed_statistics

    images = torch.randint(0, 256, (40, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    path = tmp_path / "s.safetensors"
    (tmp_path / "s.partial.safetensors").write_bytes(b"not safetensors")
    f = _Features()
    mu, _ = streamed_statistics(f, images, path, batch_size=10, desc="x", progress=False)
    assert f.calls == 4
    torch.testing.assert_close(mu, (images.flatten(1).double() / 255 @ f.w.double()).mean(0))


def test_generated_statistics_are_kept_under_the_generators_weights(tmp_path: Path, monkeypatch) -> None:
    from zoo.metrics.published_protocol import PublishedProtocol, generator_statistics, weights_digest

    monkeypatch.setenv("ZOO_FEATURE_CACHE", str(tmp_path / "cache"))

    class G(torch.nn.Module):
        def __init__(self, bias: float):
            super().__init__()
            self.b = torch.nn.Parameter(torch.tensor(bias))

        def sample(self, n: int, seed: int = 0, device: object = None) -> torch.Tensor:
            g = torch.Generator().manual_seed(seed)
            return (torch.rand(n, 3, 4, 4, generator=g) * 0.5 + self.b).clamp(0, 1).detach()

    p = PublishedProtocol(n_samples=30, seed=0, batch_size=10)
    parts = {"extractor": "x", "precision": "fp32", "device": "cpu"}
    a = generator_statistics(G(0.1), _Features(), p, False, key_parts=parts)
    f = _Features(fail_after=0)  # the same weights: read from the cache, no extractor call
    torch.testing.assert_close(generator_statistics(G(0.1), f, p, False, key_parts=parts)[0], a[0])
    unsampled = G(0.1)  # nor are the samples drawn again
    unsampled.sample = lambda *a, **k: (_ for _ in ()).throw(AssertionError("sampled although cached"))
    torch.testing.assert_close(generator_statistics(unsampled, f, p, False, key_parts=parts)[0], a[0])
    b = generator_statistics(G(0.3), _Features(), p, False, key_parts=parts)  # other weights: computed
    assert not torch.allclose(a[0], b[0])
    assert weights_digest(G(0.1)) == weights_digest(G(0.1)) != weights_digest(G(0.3))
    assert not list((tmp_path / "cache").glob("*.partial.*"))


def test_samples_only_caches_the_generated_half_that_the_full_evaluation_then_reads(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """`zoo eval --protocol fid50k-train --samples-only` needs no training images (it can run beside the
    once-per-machine train statistics); the full evaluation afterwards finds those statistics under its own
    key (it adds only the train statistics to the cache) and gives the figure a run from scratch gives."""
    from zoo.cli_train import eval as eval_cmd

    data = _tiny_cifar(tmp_path / "data")
    folder = tmp_path / "dcgan-cifar10"
    shutil.copytree(ROOT / "cards/zoo/dcgan-cifar10", folder)
    common = [str(folder), "--protocol", "fid50k-train", "-n", "12", "--precision", "bf16"]
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZOO_FEATURE_CACHE", str(cache))
    empty = tmp_path / "empty"  # no CIFAR-10 files at all: this step reads none
    empty.mkdir()
    r = CliRunner().invoke(eval_cmd, common + ["--data", str(empty), "--samples-only"])
    assert r.exit_code == 0, r.output
    assert "statistics of 12 samples" in r.output and "feature cache" in r.output
    assert len(list(cache.glob("stats-*.safetensors"))) == 1
    full = CliRunner().invoke(eval_cmd, common + ["--data", str(data), "--no-baseline"])
    assert full.exit_code == 0, full.output
    assert len(list(cache.glob("stats-*.safetensors"))) == 2  # + the train statistics; the samples' were read
    monkeypatch.setenv("ZOO_FEATURE_CACHE", str(tmp_path / "fresh"))
    again = CliRunner().invoke(eval_cmd, common + ["--data", str(data), "--no-baseline"])
    assert again.exit_code == 0, again.output
    figure = [x for x in full.output.splitlines() if "fid12_train" in x]
    assert figure and figure == [x for x in again.output.splitlines() if "fid12_train" in x]

    bad = CliRunner().invoke(eval_cmd, common + ["--data", str(data), "--samples-only", "--write"])
    assert bad.exit_code != 0 and "--samples-only" in str(bad.exception)
    bad = CliRunner().invoke(eval_cmd, [str(folder), "--data", str(data), "--samples-only"])
    assert bad.exit_code != 0 and "--protocol fid50k-train" in str(bad.exception)


@pytest.mark.skipif(not (ROOT / "cards/zoo/dcgan-cifar10/model.safetensors").exists(), reason="no dcgan card")
def test_a_10k_write_keeps_the_published_protocols_figures(tmp_path: Path) -> None:
    """`zoo eval FOLDER --write` (the 10k-vs-test protocol) replaces that protocol's figures and keeps
    fid50k_train and what is stored beside it: the order of the two evaluations does not matter."""
    from zoo.cards import check_card
    from zoo.cli_train import eval as eval_cmd
    from zoo.metrics.published_protocol import is_result_key

    folder = tmp_path / "dcgan-cifar10"
    shutil.copytree(ROOT / "cards/zoo/dcgan-cifar10", folder)
    before = json.loads((folder / "config.json").read_text())["metrics"]
    published = {k: v for k, v in before.items() if is_result_key(k)}
    assert "fid50k_train" in published and "fid50k_train_command" in published and "fid" not in published
    data = _tiny_cifar(tmp_path / "data", per_batch=4, n_test=12)
    r = CliRunner().invoke(eval_cmd, [str(folder), "--data", str(data), "-n", "12", "--no-baseline",
                                      "--precision", "bf16", "--write"])
    assert r.exit_code == 0, r.output
    metrics = json.loads((folder / "config.json").read_text())["metrics"]
    assert {k: metrics[k] for k in published} == published  # the published protocol's figures stay
    assert metrics["n_samples"] == 12 and metrics["fid"] != before["fid"]  # the 10k protocol's are replaced
    assert "fid_real_baseline" not in metrics  # --no-baseline: no stale baseline of the replaced figures
    card = (folder / "README.md").read_text()
    assert "fid50k_train" in card and check_card(card) == []
    assert not is_result_key("fid") and not is_result_key("fid_train") and is_result_key("fid12_train_precision")
