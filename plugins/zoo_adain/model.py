"""AdaIN style transfer (Huang & Belongie, ICCV 2017): encoder, AdaIN op, decoder.

Layout (compared layer by layer with naoto0804/pytorch-AdaIN ``net.py`` at commit
2165a330dc66cc46a03d57d24092508e158bef1a):

- :class:`VGGEncoder` is the normalised VGG-19 up to relu4_1: a 1x1 conv 3->3 that
  maps RGB in [0, 1] to the Caffe VGG's input (BGR, mean-subtracted, 0..255), then
  3x3 convs with reflection padding 1 and ReLU, and 2x2 max-pooling with
  ``ceil_mode=True``. Parameter names follow VGG (``conv1_1`` ... ``conv4_1``).
  Config ``depth`` (default 4, the paper's) can stop it at relu3_1 (``depth=3``):
  the AdaIN layer is then relu3_1, the decoder mirrors it from there (one
  256->128 conv and the paper's last two stages) and everything below that
  reads "8" reads "4".
- :class:`Decoder` mirrors it: reflection-padded 3x3 convs with ReLU, nearest
  upsampling x2 where the encoder pools, and no activation after the last conv
  (the output is clamped to [0, 1] only when turned into an image). With the
  default widths it has 3,505,219 parameters, as naoto0804's ``decoder.pth``.
- :func:`adain` normalises each channel of the content features by its own mean
  and standard deviation over space and gives it the style features' ones. The
  standard deviation is ``sqrt(unbiased variance + eps)`` with ``eps = 1e-5``, as
  the reference computes it, so its weights reproduce its outputs.
- ``encoder="vgg16"`` is :class:`zoo_adain.encoders.VGG16Encoder`: an ImageNet-descended
  VGG16 to relu4_1 (the zoo model ``vgg16.hed-bsds500``), Caffe preprocessing inside,
  zero padding as it was trained; the weights ``adain.vgg16`` use it.
- :class:`TimmEncoder` is another alternative encoder: any timm backbone with
  ``features_only=True``; the deepest selected level plays relu4_1's role and its
  levels are the style-loss layers. Its input is normalised with the backbone's
  pretrained mean/std (persistent buffers, so they are in the state dict).

Sizes: the encoder maps H to ceil(H/8) at relu4_1 (ceil-mode pooling) and the
decoder multiplies by 8, so ``decode(encode(x))`` is ``8 * ceil(H/8)`` high: equal
to H when H is divisible by 8, larger otherwise. :meth:`AdaIN.stylize` reflection-
pads its input up to a multiple of 8 and crops the output back, so any size works
and the output has the input's size.

This module imports torch; the plugin's ``__init__`` does not import it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from zoo.fastconv import conv_reflect, hooked as _hooked

from .fastpath import forward_affine_chain as _forward_affine_chain
from .fastpath import forward_chain as _forward_chain
from .ops import EPS, StyleStats, adain, adain_affine, adain_from_stats, calc_mean_std  # noqa: F401  (zoo_adain.model's names)
from .ops import stats_of, wct_affine


#: VGG-19 widths up to relu4_1, per stage: (name, out_channels); "pool" between stages.
VGG_STAGES: tuple[tuple[tuple[str, int], ...], ...] = (
    (("conv1_1", 64),),
    (("conv1_2", 64), ("pool", 0), ("conv2_1", 128)),
    (("conv2_2", 128), ("pool", 0), ("conv3_1", 256)),
    (("conv3_2", 256), ("conv3_3", 256), ("conv3_4", 256), ("pool", 0), ("conv4_1", 512)),
)

#: The style-loss / statistics layers, in order.
FEATURE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


# ---------------------------------------------------------------------- the blocks
class ConvReLU(nn.Sequential):
    """Reflection pad 1, 3x3 conv, optional ReLU (naming: ``.conv``)."""

    def __init__(self, cin: int, cout: int, relu: bool = True) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(cin, cout, 3)
        if relu:
            self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or _hooked([self]):
            return super().forward(x)
        return conv_reflect(x, self.conv, relu=hasattr(self, "relu"))  # the same numbers, without the copies


def _scaled(c: int, width: float) -> int:
    return max(1, int(round(c * width)))


class VGGEncoder(nn.Module):
    """Normalised VGG-19 up to relu4_1, returning relu1_1..relu4_1 (``width`` scales channels).

    ``depth`` (1-4) stops it earlier: with ``depth=3`` the AdaIN layer is relu3_1
    (256 channels at 1/4 size) and the statistics layers are relu1_1..relu3_1.
    The paper's model is ``depth=4``.
    """

    kind = "vgg19_normalised"

    def __init__(self, width: float = 1.0, depth: int = 4) -> None:
        super().__init__()
        if not 1 <= depth <= len(VGG_STAGES):
            from zoo.errors import ConfigError

            raise ConfigError(f"depth must be 1..{len(VGG_STAGES)} (4: relu4_1, the paper's), got {depth!r}")
        self.depth = depth
        self.preprocess = nn.Conv2d(3, 3, 1)
        self.stages = nn.ModuleList()
        cin = 3
        for stage in VGG_STAGES[:depth]:
            seq = nn.Sequential()
            for name, c in stage:
                if name == "pool":
                    seq.add_module("pool", nn.MaxPool2d(2, 2, ceil_mode=True))
                else:
                    cout = _scaled(c, width)
                    seq.add_module(name, ConvReLU(cin, cout))
                    cin = cout
            self.stages.append(seq)
        self.channels: tuple[int, ...] = tuple(
            _scaled(s[-1][1], width) for s in VGG_STAGES[:depth]
        )  # channels of relu1_1..relu{depth}_1
        self.reductions: tuple[int, ...] = (1, 2, 4, 8)[:depth]

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """relu1_1, relu2_1, relu3_1, relu4_1 of ``x`` (RGB in [0, 1])."""
        x = self.preprocess(x)
        feats = []
        for stage in self.stages:
            x = _forward_chain(list(stage.children()), x, banded=False)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu4_1 of ``x``."""
        mods = [self.preprocess, *(m for st in self.stages for m in st.children())]
        return _forward_chain(mods, x)


