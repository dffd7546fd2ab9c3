"""FID/KID plumbing, the toy mode-collapse metrics, cards written by training (fast)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from zoo.metrics.classifier import FeatureExtractor, build, load_classifier
from zoo.metrics.evaluate import compare
from zoo.metrics.fid import Evaluator, Protocol
from zoo.metrics.toy import ToyD, ToyG, mode_stats, run_one, sample_mixture

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


# -- toy benchmark metrics ----------------------------------------------------------
@pytest.mark.parametrize("name,k", [("ring", 8), ("grid", 25)])
def test_true_mixture_scores_perfectly(name, k):
    x = sample_mixture(name, 2500, torch.Generator().manual_seed(0))
    s = mode_stats(x, name)
    assert s.modes == k
    # P(chi2 with 2 dof < 9) = 1 - exp(-4.5) = 0.9889
    assert s.hq == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert s.reverse_kl < 0.02


def test_collapsed_generator_scores_badly():
    x = torch.tensor([[1.0, 0.0]]).repeat(100, 1) + 0.001 * torch.randn(100, 2)
    s = mode_stats(x, "ring")
    assert s.modes == 1 and s.hq == 1.0 and s.reverse_kl == pytest.approx(math.log(8))
    far = mode_stats(torch.full((50, 2), 10.0), "grid")
    assert far.modes == 0 and far.hq == 0.0


def test_toy_networks_have_pacgan_sizes():
    G, D = ToyG(), ToyD()
    assert [m.out_features for m in G.modules() if isinstance(m, torch.nn.Linear)] == [400, 400, 400, 400, 2]
    assert [m.out_features for m in D.modules() if isinstance(m, torch.nn.Linear)] == [1000, 1000, 1000, 1]
    sn = ToyD(spectral_norm=True)
    assert any("parametrizations" in n for n, _ in sn.named_parameters())


def test_toy_run_is_reproducible():
    a, xa = run_one("gan", "ring", 0, 5, n_train=1000)
    b, xb = run_one("gan", "ring", 0, 5, n_train=1000)
    assert torch.equal(xa, xb) and a.modes == b.modes


# -- FID / KID through torchmetrics ------------------------------------------------
def _blobs(n: int, seed: int, bright: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 32, 32, generator=g) * bright).clamp(0, 1)


@pytest.mark.slow  # importing torchmetrics alone takes seconds
def test_fid_kid_separate_like_from_unlike():
    torch.manual_seed(0)
    clf = build(channels=1, width=8).eval()
    p = Protocol(n_samples=200, kid_subsets=10, kid_subset_size=50, batch_size=100)
    ev = Evaluator(clf, _blobs(200, 0, 1.0), p)
    same = ev.score_images(_blobs(200, 1, 1.0))
    other = ev.score_images(_blobs(200, 2, 0.3))
    assert same["fid"] < other["fid"] and same["kid"] < other["kid"]
    assert other["fid"] > 10 * max(same["fid"], 1e-6)
    # the reference is kept across scores: scoring again gives the same number
    assert ev.score_images(_blobs(200, 1, 1.0))["fid"] == pytest.approx(same["fid"], rel=1e-9)


def test_feature_extractor_shape_and_resizing():
    fx = FeatureExtractor(build(channels=1, width=8))
    assert fx.num_features == 128
    assert fx(torch.rand(3, 1, 28, 28)).shape == (3, 128)
    assert fx(torch.rand(3, 3, 32, 32)).shape == (3, 128)  # RGB averaged to gray


def test_compare_flags_only_real_differences():
    card = {"fid": 10.0, "kid": 0.010, "kid_std": 0.001}
    assert compare(card, {"fid": 10.3, "kid": 0.0105, "kid_std": 0.001}) == []
    probs = compare(card, {"fid": 12.0, "kid": 0.02, "kid_std": 0.001})
    assert len(probs) == 2 and "fid" in probs[0]


# -- cards written by `zoo train` --------------------------------------------------
def test_rendered_card_passes_the_zoo_schema():
    from zoo.cards import check_card
    from zoo.training.export import render_card

    config = {
        "architecture": "dcgan", "config": {"nz": 100, "ngf": 32, "ndf": 32, "nc": 1, "image_size": 32},
        "recipe_name": "paper", "recipe": {"loss": "bce-nonsaturating", "lr_g": 2e-4}, "dataset": "mnist",
        "training": {"image_size": 32, "steps": 10, "seed": 0, "global_batch": 128, "wall_time_s": 1.0,
                     "machine": "test", "command": "zoo train dcgan ...", "dataset_files": {"a.gz": "0" * 64}},
        "metrics": {"fid": 3.2, "kid": 0.002, "kid_std": 0.0001, "fid_real_baseline": 0.3,
                    "kid_real_baseline": 0.0001, "n_samples": 10000, "reference_split": "test",
                    "protocol": "p", "extractor": "e"},
    }
    text = render_card(config)
    assert check_card(text) == [], check_card(text)
    assert "zoo.load(\"dcgan.mnist\")" in text and "3.2" in text
    assert "## Notes" not in text
    config["notes"] = ["First paragraph.", "Second paragraph."]
    text = render_card(config)
    assert "## Notes\n\nFirst paragraph.\n\nSecond paragraph.\n\n## Limitations" in text
    assert check_card(text) == []
    config["metrics"] = {}
    assert any("model-index" in p.message for p in check_card(render_card(config)))  # no metrics yet


def test_inception_card_quotes_the_published_number_with_its_source_and_says_what_differs():
    import yaml

    from zoo.cards import check_card
    from zoo.training.export import render_card

    config = {
        "architecture": "dcgan", "config": {"nz": 100, "ngf": 64, "ndf": 64, "nc": 3, "image_size": 32},
        "recipe_name": "paper", "recipe": {"loss": "bce-nonsaturating"}, "dataset": "cifar10",
        "training": {"image_size": 32, "steps": 10, "seed": 0, "global_batch": 128, "wall_time_s": 1.0,
                     "machine": "test", "command": "zoo train dcgan ...", "dataset_files": {"a.zip": "0" * 64}},
        "metrics": {"fid": 80.0, "kid": 0.08, "kid_std": 0.001, "fid_real_baseline": 5.0, "n_samples": 5000,
                    "reference_split": "test", "protocol": "p", "extractor": "zoo inception.fid (TF 2015-12-05)"},
        "published": {"fid": 42.72, "source": "w86763777/pytorch-gan-collections", "split": "train",
                      "url": "https://github.com/w86763777/pytorch-gan-collections",
                      "protocol": "Inception features, 50k samples vs the train set"},
    }
    text = render_card(config)
    assert check_card(text) == [], check_card(text)
    front = yaml.safe_load(text.split("---")[1])
    results = front["model-index"][0]["results"]
    quoted = [r for r in results if "source" in r]
    assert quoted and quoted[0]["source"]["name"] == "w86763777/pytorch-gan-collections"
    assert quoted[0]["metrics"][0] == {"type": "fid", "value": 42.72, "name": quoted[0]["metrics"][0]["name"]}
    assert "Published for this recipe: FID 42.72" in text
    assert "stand beside published Inception FIDs" in text and "not Inception" not in text


# -- published folders (need the files in cards/ and, for accuracy, the data) -------
CLF = ROOT / "cards" / "zoo" / "classifier-mnist"
DATA = os.environ.get("ZOO_DATA_DIR")


@pytest.mark.skipif(not (CLF / "model.safetensors").exists(), reason="cards/zoo/classifier-mnist not trained yet")
@pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: the MNIST test split is needed")
def test_published_classifier_accuracy_matches_its_card():
    from zoo.metrics.classifier import accuracy
    from zoo.training import load_dataset

    test = load_dataset("mnist", Path(DATA) / "mnist", "test").resized(32)
    clf = load_classifier(CLF)
    acc = accuracy(clf, test.images[:2000], test.labels[:2000])
    claimed = json.loads((CLF / "config.json").read_text())["test_accuracy"]
    assert acc > 0.97 and abs(acc - claimed) < 0.01
