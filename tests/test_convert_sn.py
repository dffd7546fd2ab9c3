"""Spectral-norm folding against torch's own ``spectral_norm`` (ConvTranspose2d included), and the
StudioGAN converters' refusal of class-conditional generators.

Facts used (read, not imported): torch.nn.utils.spectral_norm normalises ConvTranspose weights along
dim 1 and others along dim 0, and in eval mode divides by sigma = u . (W_mat v) with the stored u, v;
POSTECH-CVLab/PyTorch-StudioGAN src/utils/ops.py (commit 11d5b2a6) ConditionalBatchNorm2d has ``bn``
(affine=False) and class embeddings ``embed0``/``embed1``; src/configs/CIFAR10/SNGAN.yaml (07cc4408) sets
MODEL.g_cond_mtd "cBN"; src/config.py's default is "W/O"; DCGAN.yaml uses backbone deep_conv.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

import zoo
from _gan_helpers import randomize
from zoo.convert import convert, fold_spectral_norm


def _torch_sn_state(module: nn.Module, steps: int = 3) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Train-mode passes to move u and v off their start, then torch's eval-mode weight of layer 0."""
    model = nn.Sequential(nn.utils.spectral_norm(module))
    x = torch.randn(2, module.in_channels, 3, 3)
    model.train()
    for _ in range(steps):
        model(x)
    model.eval()
    with torch.no_grad():
        model(x)  # eval: weight = weight_orig / sigma with the stored u, v
    return {k: v.clone() for k, v in model.state_dict().items()}, model[0].weight.detach().clone()


def test_fold_matches_torch_spectral_norm_on_conv_transpose():
    torch.manual_seed(0)
    state, expected = _torch_sn_state(nn.ConvTranspose2d(8, 4, 4, 2, 1))
    folded = fold_spectral_norm(state)  # in 8 != out 4: dim 1 is read from the lengths of u and v
    assert set(folded) == {"0.weight", "0.bias"}
    assert torch.allclose(folded["0.weight"], expected, rtol=1e-5, atol=1e-7)


def test_fold_of_a_square_conv_transpose_needs_its_dim_named():
    torch.manual_seed(1)
    state, expected = _torch_sn_state(nn.ConvTranspose2d(6, 6, 4, 2, 1))
    assert torch.allclose(fold_spectral_norm(state, dims={"0": 1})["0.weight"], expected, rtol=1e-5, atol=1e-7)
    # read as a Conv (dim 0), the square weight gives another sigma: the dim matters
    assert not torch.allclose(fold_spectral_norm(state)["0.weight"], expected, rtol=1e-5, atol=1e-7)


def test_fold_still_matches_on_conv2d_and_linear():
    torch.manual_seed(2)
    state, expected = _torch_sn_state(nn.Conv2d(4, 8, 3, 1, 1))
    assert torch.allclose(fold_spectral_norm(state)["0.weight"], expected, rtol=1e-5, atol=1e-7)
    lin = nn.Sequential(nn.utils.spectral_norm(nn.Linear(5, 7)))
    lin.train()
    lin(torch.randn(3, 5))
    lin.eval()
    with torch.no_grad():
        lin(torch.randn(1, 5))
    got = fold_spectral_norm(lin.state_dict())["0.weight"]
    assert torch.allclose(got, lin[0].weight, rtol=1e-5, atol=1e-7)


def test_fold_rejects_vectors_that_fit_no_dim():
    w = torch.randn(4, 5, 3, 3)
    with pytest.raises(zoo.ConversionError, match="neither dim 0 nor dim 1"):
        fold_spectral_norm({"l.weight_orig": w, "l.weight_u": torch.randn(3), "l.weight_v": torch.randn(7)})


# -- StudioGAN deep_conv with g_spectral_norm: ConvTranspose2d layers under spectral norm ------------

def _bn(c):
    return nn.BatchNorm2d(c, eps=1e-4, momentum=0.1)


class SNDeepConvBlock(nn.Module):  # StudioGAN deep_conv.GenBlock, unconditional, apply_g_sn
    def __init__(self, cin, cout):
        super().__init__()
        self.deconv0 = nn.utils.spectral_norm(nn.ConvTranspose2d(cin, cout, 4, 2, 1), eps=1e-6)
        self.bn0 = _bn(cout)

    def forward(self, x):
        return F.relu(self.bn0(self.deconv0(x)))


