"""Vanilla GAN parity tests.

Compared against eriklindernoren/PyTorch-GAN implementations/gan/gan.py at
commit 022e6aa27debf6340706043c1020ea67c1bfa36f (as the search tool stores
it): module names (``model.N``), layer widths, BatchNorm1d(n, 0.8) meaning
eps=0.8, parameter counts computed by hand below, and outputs on fixed random
weights against a torch.nn.functional forward on the same tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import zoo
from _gan_helpers import component, meta_build, meta_component, n_params, randomize

G_KEYS = [
    "model.0.weight", "model.0.bias",
    "model.2.weight", "model.2.bias",
    *[f"model.3.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "model.5.weight", "model.5.bias",
    *[f"model.6.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "model.8.weight", "model.8.bias",
    *[f"model.9.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "model.11.weight", "model.11.bias",
]  # fmt: skip
D_KEYS = ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "model.4.weight", "model.4.bias"]


def test_parameter_counts():
    g = meta_build("gan")
    # 100*128+128 + 128*256+256 + 256*512+512 + 512*1024+1024 + 1024*784+784 + BN 2*(256+512+1024)
    assert n_params(g) == 12_928 + 33_024 + 131_584 + 525_312 + 803_600 + 3_584 == 1_510_032
    d = meta_component("gan")
    assert n_params(d) == 784 * 512 + 512 + 512 * 256 + 256 + 256 + 1 == 533_505


def test_keys_match_eriklindernoren():
    assert list(zoo.build("gan").state_dict()) == G_KEYS
    assert list(component("gan").state_dict()) == D_KEYS


def test_batchnorm_eps_is_textbook_by_default_and_the_references_0_8_on_request():
    g = zoo.build("gan", bn_eps=0.8)
    bns = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(bns) == 3
    assert all(bn.eps == 0.8 and bn.momentum == 0.1 for bn in bns)
    assert all(bn.eps == 1e-5 for bn in zoo.build("gan").modules() if isinstance(bn, torch.nn.BatchNorm1d))


def test_generator_matches_functional_forward():
    g = zoo.build("gan", bn_eps=0.8).eval()
    randomize(g, 1)
    sd = g.state_dict()
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    x = F.leaky_relu(F.linear(z, sd["model.0.weight"], sd["model.0.bias"]), 0.2)
    for lin, bn in ((2, 3), (5, 6), (8, 9)):
        x = F.linear(x, sd[f"model.{lin}.weight"], sd[f"model.{lin}.bias"])
        p = f"model.{bn}"
        x = F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"], False, 0.0, 0.8)
        x = F.leaky_relu(x, 0.2)
    x = torch.tanh(F.linear(x, sd["model.11.weight"], sd["model.11.bias"])).view(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(g(z), x, atol=1e-5)
    assert torch.allclose(g.sample(4, seed=0), (x + 1) / 2, atol=1e-5)  # sample: same latent, [0, 1]


def test_discriminator_matches_functional_forward_and_returns_logits():
    d = component("gan").eval()
    randomize(d, 2, scale=1.0)
    sd = d.state_dict()
    img = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(3)) * 2 - 1
    h = F.leaky_relu(F.linear(img.flatten(1), sd["model.0.weight"], sd["model.0.bias"]), 0.2)
    h = F.leaky_relu(F.linear(h, sd["model.2.weight"], sd["model.2.bias"]), 0.2)
    logits = F.linear(h, sd["model.4.weight"], sd["model.4.bias"]).view(-1)
    with torch.no_grad():
        out = d(img)
        assert out.shape == (5,)
        assert torch.allclose(out, logits, atol=1e-4)
        assert torch.allclose(d.probability(img), torch.sigmoid(logits), atol=1e-5)
        assert (out.abs() > 1).any()  # logits, not probabilities


def test_other_sizes_and_recipe():
    g = zoo.build("gan", nc=3, image_size=16, nz=8)
    assert g.sample(2, seed=0).shape == (2, 3, 16, 16)
    arch = zoo.model_info("gan").architecture
    r = arch.recipes[arch.default_recipe]
    assert r["loss"] == "bce-nonsaturating" and tuple(r["betas"]) == (0.5, 0.999) and r["batch_size"] == 64


def test_every_gan_family_recipe_parses_for_the_trainer():
    from zoo.training.recipes import architecture_recipe

    seen = {}
    for name in ("dcgan", "gan", "wgan", "wgan-gp", "sngan"):
        arch = zoo.model_info(name).architecture
        assert arch.default_recipe in arch.recipes
        for recipe in arch.recipes:
            r = architecture_recipe(arch, recipe)
            assert r.source  # every recipe names where it comes from
            seen[(name, recipe)] = r
    assert seen[("wgan", "paper")].clip == 0.01 and seen[("wgan", "paper")].optimizer == "rmsprop"
    assert seen[("wgan-gp", "reference")].gp_lambda == 10.0
    assert seen[("sngan", "resnet")].steps == 50000 and seen[("sngan", "resnet")].loss == "hinge"
    assert seen[("dcgan", "paper")].batch_size == 128
