"""zoo.s2dconv: each space-to-depth layer gives the plain layer's numbers (fp32 to float rounding)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.s2dconv import (conv_reflect_s2d, conv_reflect_to_s2d, conv_stride2_from_s2d, from_s2d, instance_norm_s2d,
                         s2d_pad, to_s2d, upsample_conv_to_s2d)

SHAPES = [(1, 5, 20, 24), (2, 3, 18, 34), (1, 8, 16, 16)]


def _x(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", SHAPES)
def test_space_to_depth_round_trip_and_channel_order(shape: tuple[int, ...]) -> None:
    x = _x(shape)
    s = to_s2d(x)
    assert s.shape == (shape[0], 4 * shape[1], shape[2] // 2, shape[3] // 2)
    assert s.is_contiguous(memory_format=torch.channels_last)
    c = shape[1]
    # channel (qi * 2 + qj) * C + c holds pixel (2i + qi, 2j + qj) of channel c
    assert torch.equal(s[:, 1 * c + 2], x[:, 2, 0::2, 1::2])
    assert torch.equal(s[:, 2 * c:3 * c], x[:, :, 1::2, 0::2])
    back = from_s2d(s)
    assert torch.equal(back, x)
    assert back.is_contiguous(memory_format=torch.channels_last)


def test_odd_sides_are_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        to_s2d(torch.zeros(1, 3, 5, 6))


@pytest.mark.parametrize("p", [1, 2, 3])
def test_pad_is_the_reflect_padded_full_resolution_image(p: int) -> None:
    x = _x((2, 4, 14, 18))
    assert torch.equal(from_s2d(s2d_pad(to_s2d(x), p)), F.pad(x, (2 * p,) * 4, mode="reflect"))


@pytest.mark.parametrize("k", [3, 5, 7, 9])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("relu", [False, True])
def test_stride_one_conv_in_both_forms(k: int, shape: tuple[int, ...], relu: bool) -> None:
    x = _x(shape)
    conv = nn.Conv2d(shape[1], 7, k)
    with torch.no_grad():
        ref = conv(F.pad(x, (k // 2,) * 4, mode="reflect"))
        ref = ref.relu() if relu else ref
        a = from_s2d(conv_reflect_to_s2d(x, conv, relu))
        b = from_s2d(conv_reflect_s2d(to_s2d(x), conv, relu))
    torch.testing.assert_close(a, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_stride_two_conv_from_space_to_depth(shape: tuple[int, ...]) -> None:
    x = _x(shape)
    conv = nn.Conv2d(shape[1], 6, 3, 2)
    with torch.no_grad():
        ref = conv(F.pad(x, (1,) * 4, mode="reflect")).relu()
        out = conv_stride2_from_s2d(to_s2d(x), conv, relu=True)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("shape", [(1, 5, 7, 9), (2, 4, 8, 8)])
def test_upsample_conv_into_space_to_depth(shape: tuple[int, ...]) -> None:
    x = _x(shape)
    conv = nn.Conv2d(shape[1], 6, 3)
    with torch.no_grad():
        ref = conv(F.pad(F.interpolate(x, scale_factor=2.0, mode="nearest"), (1,) * 4, mode="reflect"))
        out = from_s2d(upsample_conv_to_s2d(x, conv))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("params_batch", [1, 2])
def test_instance_norm_over_the_four_phases(relu: bool, params_batch: int) -> None:
    x = _x((2, 5, 12, 10)) * 3 + 1.5
    g, b = _x((params_batch, 5), 1), _x((params_batch, 5), 2)
    mean = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), unbiased=False, keepdim=True)
    gi = g if params_batch == 2 else g.expand(2, -1)
    bi = b if params_batch == 2 else b.expand(2, -1)
    ref = (x - mean) / torch.sqrt(var + 1e-5) * gi[..., None, None] + bi[..., None, None]
    ref = ref.relu() if relu else ref
    with torch.no_grad():
        out = from_s2d(instance_norm_s2d(to_s2d(x), g, b, 1e-5, relu))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_bf16_stays_within_bf16_rounding() -> None:
    x = _x((1, 8, 64, 64))
    conv = nn.Conv2d(8, 3, 9)
    with torch.no_grad():
        ref = conv(F.pad(x, (4,) * 4, mode="reflect"))
        cb = nn.Conv2d(8, 3, 9).to(torch.bfloat16)
        cb.load_state_dict({k: v.to(torch.bfloat16) for k, v in conv.state_dict().items()})
        out = from_s2d(conv_reflect_s2d(to_s2d(x.to(torch.bfloat16)), cb)).float()
    assert (out - ref).abs().max() <= 0.02 * ref.abs().max()


def test_kept_weights_follow_a_change_of_the_conv() -> None:
    x = _x((1, 3, 16, 16))
    conv = nn.Conv2d(3, 4, 9)
    with torch.no_grad():
        first = conv_reflect_to_s2d(x, conv)
        conv.weight.mul_(2.0)
        conv.bias.zero_()
        second = conv_reflect_to_s2d(x, conv)
        ref = conv(F.pad(x, (4,) * 4, mode="reflect"))
    torch.testing.assert_close(from_s2d(second), ref, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(first, second)


@pytest.mark.parametrize("relu", [False, True])
def test_instance_norm_of_an_ordinary_image(relu: bool) -> None:
    from zoo.s2dconv import instance_norm

    x = _x((2, 6, 9, 11)) * 2 - 0.5
    g, b = _x((2, 6), 3), _x((1, 6), 4)
    mean = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), unbiased=False, keepdim=True)
    ref = (x - mean) / torch.sqrt(var + 1e-5) * g[..., None, None] + b.expand(2, -1)[..., None, None]
    ref = ref.relu() if relu else ref
    with torch.no_grad():
        out = instance_norm(x, g, b, 1e-5, relu)
        outb = instance_norm(x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last), g, b, 1e-5, relu)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert (outb.float() - ref).abs().max() <= 0.02 * ref.abs().max() + 0.02