class SNDeepConvG(nn.Module):  # StudioGAN deep_conv.Generator (widths / 8), apply_g_sn
    def __init__(self, z_dim=10, k=8):
        super().__init__()
        ins, outs = [512 // k, 256 // k, 128 // k], [256 // k, 128 // k, 64 // k]
        self.c0 = ins[0]
        self.linear0 = nn.utils.spectral_norm(nn.Linear(z_dim, ins[0] * 16), eps=1e-6)
        self.blocks = nn.ModuleList([nn.ModuleList([SNDeepConvBlock(i, o)]) for i, o in zip(ins, outs)])
        self.conv4 = nn.utils.spectral_norm(nn.Conv2d(outs[-1], 3, 3, 1, 1), eps=1e-6)

    def forward(self, z):
        x = self.linear0(z).view(-1, self.c0, 4, 4)
        for bl in self.blocks:
            x = bl[0](x)
        return torch.tanh(self.conv4(x))


def _load(out):
    import json

    from zoo.loading import load_state

    meta = json.loads((out / "config.json").read_text())
    with torch.device("meta"):
        model = zoo.build(meta["architecture"], **meta["config"])
    return load_state(model, str(out / "model.safetensors"), name="converted").eval()


def test_studiogan_deep_conv_with_generator_spectral_norm_converts_exactly(tmp_path):
    up = SNDeepConvG()
    randomize(up, 12, scale=0.3)
    up.eval()
    z = torch.randn(2, 10)
    with torch.no_grad():
        expected = up(z)
    src = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in up.state_dict().items()}, str(src))
    convert("sngan", [src], tmp_path / "out", layout="studiogan-deep-conv")
    with torch.no_grad():
        got = _load(tmp_path / "out")(z)
    # float32 forward of differently rounded (folded in float64) weights; an unfolded or dim-0 fold is off by O(1)
    assert torch.allclose(got, expected, atol=1e-3), float((got - expected).abs().max())


# -- class-conditional StudioGAN generators are refused, precisely --------------------------------

def _conditional_resnet_state(classes=10, c=16, z=12):
    s: dict[str, torch.Tensor] = {"linear0.weight": torch.randn(c * 16, z), "linear0.bias": torch.zeros(c * 16)}
    for i in range(3):
        for bn in ("bn1", "bn2"):
            p = f"blocks.{i}.0.{bn}"
            s[f"{p}.bn.running_mean"], s[f"{p}.bn.running_var"] = torch.zeros(c), torch.ones(c)
            s[f"{p}.bn.num_batches_tracked"] = torch.tensor(0)
            s[f"{p}.embed0.weight"], s[f"{p}.embed1.weight"] = torch.randn(classes, c), torch.randn(classes, c)
        for conv, k in (("conv2d0", 1), ("conv2d1", 3), ("conv2d2", 3)):
            s[f"blocks.{i}.0.{conv}.weight"], s[f"blocks.{i}.0.{conv}.bias"] = torch.randn(c, c, k, k), torch.zeros(c)
    s.update({"bn4.weight": torch.ones(c), "bn4.bias": torch.zeros(c), "bn4.running_mean": torch.zeros(c),
              "bn4.running_var": torch.ones(c), "bn4.num_batches_tracked": torch.tensor(0),
              "conv2d5.weight": torch.randn(3, c, 3, 3), "conv2d5.bias": torch.zeros(3)})
    return s


@pytest.mark.parametrize("layout", ["studiogan-resnet", "studiogan-deep-conv"])
def test_conditional_studiogan_generator_is_refused_naming_the_config_key(tmp_path, layout):
    src = tmp_path / "sngan_cifar10.safetensors"
    save_file(_conditional_resnet_state(), str(src))
    with pytest.raises(zoo.ConversionError) as e:
        convert("sngan", [src], tmp_path / "out", layout=layout)
    msg = str(e.value)
    assert "class-conditional" in msg and "10 classes" in msg
    assert 'g_cond_mtd: "cBN"' in msg and "SNGAN.yaml" in msg  # what makes it conditional
    assert 'g_cond_mtd: "W/O"' in msg and "DCGAN.yaml" in msg and "studiogan-deep-conv" in msg  # what converts
    assert not (tmp_path / "out" / "model.safetensors").exists()
