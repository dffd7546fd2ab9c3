"""The judge's style loss split by layer (zoo_adain.evaluate.style_loss_by_layer, bench_adain_eval --layers):
the terms are the paper's, layer by layer, and add up to the figure the judge reports."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from zoo_adain import evaluate as J  # noqa: E402
from zoo_adain import recipe as R  # noqa: E402

from test_adain_training import _random_vgg16  # noqa: E402


def test_the_layers_add_up_to_the_judges_style_loss(tmp_path):
    judge = J.judge_network(str(_random_vgg16(tmp_path / "vgg16.safetensors")))
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(1, 3, 48, 48, generator=g), torch.rand(1, 3, 48, 48, generator=g)
    out = (c * 0.5 + 0.25).clamp(0, 1)
    with torch.no_grad():
        split = J.style_loss_by_layer(judge, out, s)
        total = J.scores(judge, out, c, s)["style"]
        fo, fs = judge.forward_features(out), judge.forward_features(s)
    assert len(split) == 2 * len(fo) == 8
    assert sum(split) == pytest.approx(total, rel=1e-5)
    # relu2_1's std term, by hand: MSE of the per-channel stds (unbiased, + eps)
    std = lambda f: (f.flatten(2).var(2) + 1e-5).sqrt()  # noqa: E731
    assert split[3] == pytest.approx(float(((std(fo[1]) - std(fs[1])) ** 2).mean()), rel=1e-5)
    assert split[0] == pytest.approx(float(((fo[0].mean((2, 3)) - fs[0].mean((2, 3))) ** 2).mean()), rel=1e-5)
    assert all(v >= 0 for v in split) and split != [0.0] * 8
    assert float(R.style_loss(fo, fs)) == pytest.approx(total, rel=1e-6)