class TimmEncoder(nn.Module):
    """A timm backbone with ``features_only=True``; its deepest level is the AdaIN layer.

    ``name`` is a timm model name; ``out_indices`` picks the feature levels (default:
    the levels up to stride 8, or the first four). The input (RGB in [0, 1]) is
    normalised with the backbone's mean and std, kept as persistent buffers.
    ``pretrained=True`` downloads timm's weights from the Hub (not under the meta
    device, where :func:`zoo.load` builds and then assigns the saved tensors).
    """

    kind = "timm"

    def __init__(self, name: str, *, pretrained: bool = False, out_indices: Sequence[int] | None = None) -> None:
        super().__init__()
        import timm

        if torch.empty(0).device.type == "meta":
            pretrained = False
        kwargs: dict[str, Any] = {"features_only": True, "pretrained": pretrained}
        if out_indices is not None:
            kwargs["out_indices"] = tuple(out_indices)
        try:
            backbone = timm.create_model(name, **kwargs)
        except RuntimeError as e:
            from zoo.errors import ConfigError

            raise ConfigError(
                f"timm cannot build {name!r} with features_only=True ({e}); pick a timm model "
                "that supports feature extraction (`timm.list_models()`)"
            ) from e
        if out_indices is None:
            red = backbone.feature_info.reduction()
            keep = [i for i, r in enumerate(red) if r <= 8] or [0]
            keep = keep[-4:]
            backbone = timm.create_model(name, **{**kwargs, "out_indices": tuple(backbone.feature_info.out_indices[i] for i in keep)})
        self.backbone = backbone
        self.name = name
        self.channels = tuple(backbone.feature_info.channels())
        self.reductions = tuple(backbone.feature_info.reduction())
        cfg = getattr(backbone, "pretrained_cfg", None) or {}
        mean = cfg.get("mean", (0.485, 0.456, 0.406))
        std = cfg.get("std", (0.229, 0.224, 0.225))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def forward_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.backbone((x - self.mean.to(x.dtype)) / self.std.to(x.dtype)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[-1]


def vgg_decoder_stages(width: float = 1.0, depth: int = 4) -> list[list[tuple[str, int]]]:
    """The decoder of the paper: VGG-19's mirror from relu4_1 down to RGB.

    ``depth=3`` mirrors the encoder from relu3_1: one 256->128 conv, then the
    paper's last two stages (so 4x upsampling)."""
    w = lambda c: _scaled(c, width)  # noqa: E731
    stages = [
        [("conv4_1", w(256))],
        [("conv3_4", w(256)), ("conv3_3", w(256)), ("conv3_2", w(256)), ("conv3_1", w(128))],
        [("conv2_2", w(128)), ("conv2_1", w(64))],
        [("conv1_2", w(64)), ("conv1_1", 3)],
    ]
    if depth == 4:
        return stages
    if depth == 3:
        return [[("conv3_1", w(128))], *stages[2:]]
    if depth == 2:
        return [[("conv2_1", w(64))], stages[3]]
    return [[("conv1_1", 3)]]


def mirror_decoder_stages(channels: Sequence[int], reductions: Sequence[int], width: float = 1.0) -> list[list[tuple[str, int]]]:
    """A decoder for any encoder: one upsampling stage per factor of 2 of the deepest
    level's stride, each narrowing to the encoder's channels at the next stride."""
    levels = int(round(math.log2(reductions[-1])))
    by_red = {r: c for c, r in zip(channels, reductions)}
    stages: list[list[tuple[str, int]]] = []
    c = channels[-1]
    for i in range(levels, 0, -1):
        target = by_red.get(2 ** (i - 1), max(16, c // 2))
        stages.append([(f"conv{i + 1}_2", _scaled(c, width)), (f"conv{i + 1}_1", _scaled(target, width))])
        c = target
    stages.append([("conv1_2", _scaled(max(c, 16), width)), ("conv1_1", 3)])
    return stages


class Decoder(nn.Module):
    """Convs with reflection padding and ReLU, nearest x2 upsampling between stages,
    no activation after the last conv."""

    def __init__(self, in_channels: int = 512, stages: Sequence[Sequence[tuple[str, int]]] | None = None) -> None:
        super().__init__()
        stages = vgg_decoder_stages() if stages is None else stages
        self.stages = nn.ModuleList()
        cin = in_channels
        n = len(stages)
        for si, stage in enumerate(stages):
            seq = nn.Sequential()
            if si > 0:
                seq.add_module("up", nn.Upsample(scale_factor=2, mode="nearest"))
            for ci, (name, cout) in enumerate(stage):
                last = si == n - 1 and ci == len(stage) - 1
                seq.add_module(name, ConvReLU(cin, cout, relu=not last))
                cin = cout
            self.stages.append(seq)
        self.upsampling = 2 ** (n - 1)

    def forward(self, x: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Decode ``x``; with ``affine = (scale, shift)`` (N or 1, C, 1, 1), decode ``x * scale + shift``, or with
        ``scale`` a matrix (N or 1, C, C), ``scale @ x + shift`` per pixel (the map folded into the first conv
        without autograd: zoo_adain.fastpath.forward_affine_chain)."""
        mods = [m for st in self.stages for m in st.children()]
        if affine is None:
            return _forward_chain(mods, x)
        return _forward_affine_chain(mods, x, *affine)


# ---------------------------------------------------------------------- the model
class AdaIN(nn.Module):
    """Encoder, AdaIN, decoder. Images are RGB in [0, 1], (N, 3, H, W).

    ``forward(content, style, alpha)`` is the differentiable transfer used in training;
    :meth:`stylize` is the user-facing API (paths, PIL images or tensors; several styles,
    colour preservation, masks), see :mod:`zoo_adain.stylize`.

    ``wct_mix`` (config key, default 0: the paper's AdaIN) puts the whitening-colouring transform (Li et al.
    2017) at the bottleneck, mixed with AdaIN: ``wct_mix * WCT + (1 - wct_mix) * AdaIN``
    (:func:`zoo_adain.ops.wct_affine`). It may be changed on a loaded model.
    """

    def __init__(self, encoder: nn.Module, decoder: Decoder, wct_mix: float = 0.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.wct_mix = float(wct_mix)

    @property
    def multiple(self) -> int:
        """Input sizes that are multiples of this come back at their own size."""
        return self.decoder.upsampling

    def _as_input(self, x: torch.Tensor) -> torch.Tensor:
        """Images in the parameters' dtype (a model loaded with dtype=bf16 takes float images)."""
        dtype = next(self.encoder.parameters()).dtype
        return x if x.dtype == dtype else x.to(dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(self._as_input(x))

    def encode_with_intermediate(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The style-loss features (relu1_1..relu4_1 for VGG)."""
        return self.encoder.forward_features(self._as_input(x))

    def decode(self, t: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """The decoder on ``t`` (with ``affine``: on ``t * scale + shift``, see :meth:`Decoder.forward`)."""
        dtype = next(self.decoder.parameters()).dtype
        return self.decoder(t if t.dtype == dtype else t.to(dtype), affine)

    def style_stats(self, style: torch.Tensor) -> StyleStats:
        """The statistics the bottleneck needs: mean and std, and the colour matrix when ``wct_mix`` > 0."""
        return stats_of(self.encode(style), self.wct_mix)

    def transfer(
        self, content: torch.Tensor, style: StyleStats, alpha: float = 1.0, content_feat: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decode AdaIN(content) with the given style statistics (sizes as the decoder gives)."""
        f = self.encode(content) if content_feat is None else content_feat
        if self.wct_mix > 0:  # the transform and the blend as one linear map (folded into the decoder without autograd)
            return self.decode(f, wct_affine(f, style, self.wct_mix, alpha))
        if not torch.is_grad_enabled():  # AdaIN and the blend as one affine map, folded into the decoder
            return self.decode(f, adain_affine(f, style.mean, style.std, alpha))
        t = adain_from_stats(f, style.mean, style.std)
        if alpha != 1.0:
            t = alpha * t + (1.0 - alpha) * f
        return self.decode(t)

    def forward(self, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        return self.transfer(content, self.style_stats(style), alpha)

    def stylize(
        self,
        content: Any,
        style: Any,
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_color: bool | str = False,
        mask: Any = None,
        masks: Sequence[Any] | None = None,
        size: int | tuple[int, int] | None = None,
        style_size: int | None = 512,
        max_pixels: int | None = 2048 * 2048,
        keep_alpha: bool = True,
        precision: str = "auto",
        channels_last: bool = True,
        resample: str = "zoo",
    ) -> Any:
        """Stylize ``content`` in the manner of ``style``; the output is the same kind as the input.

        ``content``: a path, PIL image, tensor ((3, H, W) or (N, 3, H, W), RGB in [0, 1]) or
        a list of them; ``style``: the same kinds, a :class:`StyleStats`, or a list (several
        styles). Path or PIL in gives PIL out, at the content's size unless ``size`` says
        otherwise. ``alpha`` trades content for style; ``style_weights`` interpolates several
        styles; ``masks`` (one per style) or ``mask`` (two styles) give styles to regions;
        ``preserve_color`` is False, True/"coral" or "luminance". Every option is described
        in :mod:`zoo_adain.stylize`. Runs under ``torch.inference_mode()``.
        """
        from .stylize import stylize

        return stylize(
            self, content, style, alpha=alpha, style_weights=style_weights, preserve_color=preserve_color,
            mask=mask, masks=masks, size=size, style_size=style_size, max_pixels=max_pixels,
            keep_alpha=keep_alpha, precision=precision, channels_last=channels_last, resample=resample,
        )


def build_encoder(encoder: str = "vgg19_normalised", *, width: float = 1.0, pretrained: bool = False,
                  depth: int = 4) -> nn.Module:
    if encoder == "vgg19_normalised":
        return VGGEncoder(width, depth)
    if encoder == "vgg16":
        if width != 1.0:
            from zoo.errors import ConfigError

            raise ConfigError("encoder 'vgg16' has the pretrained widths: leave encoder_width at 1.0")
        from .encoders import VGG16Encoder

        return VGG16Encoder(depth)
    if encoder.startswith("timm:"):
        return TimmEncoder(encoder[len("timm:"):], pretrained=pretrained)
    from zoo.errors import ConfigError

    raise ConfigError(f"unknown encoder {encoder!r}: use 'vgg16', 'vgg19_normalised' or 'timm:<model name>'")


def build(
    encoder: str = "vgg19_normalised",
    encoder_width: float = 1.0,
    decoder_width: float = 1.0,
    pretrained_encoder: bool = False,
    depth: int = 4,
    wct_mix: float = 0.0,
) -> AdaIN:
    """The AdaIN model (the architecture's builder; arguments are the config keys).

    ``depth`` applies to the VGG encoder: 4 puts AdaIN at relu4_1 (the paper), 3 at relu3_1. ``wct_mix``: the
    share of the whitening-colouring transform at the bottleneck (:class:`AdaIN`)."""
    enc = build_encoder(encoder, width=encoder_width, pretrained=pretrained_encoder, depth=depth)
    if isinstance(enc, VGGEncoder) or getattr(enc, "kind", "") == "vgg16":
        stages = vgg_decoder_stages(decoder_width, depth)
    else:
        r = int(enc.reductions[-1])
        if r < 1 or r & (r - 1):
            from zoo.errors import ConfigError

            raise ConfigError(
                f"encoder {encoder!r}: its deepest feature level has stride {r}, not a power of 2, so "
                "no upsampling decoder mirrors it; pick a convolutional timm backbone (resnet, convnext, ...)"
            )
        stages = mirror_decoder_stages(enc.channels, enc.reductions, decoder_width)
    return AdaIN(enc, Decoder(enc.out_channels, stages), wct_mix)
