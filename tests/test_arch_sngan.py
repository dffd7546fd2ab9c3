"""SN-GAN parity tests.

Compared against w86763777/pytorch-gan-collections source/models/sngan.py at
commit f553c71b9cc3a512c74a516ac7150c7a00ee084b (module names, widths, the
ResNet blocks) and Miyato et al. 2018 Tables 3 and 4 (layer sequence);
parameter counts computed by hand below; outputs on fixed random weights
against a torch.nn.functional forward that applies W / sigma(W) with the
stored u and v itself.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import zoo
from _gan_helpers import component, meta_build, meta_component, n_params, randomize


def _sn_weight(sd, prefix):
    w = sd[prefix + ".parametrizations.weight.original"]
    u, v = sd[prefix + ".parametrizations.weight.0._u"], sd[prefix + ".parametrizations.weight.0._v"]
    return w / torch.dot(u, w.flatten(1) @ v)


def test_cnn_parameter_counts():
    g = meta_build("sngan", net="cnn")
    # dense 128->4*4*512 (+bias), BN 512, deconv 512->256, BN, 256->128, BN, 128->64, BN, conv 64->3 3x3
    expected_g = (128 * 8192 + 8192) + 2 * 512 + (512 * 256 * 16 + 256) + 2 * 256 + (256 * 128 * 16 + 128) + 2 * 128 + (128 * 64 * 16 + 64) + 2 * 64 + (64 * 3 * 9 + 3)
    assert n_params(g) == expected_g == 3_813_379
    d = meta_component("sngan", net="cnn")
    widths = [(3, 64, 3), (64, 128, 4), (128, 128, 3), (128, 256, 4), (256, 256, 3), (256, 512, 4), (512, 512, 3)]
    expected_d = sum(a * b * k * k + b for a, b, k in widths) + 4 * 4 * 512 + 1
    assert n_params(d) == expected_d == 5_860_865


def test_resnet_parameter_counts():
    g = meta_build("sngan", net="resnet")
    block = 2 * 256 + (256 * 256 * 9 + 256) + 2 * 256 + (256 * 256 * 9 + 256) + (256 * 256 + 256)
    expected_g = (128 * 4096 + 4096) + 3 * block + 2 * 256 + (256 * 3 * 9 + 3)
    assert n_params(g) == expected_g == 4_276_739  # the ~4.3 M usually quoted for SN-GAN ResNet CIFAR G
    d = meta_component("sngan", net="resnet")
    opt = (3 * 128 * 9 + 128) + (128 * 128 * 9 + 128) + (3 * 128 + 128)
    down = 2 * (128 * 128 * 9 + 128) + (128 * 128 + 128)
    plain = 2 * (128 * 128 * 9 + 128)
    assert n_params(d) == opt + down + 2 * plain + 128 == 1_053_824


def test_spectral_norm_keys_and_no_sn_in_generators():
    d = meta_component("sngan", net="cnn")
    keys = list(d.state_dict())
    for i in (0, 2, 4, 6, 8, 10, 12):
        for suffix in ("bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"):
            assert f"main.{i}.{suffix}" in keys
    assert "linear.parametrizations.weight.original" in keys
    r = meta_component("sngan", net="resnet").state_dict()
    assert "model.0.residual.0.parametrizations.weight.original" in r
    assert "model.2.shortcut.0.parametrizations.weight.original" not in r  # identity shortcut, as upstream
    assert "linear.bias" not in r
    for net in ("cnn", "resnet"):
        assert not any("parametrizations" in k for k in meta_build("sngan", net=net).state_dict())


def test_cnn_discriminator_matches_functional_forward():
    d = component("sngan", net="cnn", d_ch=32).eval()
    randomize(d, 1, scale=0.3)
    sd = d.state_dict()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    h = x
    for i in range(7):
        k, s = (4, 2) if i % 2 == 1 else (3, 1)
        h = F.leaky_relu(F.conv2d(h, _sn_weight(sd, f"main.{2 * i}"), sd[f"main.{2 * i}.bias"], stride=s, padding=1), 0.1)
    out = F.linear(h.flatten(1), _sn_weight(sd, "linear"), sd["linear.bias"]).view(-1)
    with torch.no_grad():
        assert torch.allclose(d(x), out, atol=1e-5)


def test_resnet_discriminator_matches_functional_forward():
    d = component("sngan", net="resnet", d_ch=16).eval()
    randomize(d, 2, scale=0.3)
    sd = d.state_dict()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))

    def conv(h, p, pad):
        return F.conv2d(h, _sn_weight(sd, p), sd[p + ".bias"], padding=pad)

    h = F.avg_pool2d(conv(F.relu(conv(x, "model.0.residual.0", 1)), "model.0.residual.2", 1), 2) + conv(
        F.avg_pool2d(x, 2), "model.0.shortcut.1", 0
    )
    h = F.avg_pool2d(conv(F.relu(conv(F.relu(h), "model.1.residual.1", 1)), "model.1.residual.3", 1), 2) + F.avg_pool2d(
        conv(h, "model.1.shortcut.0", 0), 2
    )
    for b in (2, 3):
        h = conv(F.relu(conv(F.relu(h), f"model.{b}.residual.1", 1)), f"model.{b}.residual.3", 1) + h
    out = F.linear(F.relu(h).sum(dim=(2, 3)), _sn_weight(sd, "linear")).view(-1)
    with torch.no_grad():
        assert torch.allclose(d(x), out, atol=1e-5)


def test_resnet_generator_matches_functional_forward():
    g = zoo.build("sngan", net="resnet", g_ch=16, nz=8).eval()
    randomize(g, 3, scale=0.3)
    sd = g.state_dict()
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(1))

    def bn(h, p):
        return F.batch_norm(h, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"], False, 0.0, 1e-5)

    def conv(h, p, pad):
        return F.conv2d(h, sd[p + ".weight"], sd[p + ".bias"], padding=pad)

    h = F.linear(z, sd["linear.weight"], sd["linear.bias"]).view(2, 16, 4, 4)
    for b in range(3):
        p = f"blocks.{b}"
        r = F.interpolate(F.relu(bn(h, p + ".residual.0")), scale_factor=2, mode="nearest")
        r = conv(F.relu(bn(conv(r, p + ".residual.3", 1), p + ".residual.4")), p + ".residual.6", 1)
        h = r + conv(F.interpolate(h, scale_factor=2, mode="nearest"), p + ".shortcut.1", 0)
    out = torch.tanh(conv(F.relu(bn(h, "output.0")), "output.2", 1))
    with torch.no_grad():
        assert torch.allclose(g(z), out, atol=1e-5)


def test_cnn_generator_matches_functional_forward():
    g = zoo.build("sngan", net="cnn", g_ch=32, nz=8, nc=1).eval()
    randomize(g, 4, scale=0.3)
    sd = g.state_dict()
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(1))

    def bn(h, p):
        return F.batch_norm(h, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"], False, 0.0, 1e-5)

    h = F.relu(bn(F.linear(z, sd["linear.weight"], sd["linear.bias"]).view(2, 32, 4, 4), "main.0"))
    for c, b in ((2, 3), (5, 6), (8, 9)):
        h = F.relu(bn(F.conv_transpose2d(h, sd[f"main.{c}.weight"], sd[f"main.{c}.bias"], stride=2, padding=1), f"main.{b}"))
    out = torch.tanh(F.conv2d(h, sd["main.11.weight"], sd["main.11.bias"], padding=1))
    with torch.no_grad():
        assert torch.allclose(g(z), out, atol=1e-5)
    assert g.sample(3, seed=0).shape == (3, 1, 32, 32)  # the MNIST variant: nc=1, 28 px padded to 32


def test_power_iteration_runs_in_train_mode_only():
    d = component("sngan", net="cnn", d_ch=16)
    x = torch.randn(2, 3, 32, 32)
    key = "main.0.parametrizations.weight.0._u"
    u0 = d.state_dict()[key].clone()
    d.eval()
    with torch.no_grad():
        d(x)
    assert torch.equal(d.state_dict()[key], u0)
    d.train()
    d(x)
    assert not torch.equal(d.state_dict()[key], u0)


@pytest.mark.parametrize("net", ["cnn", "resnet"])
def test_meta_build_and_safetensors_round_trip_of_spectral_norm(tmp_path, net):
    from safetensors.torch import save_file

    from zoo.loading import load_state

    cfg = {"net": net, "d_ch": 16, "nz": 8}
    d = component("sngan", **cfg).eval()
    randomize(d, 6, scale=0.3)
    path = tmp_path / "d.safetensors"
    save_file(d.state_dict(), str(path))
    with torch.device("meta"):
        m = component("sngan", **cfg)
    assert all(t.is_meta for t in m.state_dict().values())
    load_state(m, str(path), name="sngan.d")
    m.eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(m(x), d(x), atol=1e-6)
    g = zoo.build("sngan", net=net, g_ch=16, nz=8)
    save_file(g.state_dict(), str(tmp_path / "g.safetensors"))
    with torch.device("meta"):
        mg = zoo.build("sngan", net=net, g_ch=16, nz=8)
    load_state(mg, str(tmp_path / "g.safetensors"), name="sngan.g")
    assert torch.equal(mg.sample(2, seed=1), g.sample(2, seed=1))


def test_config_and_recipes():
    with pytest.raises(zoo.ConfigError, match="32 px"):
        zoo.build("sngan", net="resnet", image_size=48)
    assert zoo.build("sngan", net="cnn", image_size=48, g_ch=32).sample(1, seed=0).shape == (1, 3, 48, 48)
    arch = zoo.model_info("sngan").architecture
    assert arch.recipes["cnn"]["n_critic"] == 1 and arch.recipes["resnet"]["n_critic"] == 5
    assert arch.recipes["resnet"]["loss"] == arch.recipes["cnn"]["loss"] == "hinge"
    assert tuple(arch.recipes["resnet"]["betas"]) == (0.0, 0.9)
