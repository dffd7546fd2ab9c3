"""zoo.fastconv gives what the plain layers give, up to float rounding, in every shape it takes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo import fastconv as fc


def _conv(cin: int, cout: int, seed: int) -> nn.Conv2d:
    torch.manual_seed(seed)
    return nn.Conv2d(cin, cout, 3)


def _plain(ops: list[fc.BandOp], x: torch.Tensor) -> torch.Tensor:
    for op in ops:
        if op.kind == "pointwise":
            x = op.conv(x)
        elif op.kind == "pool":
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            continue
        else:
            if op.kind == "up_conv":
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = op.conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))
        x = torch.relu(x) if op.relu else x
    return x


@pytest.mark.parametrize("shape", [(1, 5, 3, 3), (2, 5, 7, 10), (1, 5, 16, 9), (1, 5, 33, 20)])
@pytest.mark.parametrize("relu", [True, False])
def test_conv_reflect_equals_pad_then_conv(shape: tuple[int, ...], relu: bool) -> None:
    conv = _conv(5, 6, 0)
    x = torch.randn(shape)
    want = _plain([fc.BandOp("conv", conv, relu)], x)
    with torch.inference_mode():
        got = fc.conv_reflect(x, conv, relu)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert got.shape == want.shape


@pytest.mark.parametrize("k,stride,shape", [(1, 1, (1, 5, 4, 4)), (5, 1, (1, 5, 11, 13)), (9, 1, (2, 5, 19, 20)),
                                            (9, 1, (1, 5, 30, 17)), (3, 2, (1, 5, 8, 8)), (3, 2, (2, 5, 9, 12)),
                                            (3, 2, (1, 5, 13, 11)), (5, 2, (1, 5, 15, 16)), (3, 3, (1, 5, 10, 14)),
                                            (9, 2, (1, 5, 19, 24))])
@pytest.mark.parametrize("relu", [True, False])
def test_conv_reflect_of_any_kernel_and_stride_equals_pad_then_conv(k: int, stride: int, shape: tuple[int, ...],
                                                                    relu: bool) -> None:
    torch.manual_seed(k)
    conv = nn.Conv2d(5, 4, k, stride)
    x = torch.randn(shape)
    p = k // 2
    want = conv(F.pad(x, (p, p, p, p), mode="reflect")) if p else conv(x)
    want = torch.relu(want) if relu else want
    with torch.inference_mode():
        got = fc.conv_reflect(x, conv, relu)
    torch.testing.assert_close(got, want.detach(), atol=1e-5, rtol=1e-5)


def test_conv_reflect_in_bf16_channels_last_stays_within_bf16_rounding() -> None:
    conv = _conv(16, 16, 1).to(torch.bfloat16).to(memory_format=torch.channels_last)
    x = torch.randn(1, 16, 40, 36).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    want = _plain([fc.BandOp("conv", conv, True)], x.float().to(torch.bfloat16))
    with torch.inference_mode():
        got = fc.conv_reflect(x, conv, True)
    err = (got.float() - want.float()).abs().max() / want.float().abs().max()
    assert err < 1e-2  # bf16 keeps 8 bits; the two paths round their sums differently


@pytest.mark.parametrize("shape", [(1, 8, 16, 16), (1, 8, 17, 15), (2, 8, 9, 10)])
def test_strided_conv_reflect_in_bf16_stays_within_bf16_rounding(shape: tuple[int, ...]) -> None:
    # its edge strips are one output line wide unless widened: torch 2.14's bf16 strided conv gets that wrong
    conv = nn.Conv2d(8, 16, 3, 2).to(torch.bfloat16)
    x = torch.randn(shape).to(torch.bfloat16)
    want = _plain_strided(conv, x)
    with torch.inference_mode():
        for _ in range(2):
            got = fc.conv_reflect(x, conv, False).float()
            assert (got - want).abs().max() / want.abs().max() < 2e-2


def _plain_strided(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return F.conv2d(F.pad(x.float(), (1, 1, 1, 1), mode="reflect"), conv.weight.float(), conv.bias.float(),
                        stride=conv.stride)


def test_with_autograd_the_plain_differentiable_path_runs() -> None:
    conv = _conv(3, 4, 2)
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    y = fc.conv_reflect(x, conv, True)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", [(1, 4, 8, 8), (2, 4, 7, 9), (1, 4, 1, 6)])
def test_max_pool_2x2_equals_ceil_mode_max_pool(shape: tuple[int, ...]) -> None:
    x = torch.randn(shape)
    with torch.inference_mode():
        assert torch.equal(fc.max_pool_2x2(x), F.max_pool2d(x, 2, 2, ceil_mode=True))


@pytest.mark.parametrize("batch,style_batch", [(1, 1), (3, 1), (2, 2)])
def test_instance_affine_is_adains_normalisation(batch: int, style_batch: int) -> None:
    x = torch.randn(batch, 6, 9, 11) * 3 + 1
    scale = torch.rand(style_batch, 6, 1, 1) + 0.5
    shift = torch.randn(style_batch, 6, 1, 1)
    var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True)  # unbiased, as AdaIN's calc_mean_std
    want = (x - mean) / (var + 1e-5).sqrt() * scale + shift
    with torch.inference_mode():
        got = fc.instance_affine(x, scale, shift, 1e-5)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("relu", [True, False])
def test_upsample_conv_equals_upsample_pad_conv(relu: bool) -> None:
    conv = _conv(4, 5, 3)
    x = torch.randn(2, 4, 5, 7)
    want = _plain([fc.BandOp("up_conv", conv, relu)], x)
    with torch.inference_mode():
        got = fc.upsample_conv(x, conv, relu)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


CHAINS = {
    "encoder front": lambda: [fc.BandOp("pointwise", nn.Conv2d(3, 3, 1)), fc.BandOp("conv", _conv(3, 6, 4), True),
                              fc.BandOp("conv", _conv(6, 6, 5), True), fc.BandOp("pool")],
    "pool then conv": lambda: [fc.BandOp("conv", _conv(3, 4, 6), True), fc.BandOp("pool"),
                               fc.BandOp("conv", _conv(4, 5, 7), True)],
    "decoder tail": lambda: [fc.BandOp("up_conv", _conv(3, 4, 8), True), fc.BandOp("conv", _conv(4, 3, 9), False)],
    "up, conv, up": lambda: [fc.BandOp("up_conv", _conv(3, 4, 10), True), fc.BandOp("conv", _conv(4, 4, 11), True),
                             fc.BandOp("up_conv", _conv(4, 3, 12), False)],
}


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("height,width", [(4, 5), (9, 8), (17, 12), (32, 7)])
@pytest.mark.parametrize("band_rows", [1, 2, 3, 5, 64])
def test_banded_chain_equals_the_whole_image_computation(chain: str, height: int, width: int, band_rows: int) -> None:
    torch.manual_seed(13)
    ops = CHAINS[chain]()
    x = torch.randn(2, 3, height, width)
    want = _plain(ops, x)
    with torch.inference_mode():
        got = fc.run_banded(ops, x, band_rows=band_rows)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_banded_output_keeps_channels_last() -> None:
    ops = CHAINS["encoder front"]()
    x = torch.randn(1, 3, 20, 20).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        y = fc.run_banded(ops, x, band_rows=3)
    assert y.is_contiguous(memory_format=torch.channels_last)


def test_kept_transposed_weights_follow_a_change_of_the_conv() -> None:
    conv = _conv(4, 5, 14)
    x = torch.randn(1, 4, 6, 6)
    with torch.inference_mode():
        fc.upsample_conv(x, conv, True)  # keeps the summed taps
    with torch.no_grad():
        conv.weight.mul_(-2.0)  # an in-place change (as an optimizer step makes)
    want = _plain([fc.BandOp("up_conv", conv, True)], x)
    with torch.inference_mode():
        torch.testing.assert_close(fc.upsample_conv(x, conv, True), want, atol=1e-5, rtol=1e-5)
    conv.to(torch.float64)  # a new dtype (and storage)
    with torch.inference_mode():
        got = fc.upsample_conv(x.double(), conv, True)
    torch.testing.assert_close(got, want.double(), atol=1e-5, rtol=1e-5)


def test_kept_transposed_weights_of_an_inference_tensor_follow_its_change() -> None:
    with torch.inference_mode():  # weights made here keep no version counter
        conv = _conv(4, 5, 15)
        conv.weight.copy_(torch.randn_like(conv.weight))
        x = torch.randn(1, 4, 6, 6)
        fc.upsample_conv(x, conv, False)
        conv.weight.mul_(-2.0)
        got = fc.upsample_conv(x, conv, False)
        want = conv(F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_instance_affine_of_one_pixel_is_the_shift() -> None:
    # AdaIN's std of one value is sqrt(eps): the normalised value is 0 and the output the style's mean
    x = torch.randn(2, 3, 1, 1)
    shift = torch.randn(1, 3, 1, 1)
    with torch.inference_mode():
        got = fc.instance_affine(x, torch.ones(1, 3, 1, 1), shift)
    torch.testing.assert_close(got, shift.expand(2, 3, 1, 1))
