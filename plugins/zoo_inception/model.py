"""The FID Inception-v3: the pool3 (2048-d) feature network of TensorFlow's 2015-12-05 graph.

Facts from the graph (Szegedy et al. 2016, as frozen for FID by Heusel et al.
2017): every convolution is followed by a batch norm with no scale (gamma = 1,
eps 1e-3) and a ReLU; the input is resized to 299x299 with TensorFlow 1.x's
bilinear resize (``align_corners=False``, no half-pixel offset) and scaled to
``(x - 128) / 128`` from 0..255; the last two blocks pool differently (average
pooling without padded zeros, then max pooling). The module and tensor names
follow torch-fidelity's ``FeatureExtractorInceptionV3`` (the network
torchmetrics' FID uses), so its state dict loads where that one's does, less
the 2048->1008 ``fc`` logits layer, which the zoo's source file does not have:
this network gives FID and KID, not the Inception Score.

Input: uint8 images (n, 3, H, W), or float images in [0, 1], quantised to
uint8 as torchmetrics does with ``normalize=True`` (``(x * 255).byte()``);
grey images are repeated to three channels. Output: (n, 2048) float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 299
FEATURE_DIM = 2048
BN_EPS = 1e-3

Kernel = int | tuple[int, int]


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3), ReLU: TensorFlow's conv op of the graph."""

    def __init__(self, cin: int, cout: int, kernel: Kernel, stride: int = 1, padding: Kernel = 0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _chain(cin: int, *layers: tuple[int, Kernel, int, Kernel]) -> list[tuple[int, int, Kernel, int, Kernel]]:
    """(cout, kernel, stride, padding) steps into (cin, cout, kernel, stride, padding) rows."""
    rows = []
    for cout, k, s, p in layers:
        rows.append((cin, cout, k, s, p))
        cin = cout
    return rows


class Mixed(nn.Module):
    """An Inception block: parallel towers whose outputs are concatenated along channels.

    ``towers`` lists, per tower, (name, rows) where rows are ConvBN arguments
    applied in sequence; a tower named in ``split`` ends in two parallel
    convolutions (1x3 and 3x1) whose outputs are concatenated (the 'E' blocks).
    ``pool`` is 'avg' (3x3, stride 1, zeros not counted), 'max1' (3x3, stride 1)
    or 'max2' (3x3, stride 2, no convolution after it).
    """

    def __init__(self, towers: Sequence[tuple[str, list[tuple[int, int, Kernel, int, Kernel]]]],
                 pool: str, pool_conv: tuple[int, int] | None, split: dict[str, tuple[str, str]] | None = None):
        super().__init__()
        self.tower_prefixes = [prefix for prefix, _ in towers]
        self.tower_names: list[list[str]] = []
        self.split = dict(split or {})
        for prefix, rows in towers:
            names = []
            for i, (cin, cout, k, s, p) in enumerate(rows):
                name = prefix if len(rows) == 1 and prefix not in self.split else f"{prefix}_{i + 1}"
                self.add_module(name, ConvBN(cin, cout, k, s, p))
                names.append(name)
            if prefix in self.split:
                a, b = self.split[prefix]
                c = rows[-1][1]
                self.add_module(a, ConvBN(c, c, (1, 3), 1, (0, 1)))
                self.add_module(b, ConvBN(c, c, (3, 1), 1, (1, 0)))
            self.tower_names.append(names)
        self.pool = pool
        if pool_conv is not None:
            self.branch_pool = ConvBN(pool_conv[0], pool_conv[1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for prefix, names in zip(self.tower_prefixes, self.tower_names):
            y = x
            for name in names:
                y = getattr(self, name)(y)
            if prefix in self.split:
                a, b = self.split[prefix]
                y = torch.cat([getattr(self, a)(y), getattr(self, b)(y)], 1)
            outs.append(y)
        if self.pool == "avg":
            p = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        elif self.pool == "max1":
            p = F.max_pool2d(x, 3, stride=1, padding=1)
        else:
            p = F.max_pool2d(x, 3, stride=2)
        outs.append(self.branch_pool(p) if hasattr(self, "branch_pool") else p)
        return torch.cat(outs, 1)


def _block_a(cin: int, pool_features: int) -> Mixed:
    return Mixed(
        [("branch1x1", _chain(cin, (64, 1, 1, 0))),
         ("branch5x5", _chain(cin, (48, 1, 1, 0), (64, 5, 1, 2))),
         ("branch3x3dbl", _chain(cin, (64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 1, 1)))],
        "avg", (cin, pool_features))


def _block_b(cin: int) -> Mixed:
    return Mixed(
        [("branch3x3", _chain(cin, (384, 3, 2, 0))),
         ("branch3x3dbl", _chain(cin, (64, 1, 1, 0), (96, 3, 1, 1), (96, 3, 2, 0)))],
        "max2", None)


def _block_c(cin: int, c7: int) -> Mixed:
    return Mixed(
        [("branch1x1", _chain(cin, (192, 1, 1, 0))),
         ("branch7x7", _chain(cin, (c7, 1, 1, 0), (c7, (1, 7), 1, (0, 3)), (192, (7, 1), 1, (3, 0)))),
         ("branch7x7dbl", _chain(cin, (c7, 1, 1, 0), (c7, (7, 1), 1, (3, 0)), (c7, (1, 7), 1, (0, 3)),
                                 (c7, (7, 1), 1, (3, 0)), (192, (1, 7), 1, (0, 3))))],
        "avg", (cin, 192))


def _block_d(cin: int) -> Mixed:
    return Mixed(
        [("branch3x3", _chain(cin, (192, 1, 1, 0), (320, 3, 2, 0))),
         ("branch7x7x3", _chain(cin, (192, 1, 1, 0), (192, (1, 7), 1, (0, 3)), (192, (7, 1), 1, (3, 0)),
                                (192, 3, 2, 0)))],
        "max2", None)


def _block_e(cin: int, pool: str) -> Mixed:
    return Mixed(
        [("branch1x1", _chain(cin, (320, 1, 1, 0))),
         ("branch3x3", _chain(cin, (384, 1, 1, 0))),
         ("branch3x3dbl", _chain(cin, (448, 1, 1, 0), (384, 3, 1, 1)))],
        pool, (cin, 192),
        split={"branch3x3": ("branch3x3_2a", "branch3x3_2b"),
               "branch3x3dbl": ("branch3x3dbl_3a", "branch3x3dbl_3b")})


def resize_like_tf1(x: torch.Tensor, size: int) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear(align_corners=False)``: source = dest * (in / out), no half-pixel shift."""
    n, c, h, w = x.shape

    def axis(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = torch.arange(size, dtype=torch.float32) * (n_in / size)
        lo = src.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, (src - lo.float()).to(x.dtype)

    y0, y1, dy = axis(h)
    x0, x1, dx = axis(w)
    # along the width first, on the input's h rows (not the output's 299), then along the height; each output
    # value is the same two lerps of the same numbers as in TF1, so the result is bit-exact, and index_select
    # is cheaper than advanced indexing (bench/bench_fid_resize.py times it against torch-fidelity's)
    left, right = x.index_select(3, x0), x.index_select(3, x1)
    rows = left + (right - left) * dx.view(1, 1, 1, -1)
    top, bottom = rows.index_select(2, y0), rows.index_select(2, y1)
    return top + (bottom - top) * dy.view(1, 1, -1, 1)


class InceptionFID(nn.Module):
    """Inception-v3 to the 2048-d pool3 features, in torch-fidelity's tensor layout (no fc)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = _block_a(192, 32)
        self.Mixed_5c = _block_a(256, 64)
        self.Mixed_5d = _block_a(288, 64)
        self.Mixed_6a = _block_b(288)
        self.Mixed_6b = _block_c(768, 128)
        self.Mixed_6c = _block_c(768, 160)
        self.Mixed_6d = _block_c(768, 160)
        self.Mixed_6e = _block_c(768, 192)
        self.Mixed_7a = _block_d(768)
        self.Mixed_7b = _block_e(1280, "avg")
        self.Mixed_7c = _block_e(2048, "max1")
        self.num_features = FEATURE_DIM  # what torchmetrics and zoo.metrics read off an extractor
        # "fp32", or "bf16": the convolutions under CPU/GPU autocast (see bench/bench_fid.py for
        # its agreement with fp32); the resize and the output stay float32
        self.precision = "fp32"

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """uint8 or [0, 1] float images, any size, to the graph's 299x299 input in [-1, 1)."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected images (n, 1 or 3, H, W), got shape {tuple(images.shape)}")
        if images.dtype != torch.uint8:
            images = (images.float() * 255).to(torch.uint8)  # as torchmetrics' normalize=True
        x = images.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = resize_like_tf1(x, INPUT_SIZE)
        return (x - 128) / 128

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The network on prepared input (n, 3, 299, 299)."""
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
            x = getattr(self, name)(x)
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
            x = getattr(self, name)(x)
        return x.float().mean((2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.prepare(images.to(self.Conv2d_1a_3x3.conv.weight.device))
        if self.precision == "bf16":
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                return self.features(x.contiguous(memory_format=torch.channels_last))
        return self.features(x)


def build() -> InceptionFID:
    return InceptionFID()
