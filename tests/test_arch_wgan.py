"""WGAN and WGAN-GP: the critic (no sigmoid, its normalisation), the networks
it shares with DCGAN and the vanilla GAN, and the recipes.

References: eriklindernoren/PyTorch-GAN implementations/wgan/wgan.py at
c5d6be17 and wgan_gp/wgan_gp.py at 0484f457 (MLP critic 784-512-256-1 without
sigmoid; same generator keys as gan.py); pytorch/examples dcgan (00b1e34c)
for the DCGAN networks.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import zoo
from _gan_helpers import component, meta_build, meta_component, n_params, randomize


@pytest.mark.parametrize("arch", ["wgan", "wgan-gp"])
def test_mlp_networks_are_eriklindernorens(arch):
    g = meta_build(arch, net="mlp", nc=1, image_size=28)
    assert n_params(g) == 1_510_032
    d = meta_component(arch, net="mlp", nc=1, image_size=28)
    assert list(d.state_dict()) == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias", "model.4.weight", "model.4.bias"]
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in d.modules())


def test_wgan_dcgan_critic_keeps_batch_norm_and_has_no_sigmoid():
    d = meta_component("wgan", net="dcgan", nc=3, image_size=64)
    assert n_params(d) == 2_765_568  # the DCGAN discriminator's parameters
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules()) == 3
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in d.modules())
    assert n_params(meta_build("wgan", net="dcgan", nc=3, image_size=64)) == 3_576_704


def test_wgan_gp_critic_has_no_batch_norm():
    d = component("wgan-gp", net="dcgan", nc=3, image_size=32)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert list(d.state_dict()) == ["main.0.weight", "main.2.weight", "main.5.weight", "main.8.weight"]
    ln = component("wgan-gp", net="dcgan", nc=3, image_size=32, critic_norm="layer")
    assert [k for k in ln.state_dict() if not k.endswith(".weight") or "main.3" in k][:2] == ["main.3.weight", "main.3.bias"]


def test_wgan_gp_layer_norm_critic_matches_functional_forward():
    d = component("wgan-gp", net="dcgan", nc=1, image_size=32, ndf=4, critic_norm="layer").eval()
    randomize(d, 5, scale=0.5)
    sd = d.state_dict()
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    h = F.leaky_relu(F.conv2d(x, sd["main.0.weight"], stride=2, padding=1), 0.2)
    for conv, ln in ((2, 3), (5, 6)):
        h = F.conv2d(h, sd[f"main.{conv}.weight"], stride=2, padding=1)
        # layer norm over (C, H, W) per sample, then a per-channel affine
        mu = h.mean(dim=(1, 2, 3), keepdim=True)
        var = h.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        h = (h - mu) / torch.sqrt(var + 1e-5) * sd[f"main.{ln}.weight"][:, None, None] + sd[f"main.{ln}.bias"][:, None, None]
        h = F.leaky_relu(h, 0.2)
    out = F.conv2d(h, sd["main.8.weight"]).view(-1)
    with torch.no_grad():
        assert torch.allclose(d(x), out, atol=1e-5)


def test_critic_scores_are_per_sample_without_batch_mixing():
    # the gradient penalty needs D(x_i) to depend on x_i only
    d = component("wgan-gp", net="dcgan", nc=1, image_size=32, ndf=8).train()
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(d(x)[:1], d(x[:1]), atol=1e-5)


def test_config_errors_say_the_fix():
    with pytest.raises(zoo.ConfigError, match="net 'mlp'"):
        zoo.build("wgan", net="dcgan", image_size=28)
    with pytest.raises(zoo.ConfigError, match="critic_norm"):
        zoo.build("wgan", critic_norm="layer")  # only wgan-gp has the key
    with pytest.raises(zoo.ConfigError):
        zoo.build("wgan-gp", critic_norm="batch")


def test_recipes():
    w = zoo.model_info("wgan").architecture
    r = w.recipes[w.default_recipe]
    assert (r["optimizer"], r["lr_d"], r["clip_value"], r["n_critic"]) == ("rmsprop", 5e-5, 0.01, 5)
    gp = zoo.model_info("wgan-gp").architecture
    r = gp.recipes[gp.default_recipe]
    assert (r["optimizer"], r["lr_d"], tuple(r["betas"]), r["gp_lambda"], r["n_critic"]) == ("adam", 1e-4, (0.5, 0.9), 10.0, 5)
    assert tuple(gp.recipes["paper"]["betas"]) == (0.0, 0.9)
