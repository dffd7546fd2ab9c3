"""``AdaIN.stylize``: the user-facing transfer (inputs, several styles, colour, masks, speed).

Inputs and outputs keep their kind: a path or PIL image in gives a PIL image out;
a tensor in ((3, H, W) or (N, 3, H, W), RGB in [0, 1]) gives a tensor of the same
shape out; a list of contents gives a list. Image reading, alpha, EXIF, 16-bit and
the bound on memory are those of :mod:`zoo.images`.

Options (all keyword-only):

- ``alpha`` in [0, 1]: 1 is full stylization, 0 reconstructs the content; the
  features are blended as ``alpha * AdaIN(c, s) + (1 - alpha) * c`` (paper, sec. 7).
- Several styles: pass a list. Without masks they are interpolated with
  ``style_weights`` (non-negative, normalised to sum 1; equal by default). Mixing
  the style statistics is exactly the weighted sum of the AdaIN outputs that the
  reference's test.py computes, at the cost of one AdaIN.
- ``masks``: one mask per style (path, PIL or tensor (H, W) in [0, 1], any size; it
  is resized to the content). Each region is normalised with its own content
  statistics and given its style's statistics, as the Torch original's test.lua
  does (compared with xunhuang1995/AdaIN-style test.lua at commit 035224bf). It
  scales a binary mask to the feature map with nearest sampling and splits the
  features in two hard sets; here masks are area-averaged to the feature map, the
  region statistics are mask-weighted, and where masks overlap (soft borders) the
  results are blended by mask weight, so a binary mask gives the same result away
  from its border and a soft seam along it. Where no mask covers the content its
  features pass unchanged. ``mask`` (one image) is the two-style shorthand of
  test.lua: white takes the first style, black the second.
- ``preserve_color``: ``False``; ``True`` or ``"coral"``: before encoding, the style
  image's colours are given the content's mean and covariance (CORAL), as the
  reference test.py's ``--preserve_color`` (the same transform: per-channel
  standardisation, matrix square roots with the identity added, no clamp); ``"luminance"``: luminance-only transfer
  (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer",
  arXiv:1606.05897): both images are reduced to
  their luminance (the style's matched to the content's mean and std), stylized,
  and the output's luminance is recombined with the content's chrominance (YIQ).
- ``size``: ``None`` returns the content's size; an int sets the output's shorter
  side; ``(h, w)`` sets both. ``style_size`` (default 512, as the reference) is the
  style's shorter side before encoding; ``None`` keeps the style as it is.
- ``max_pixels``: the most pixels processed at once (default 2048*2048); a larger
  content is processed downscaled and resized back (bicubic). See zoo.images.
- ``keep_alpha``: a content with an alpha channel gives an RGBA image back (the
  colour is stylized after compositing over white); ``False`` gives RGB.
- ``precision``: ``"fp32"``, ``"bf16"`` or ``"auto"`` (default): bf16 where the CPU
  has native bf16 (avx512_bf16/AMX) or on CUDA, else fp32. Statistics and the AdaIN
  op are always computed in fp32. Stated tolerance of bf16 against fp32: PSNR of at
  least 40 dB and no pixel off by more than 8% of the output range. Measured with
  bench/bench_adain.py at 512x512 (astronaut styled by The Scream): 47.8 dB, mean
  difference 0.0024, largest 0.048 (isolated pixels) with the partly trained decoder
  of 2026-11-26; 59.5 dB, largest 1.4% with random weights. Use ``"fp32"`` for
  results that match the reference implementation to 1e-5.
- ``channels_last``: use the channels-last memory format (default True).

- ``resample``: ``"zoo"`` (default: antialiased bicubic, rounded sizes) or
  ``"reference"``: ``style_size`` (and an int ``size``) resize as the reference's
  test.py does, ``transforms.Resize(n)`` on the PIL image: PIL's bilinear filter and
  the longer side truncated, ``int(n * long / short)``. With ``precision="fp32"`` and
  ``preserve_color=True`` the output then matches test.py's to 1e-5.

Sizes: with the VGG encoders (ceil-mode pooling) any content of at least 16 pixels a
side is encoded as it is and the decoder's output, ``8 * ceil(H / 8)`` high as the
reference's, is cropped to H x W (so sizes not divisible by 8 give the reference's
pixels); smaller ones are padded to 16 first. Other encoders get the content
reflection-padded at the bottom and right up to a multiple of their stride. Inference
runs under ``torch.inference_mode()`` with the model in eval mode.

Speed: styles given as paths have their statistics cached on the model (keyed
by path, modification time and size); a batch of contents with one style encodes
the style once; ``AdaIN.style_stats`` gives a :class:`StyleStats` that can be passed
as ``style`` to reuse it explicitly (it must come from the same model).

The tensor operations (colour, sizes, padding, masks) are in :mod:`zoo_adain.imageops`; their names
stay importable from here.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from zoo.machine import bf16_native
from zoo.errors import ConfigError, ImageError
from zoo.images import (
    DEFAULT_MAX_PIXELS,
    check_tensor,
    check_output_pixels,
    fit_pixels,
    is_pathlike,
    load_image,
    open_image,
    resize,
    shorter_side,
    to_pil,
)

from .ops import StyleStats, adain_affine, stats_of, wct_affine
from .imageops import (  # noqa: F401  (zoo_adain.stylize's names before the split)
    rgb_to_yiq, yiq_to_rgb, _sym_power, coral, luminance, _out_size, reference_size, reference_resize,
    pad_small, pad_to_multiple, masked_adain, _load_mask, _mask_native_size,
)


# the model, a zoo_adain.model.AdaIN, named by its base class here so that this module does not import the
# model's (which imports this one to run AdaIN.stylize)
_Model = torch.nn.Module

STYLE_CACHE_SIZE = 16
# per model: its converted copy (dtype, memory format) and its cached style statistics
_CONVERTED: weakref.WeakKeyDictionary[_Model, dict[str, Any]] = weakref.WeakKeyDictionary()
_STYLE_CACHE: weakref.WeakKeyDictionary[_Model, OrderedDict[Any, StyleStats]] = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------- the fast runner
def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto":
        if device.type == "cuda" or (device.type == "cpu" and bf16_native()):
            return torch.bfloat16
        return torch.float32
    raise ConfigError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")


def weights_version(model: torch.nn.Module) -> tuple[tuple[int, int], ...]:
    """Changes whenever a parameter or buffer is replaced or updated in place."""
    return tuple((t.data_ptr(), t._version) for t in model.state_dict().values())


class Runner:
    """The model's encoder and decoder in one dtype and memory format.

    For a dtype or format other than the model's own, a converted copy is kept on the
    model and rebuilt when any parameter changes (tracked by tensor version counters).
    """

    def __init__(self, model: _Model, dtype: torch.dtype, channels_last: bool) -> None:
        self.model = model
        p = next(model.parameters())
        self.device = p.device
        self.dtype = dtype
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.net = self._converted()

    def _converted(self) -> _Model:
        m = self.model
        p = next(m.parameters())
        if self.dtype == p.dtype and self.memory_format == torch.contiguous_format:
            return m
        key = (self.dtype, self.memory_format, weights_version(m))
        cache = _CONVERTED.setdefault(m, {})
        if cache.get("key") != key:
            import copy

            net = copy.deepcopy(m)
            net.to(dtype=self.dtype, memory_format=self.memory_format).eval()
            cache.clear()
            cache.update(key=key, net=net)
        return cache["net"]

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.dtype, self.memory_format, self.device, weights_version(self.model), self.wct_mix > 0)

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, self.dtype).contiguous(memory_format=self.memory_format)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.encode(self.prep(x))

    def decode(self, t: torch.Tensor, affine: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        return self.net.decode(t.to(self.dtype).contiguous(memory_format=self.memory_format), affine).float()

    @property
    def wct_mix(self) -> float:
        return float(getattr(self.model, "wct_mix", 0.0))

    def stats(self, x: torch.Tensor) -> StyleStats:
        return stats_of(self.encode(x), self.wct_mix)


# ------------------------------------------------------------------ the options
@dataclass(frozen=True)
class Options:
    alpha: float
    weights: tuple[float, ...] | None
    preserve_color: str | None  # None, "coral", "luminance"
    size: int | tuple[int, int] | None
    style_size: int | None
    max_pixels: int | None
    keep_alpha: bool
    resample: str = "zoo"  # "zoo" or "reference"


RESAMPLE = ("zoo", "reference")


def _options(
    n_styles: int, alpha: float, style_weights: Sequence[float] | None, preserve_color: bool | str,
    size: Any, style_size: int | None, max_pixels: int | None, keep_alpha: bool, has_masks: bool,
    resample: str = "zoo",
) -> Options:
    if not isinstance(alpha, (int, float)) or not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}")
    weights = None
    if style_weights is not None:
        if has_masks:
            raise ConfigError("give either style_weights (interpolation) or masks (regions), not both")
        ws = [float(w) for w in style_weights]
        if len(ws) != n_styles:
            raise ConfigError(f"{len(ws)} style weights for {n_styles} styles; give one weight per style")
        if any(w < 0 for w in ws) or sum(ws) <= 0:
            raise ConfigError(f"style weights must be >= 0 with a positive sum, got {ws}")
        weights = tuple(w / sum(ws) for w in ws)
    elif n_styles > 1 and not has_masks:
        weights = tuple(1.0 / n_styles for _ in range(n_styles))
    if preserve_color is True:
        preserve_color = "coral"
    if preserve_color in (False, None, "", "none"):
        pc = None
    elif preserve_color in ("coral", "luminance"):
        pc = str(preserve_color)
    else:
        raise ConfigError(f"preserve_color must be False, True, 'coral' or 'luminance', got {preserve_color!r}")
    if size is not None:
        if isinstance(size, int) and not isinstance(size, bool):
            if size < 1:
                raise ConfigError(f"size must be positive, got {size}")
        elif isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
            size = (int(size[0]), int(size[1]))
        else:
            raise ConfigError(f"size must be None, an int (shorter side) or (height, width), got {size!r}")
    if style_size is not None and (not isinstance(style_size, int) or style_size < 1):
        raise ConfigError(f"style_size must be None or a positive int, got {style_size!r}")
    if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels < 64):
        raise ConfigError(f"max_pixels must be None or an int >= 64, got {max_pixels!r}")
    if resample not in RESAMPLE:
        raise ConfigError(f"resample must be one of {RESAMPLE}, got {resample!r}")
    return Options(float(alpha), weights, pc, size, style_size, max_pixels, bool(keep_alpha), resample)


def _ceil_mode_encoder(model: _Model) -> bool:
    """Encoders whose every stage maps H to ceil(H/2) (the VGGs' ceil-mode pooling), so the
    decoder gives ``multiple * ceil(H / multiple)`` for any H, as the reference computes."""
    return getattr(model.encoder, "kind", "") in ("vgg19_normalised", "vgg16")


def _prepare_style(x: torch.Tensor, opts: Options, multiple: int) -> torch.Tensor:
    """Resize to ``style_size`` (shorter side) within ``max_pixels``; tiny styles are enlarged
    to a shorter side of ``2 * multiple`` so that the deepest features have 2 pixels.
    (With ``resample="reference"`` the style_size step was done before, see :func:`_load_style`.)"""
    h, w = x.shape[-2:]
    if opts.style_size is not None and opts.resample != "reference":
        h, w = shorter_side(h, w, opts.style_size)
    h, w = fit_pixels(h, w, opts.max_pixels)
    if min(h, w) < 2 * multiple:
        h, w = shorter_side(h, w, 2 * multiple)
    return resize(x, (h, w))


def _style_key(src: Any, opts: Options, runner: Runner) -> tuple[Any, ...] | None:
    if not is_pathlike(src):
        return None
    try:
        st = os.stat(src)
    except OSError:
        return None
    return (str(Path(src).resolve()), st.st_mtime_ns, st.st_size, opts.style_size, opts.max_pixels, opts.resample, runner.key)


def _style_stats(runner: Runner, src: Any, opts: Options, content: torch.Tensor | None) -> StyleStats:
    """Statistics of one style; ``content`` (work size) is given when they depend on it."""
    if isinstance(src, StyleStats):
        if opts.preserve_color is not None:
            raise ConfigError("preserve_color needs the style image, not precomputed StyleStats")
        return src
    depends = opts.preserve_color is not None
    key = None if depends else _style_key(src, opts, runner)
    cache = _STYLE_CACHE.setdefault(runner.model, OrderedDict())
    if key is not None and key in cache:
        cache.move_to_end(key)
        return cache[key]
    s = _prepare_style(_load_style(src, opts).to(runner.device), opts, runner.model.multiple)
    if opts.preserve_color == "coral":
        assert content is not None
        if s.shape[0] not in (1, content.shape[0]):
            raise ImageError(f"a batch of {s.shape[0]} styles for {content.shape[0]} contents")
        s = torch.stack([coral(s[min(i, s.shape[0] - 1)], content[i]) for i in range(content.shape[0])])
    elif opts.preserve_color == "luminance":
        assert content is not None
        ys, yc = luminance(s), luminance(content)
        ms, ss = ys.mean((1, 2, 3), keepdim=True), ys.std((1, 2, 3), keepdim=True)
        mc, sc = yc.mean((1, 2, 3), keepdim=True), yc.std((1, 2, 3), keepdim=True)
        s = ((ys - ms) / (ss + 1e-6) * sc + mc).clamp(0, 1).expand(-1, 3, -1, -1)
    stats = runner.stats(s)
    if key is not None:
        cache[key] = stats
        while len(cache) > STYLE_CACHE_SIZE:
            cache.popitem(last=False)
    return stats


def _load_style(src: Any, opts: Options) -> torch.Tensor:
    """The style as a (N, 3, H, W) tensor; with ``resample="reference"`` and a ``style_size``,
    resized as the reference does (PIL bilinear on the 8-bit image, torchvision's size rule)."""
    if opts.resample == "reference" and opts.style_size is not None:
        if isinstance(src, torch.Tensor):
            s, _ = load_image(src, alpha="drop")
            return reference_resize(s, opts.style_size)
        img = open_image(src).convert("RGB")
        s, _ = load_image(reference_resize(img, opts.style_size), alpha="drop")
        return s
    s, _ = load_image(src, alpha="drop")
    return s


def _transfer(
    runner: Runner, x: torch.Tensor, styles: Sequence[Any], opts: Options, mask_srcs: Sequence[Any] | None
) -> torch.Tensor:
    """One content batch (N, 3, H, W) -> stylized (N, 3, h_out, w_out) float32 in [0, 1]."""
    n, _, h, w = x.shape
    out_h, out_w = _out_size(h, w, opts.size)
    check_output_pixels(out_h, out_w)  # before anything of that size is allocated
    work = fit_pixels(out_h, out_w, opts.max_pixels)
    x = resize(x.to(runner.device), work)
    chroma = None
    if opts.preserve_color == "luminance":
        chroma = rgb_to_yiq(resize(x, (out_h, out_w)))
        x_in = luminance(x).expand(-1, 3, -1, -1)
    else:
        x_in = x
    stats = [_style_stats(runner, s, opts, x) for s in styles]
    m = runner.model.multiple
    # VGG encoders (ceil-mode pooling) take any size >= 2m as it is, as the reference does
    # (its output is m * ceil(H / m) high; cropped here): padding to a multiple of m would
    # change the content's feature statistics. Other encoders get the content padded.
    pad = pad_small if _ceil_mode_encoder(runner.model) else pad_to_multiple
    xp = pad(x_in, m)
    f = runner.encode(xp)
    affine: tuple[torch.Tensor, torch.Tensor] | None
    if mask_srcs is not None:
        ms = torch.cat([_load_mask(mk, work, runner.device) for mk in mask_srcs])
        ms = pad(ms, m)
        ms = F.interpolate(ms, size=f.shape[-2:], mode="area")
        t, affine = masked_adain(f, stats, ms, runner.wct_mix), None
    else:
        mixed = stats[0] if len(stats) == 1 else StyleStats.mix(stats, opts.weights or ())
        if mixed.mean.shape[0] not in (1, n):
            raise ImageError(f"a batch of {mixed.mean.shape[0]} styles for a batch of {n} contents")
        if runner.wct_mix > 0:  # the transform and the alpha blend as one linear map, folded into the first conv
            t, affine = f, wct_affine(f, mixed, runner.wct_mix, opts.alpha)
        else:
            t, affine = f, adain_affine(f, mixed.mean, mixed.std, opts.alpha)  # folded into the decoder's first conv
    if affine is None and opts.alpha != 1.0:
        t = opts.alpha * t + (1.0 - opts.alpha) * f
    y = runner.decode(t, affine)[..., : work[0], : work[1]]
    y = resize(y.clamp(0.0, 1.0), (out_h, out_w))
    if chroma is not None:
        yiq = torch.cat([luminance(y), chroma[:, 1:]], dim=1)
        y = yiq_to_rgb(yiq)
    return y.clamp_(0.0, 1.0)


# ------------------------------------------------------------------ the API
def stylize(
    model: _Model,
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
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    keep_alpha: bool = True,
    precision: str = "auto",
    channels_last: bool = True,
    resample: str = "zoo",
) -> Any:
    """Stylize ``content`` with ``style`` (see the module docstring for every option)."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ConfigError("no style given; pass at least one style image")
    if mask is not None and masks is not None:
        raise ConfigError("give mask (two styles: white->first, black->second) or masks (one per style), not both")
    mask_srcs: list[Any] | None = None
    if mask is not None:
        if len(styles) != 2:
            raise ConfigError(f"mask needs exactly two styles (white->first, black->second), got {len(styles)}")
        m = _load_mask(mask, _mask_native_size(mask), torch.device("cpu"))[0, 0]
        mask_srcs = [m, 1.0 - m]
    elif masks is not None:
        mask_srcs = list(masks)
        if len(mask_srcs) != len(styles):
            raise ConfigError(f"{len(mask_srcs)} masks for {len(styles)} styles; give one mask per style")
    opts = _options(
        len(styles), alpha, style_weights, preserve_color, size, style_size, max_pixels, keep_alpha, mask_srcs is not None,
        resample,
    )
    device = next(model.parameters()).device
    runner = Runner(model, resolve_dtype(precision, device), channels_last)

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            if isinstance(content, (list, tuple)):
                return [_one(runner, c, styles, opts, mask_srcs) for c in content]
            return _one(runner, content, styles, opts, mask_srcs)
    finally:
        model.train(was_training)


def _one(runner: Runner, content: Any, styles: Sequence[Any], opts: Options, mask_srcs: Sequence[Any] | None) -> Any:
    if isinstance(content, torch.Tensor):
        x = check_tensor(content, name="content")
        y = _transfer(runner, x, styles, opts, mask_srcs)
        y = y.to(content.device)
        return y[0] if content.dim() == 3 else y
    if opts.resample == "reference" and isinstance(opts.size, int):
        # the reference's content_size: PIL bilinear to torchvision's size, before anything else
        import dataclasses

        img = open_image(content)
        check_output_pixels(*reference_size(img.height, img.width, opts.size))
        img = reference_resize(img, opts.size)
        x, a = load_image(img, alpha="keep" if opts.keep_alpha else "drop")
        y = _transfer(runner, x, styles, dataclasses.replace(opts, size=None), mask_srcs)
        return to_pil(y[0], alpha=a)
    x, a = load_image(content, alpha="keep" if opts.keep_alpha else "drop")
    y = _transfer(runner, x, styles, opts, mask_srcs)
    return to_pil(y[0], alpha=a)


__all__ = ["Options", "Runner", "coral", "masked_adain", "pad_small", "pad_to_multiple", "reference_resize",
           "reference_size", "stylize", "bf16_native"]
