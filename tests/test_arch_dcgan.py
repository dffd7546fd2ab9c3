"""DCGAN parity tests.

Compared against pytorch/examples dcgan/main.py at commit
00b1e34c536d1cd312f561bc8bceea3e78e74071 (the version the search tool stores):
layer order and parameter names of ``_netG``/``_netD`` (``main.N``), parameter
counts, and outputs on fixed random weights against a forward pass written
here with torch.nn.functional on the same tensors.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import zoo
from zoo.generative import ImageGenerator

# keys of pytorch/examples' netG/netD state dicts (64 px), written out by hand
UPSTREAM_G_KEYS = [
    "main.0.weight",
    *[f"main.{i}.{s}" for i in (1,) for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.3.weight",
    *[f"main.4.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.6.weight",
    *[f"main.7.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.9.weight",
    *[f"main.10.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.12.weight",
]
UPSTREAM_D_KEYS = [
    "main.0.weight",
    "main.2.weight",
    *[f"main.3.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.5.weight",
    *[f"main.6.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.8.weight",
    *[f"main.9.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")],
    "main.11.weight",
]


def _randomize(module: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.dtype.is_floating_point:
                if name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=g) * 0.1)


def _discriminator(**cfg):
    from zoo_dcgan.model import build_discriminator

    return build_discriminator(**zoo.model_info("dcgan").architecture.validate_config(cfg))


def test_parameter_counts_match_reference():
    g = zoo.build("dcgan", nc=3, ngf=64, nz=100, image_size=64)
    assert sum(p.numel() for p in g.parameters()) == 3_576_704  # issue 2 / pytorch/examples
    d = _discriminator(nc=3, ndf=64, image_size=64)
    # 3*64*16 + 64*128*16 + 128*256*16 + 256*512*16 + 512*16 + BN (2*(128+256+512))
    assert sum(p.numel() for p in d.parameters()) == 2_765_568


def test_state_dict_keys_match_pytorch_examples():
    g = zoo.build("dcgan")
    assert list(g.state_dict()) == UPSTREAM_G_KEYS
    d = _discriminator()
    assert list(d.state_dict()) == UPSTREAM_D_KEYS
    sd = g.state_dict()
    assert tuple(sd["main.0.weight"].shape) == (100, 512, 4, 4)
    assert tuple(sd["main.12.weight"].shape) == (64, 3, 4, 4)
    assert tuple(d.state_dict()["main.11.weight"].shape) == (1, 512, 4, 4)


@pytest.mark.parametrize("size,n_g,n_d", [(32, 4, 4), (64, 5, 5)])
def test_shapes_at_both_sizes(size, n_g, n_d):
    g = zoo.build("dcgan", nc=1, image_size=size, ngf=8, ndf=8, nz=16)
    d = _discriminator(nc=1, image_size=size, ngf=8, ndf=8, nz=16)
    convs = [m for m in g.main if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == n_g
    z = torch.randn(5, 16, 1, 1)
    x = g(z)
    assert x.shape == (5, 1, size, size)
    assert torch.equal(g(z.flatten(1)), x)  # flat latents accepted
    assert d(x).shape == (5,)
    assert len([m for m in d.main if isinstance(m, torch.nn.Conv2d)]) == n_d


def _bn(x, sd, p):
    return F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"], False, 0.0, 1e-5)


def test_generator_matches_functional_forward():
    g = zoo.build("dcgan", nz=20, ngf=8, nc=3, image_size=64).eval()
    _randomize(g, 1)
    sd = g.state_dict()
    z = torch.randn(3, 20, 1, 1, generator=torch.Generator().manual_seed(2))
    x = F.conv_transpose2d(z, sd["main.0.weight"], stride=1, padding=0)
    for conv, bn in ((3, 1), (6, 4), (9, 7), (12, 10)):
        x = F.relu(_bn(x, sd, f"main.{bn}"))
        x = F.conv_transpose2d(x, sd[f"main.{conv}.weight"], stride=2, padding=1)
    expected = torch.tanh(x)
    with torch.no_grad():
        assert torch.allclose(g(z), expected, atol=1e-5)


def test_discriminator_matches_functional_forward():
    d = _discriminator(ndf=8, nc=3, image_size=64).eval()
    _randomize(d, 3)
    sd = d.state_dict()
    img = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(4)) * 2 - 1
    x = F.leaky_relu(F.conv2d(img, sd["main.0.weight"], stride=2, padding=1), 0.2)
    for conv, bn in ((2, 3), (5, 6), (8, 9)):
        x = F.leaky_relu(_bn(F.conv2d(x, sd[f"main.{conv}.weight"], stride=2, padding=1), sd, f"main.{bn}"), 0.2)
    logits = F.conv2d(x, sd["main.11.weight"]).view(-1)
    with torch.no_grad():
        assert torch.allclose(d(img), logits, atol=1e-5)
        assert torch.allclose(d.probability(img), torch.sigmoid(logits), atol=1e-6)


def test_sample_is_deterministic_in_unit_range_and_batch_independent():
    g = zoo.build("dcgan", nc=1, image_size=32, ngf=16, nz=32)
    assert isinstance(g, ImageGenerator) and g.latent_dim == 32
    state = torch.random.get_rng_state()
    a = g.sample(10, seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched
    b = g.sample(10, seed=7, batch_size=3)
    c = g.sample(10, seed=8)
    assert a.shape == (10, 1, 32, 32) and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(a, c)
    assert g.training  # sample restores the mode
    assert g.sample(0).shape == (0, 1, 32, 32)


def test_sample_maps_tanh_range_to_unit_range():
    g = zoo.build("dcgan", nc=1, image_size=32, ngf=8, nz=8).eval()
    gen = torch.Generator().manual_seed(5)
    z = g.latent(4, gen)
    with torch.no_grad():
        raw = g(z)
    assert torch.allclose(g.sample(4, seed=5), (raw + 1) / 2, atol=1e-6)


def test_channels_last_gives_same_images():
    g = zoo.build("dcgan", nc=3, image_size=32, ngf=16, nz=16)
    a = g.sample(6, seed=1)
    g.channels_last()
    assert g.main[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(g.sample(6, seed=1), a, atol=1e-5)


def test_meta_build_and_safetensors_round_trip(tmp_path):
    from safetensors.torch import save_file

    from zoo.loading import load_state

    g = zoo.build("dcgan", nc=1, image_size=32, ngf=8, nz=10)
    _randomize(g, 9)
    path = tmp_path / "model.safetensors"
    save_file(g.state_dict(), str(path))
    with torch.device("meta"):
        m = zoo.build("dcgan", nc=1, image_size=32, ngf=8, nz=10)
    assert next(m.parameters()).is_meta
    load_state(m, str(path), name="dcgan.test")
    assert torch.equal(m.sample(3, seed=0), g.sample(3, seed=0))


def test_bad_config_is_a_config_error():
    with pytest.raises(zoo.ConfigError, match="image_size"):
        zoo.build("dcgan", image_size=48)
    with pytest.raises(zoo.ConfigError, match="nz"):
        zoo.build("dcgan", nz=0)


def test_registration_record():
    arch = zoo.model_info("dcgan").architecture
    assert arch.default_tag == "mnist"
    assert arch.components["discriminator"] == "zoo_dcgan.model:build_discriminator"
    r = arch.recipes[arch.default_recipe]
    assert r["lr_g"] == 2e-4 and tuple(r["betas"]) == (0.5, 0.999) and r["batch_size"] == 128
    assert "pytorch-examples" in arch.converters


def test_registration_imports_no_torch():
    code = "import sys, zoo_dcgan; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sample_on_another_device_than_the_weights_says_the_fix():
    g = zoo.build("dcgan", nc=1, image_size=32, ngf=4, nz=4)
    with pytest.raises(ValueError, match="move the model first"):
        g.sample(1, device="meta")
