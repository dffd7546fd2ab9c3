"""What both Magenta stylizers share: option checks, the network runner (dtype, fake quantisation), colour
(YIQ), sizes and padding, masks and compositing. Part of :mod:`zoo_magenta.stylize`, which re-exports
every name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zoo.errors import ConfigError, ImageError
from zoo.images import (check_tensor, fit_pixels, load_image, open_image, resize, rgb_to_yiq, shorter_side,
                        to_pil, yiq_to_rgb)


_yiq, _rgb = rgb_to_yiq, yiq_to_rgb


# ------------------------------------------------------------------ options
def _check_common(alpha: Any, size: Any, max_pixels: Any, precision: str) -> Any:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}")
    if size is not None:
        if isinstance(size, int) and not isinstance(size, bool):
            if size < 1:
                raise ConfigError(f"size must be positive, got {size}")
        elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
            size = (int(size[0]), int(size[1]))
        else:
            raise ConfigError(f"size must be None, an int (shorter side) or (height, width), got {size!r}")
    if max_pixels is not None and (not isinstance(max_pixels, int) or max_pixels < 64):
        raise ConfigError(f"max_pixels must be None or an int >= 64, got {max_pixels!r}")
    if precision not in ("auto", "fp32", "bf16"):
        raise ConfigError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    return size


def _normalised(weights: Sequence[float], n: int, what: str = "style weights") -> list[float]:
    ws = [float(w) for w in weights]
    if len(ws) != n:
        raise ConfigError(f"{len(ws)} {what} for {n} styles; give one weight per style")
    if any(not np.isfinite(w) or w < 0 for w in ws) or sum(ws) <= 0:
        raise ConfigError(f"{what} must be finite, >= 0 and have a positive sum, got {ws}")
    return [w / sum(ws) for w in ws]


def _color_mode(preserve_color: Any) -> str | None:
    if preserve_color is True:
        return "coral"
    if preserve_color in (False, None, "", "none"):
        return None
    if preserve_color in ("coral", "luminance"):
        return str(preserve_color)
    raise ConfigError(f"preserve_color must be False, True, 'coral' or 'luminance', got {preserve_color!r}")


def _dtype(model: torch.nn.Module, precision: str, fake_quant: bool) -> torch.dtype:
    """fp32, bf16, or for "auto" the zoo's rule (zoo.machine.resolve_precision: bf16 on CUDA and on a CPU with
    native bf16 convolutions, else fp32); a model loaded in float16 or float64 keeps its dtype under "auto"."""
    from zoo.machine import resolve_precision

    own = next(model.parameters())
    if fake_quant:
        if precision == "bf16":
            raise ConfigError("fake_quant reproduces the int8 graph in fp32: use precision='fp32' (or 'auto')")
        return torch.float32
    if precision == "auto" and own.dtype not in (torch.float32, torch.bfloat16):
        return own.dtype
    chosen = resolve_precision(precision, str(own.device.type))
    return torch.bfloat16 if chosen == "bf16" else torch.float32


class _Net:
    """The model in the dtype and memory format asked for (a converted copy kept on the model)."""

    def __init__(self, model: torch.nn.Module, dtype: torch.dtype, channels_last: bool) -> None:
        p = next(model.parameters())
        self.device = p.device
        self.dtype = dtype
        self.fmt = torch.channels_last if channels_last else torch.contiguous_format
        if dtype == p.dtype and not channels_last:
            self.net = model
        else:
            # one converted copy per (dtype, memory format), rebuilt when a parameter changes
            version = tuple((t.data_ptr(), t._version) for t in model.state_dict().values())
            cache = model.__dict__.setdefault("_zoo_converted", {})
            found = cache.get((dtype, self.fmt))
            if found is None or found[0] != version:
                import copy

                net = copy.deepcopy(model)
                net.__dict__.pop("_zoo_converted", None)
                net.to(dtype=dtype, memory_format=self.fmt).eval()
                cache[(dtype, self.fmt)] = (version, net)
            self.net = cache[(dtype, self.fmt)][1]

    def prep(self, x: torch.Tensor) -> torch.Tensor:
        # images go in as plain NCHW even with channels_last weights: the first convs then write
        # channels_last outputs, and a 3-channel channels_last image is slow to pad and convolve
        # (measured: transformer at 1024 px in bf16, 0.23 s from channels_last input, 0.15 s from NCHW)
        return x.to(self.device, self.dtype).contiguous()


def pad_to(x: torch.Tensor, m: int) -> torch.Tensor:
    """(N, C, H, W) reflection-padded at the bottom and right to multiples of ``m`` (replicate when
    too small to reflect)."""
    h, w = x.shape[-2:]
    ph, pw = -h % m, -w % m
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _load_mask(src: Any, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """A (1, 1, h, w) float mask in [0, 1] at ``size``."""
    if isinstance(src, torch.Tensor):
        m = src.detach()
        m = m.float() / 255.0 if m.dtype == torch.uint8 else m.float()
        while m.dim() > 2 and m.shape[0] == 1:
            m = m[0]
        if m.dim() != 2:
            raise ImageError(f"a mask tensor must be (H, W) or (1, H, W), got {tuple(src.shape)}")
        if not torch.isfinite(m).all():
            raise ImageError("a mask tensor holds NaN or infinite values; give values in [0, 1]")
        m = m[None, None]
    else:
        img = open_image(src).convert("L")
        m = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[None, None]
    m = F.interpolate(m.to(device), size=size, mode="bilinear", align_corners=False, antialias=True)
    return m.clamp_(0.0, 1.0)


def _mask_sources(n_styles: int, mask: Any, masks: Sequence[Any] | None) -> list[tuple[Any, bool]] | None:
    """(mask source, inverted) per style, or None without masks."""
    if mask is not None and masks is not None:
        raise ConfigError("give mask (two styles: white->first, black->second) or masks (one per style), not both")
    if mask is not None:
        if n_styles != 2:
            raise ConfigError(f"mask needs exactly two styles (white->first, black->second), got {n_styles}")
        return [(mask, False), (mask, True)]
    if masks is not None:
        srcs = list(masks)
        if len(srcs) != n_styles:
            raise ConfigError(f"{len(srcs)} masks for {n_styles} styles; give one mask per style")
        return [(m, False) for m in srcs]
    return None


def _masks_at(srcs: list[tuple[Any, bool]], size: tuple[int, int], device: torch.device) -> torch.Tensor:
    out = []
    for src, invert in srcs:
        m = _load_mask(src, size, device)
        out.append(1.0 - m if invert else m)
    return torch.cat(out)  # (K, 1, h, w)


def _composite(results: list[torch.Tensor], masks: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """Blend per-style results by mask weight; the photo where no mask covers."""
    cover = masks.sum(0, keepdim=True)  # (1, 1, h, w)
    acc = sum(m[None] * r for m, r in zip(masks, results))
    blended = acc / cover.clamp_min(1e-6)
    cov = cover.clamp(0.0, 1.0)
    return cov * blended + (1.0 - cov) * photo


def _work_size(h: int, w: int, size: Any, max_pixels: int | None) -> tuple[tuple[int, int], tuple[int, int]]:
    if size is None:
        out = (h, w)
    elif isinstance(size, int):
        out = shorter_side(h, w, size)
    else:
        out = size
    return out, fit_pixels(out[0], out[1], max_pixels)


def _finish(y: torch.Tensor, out: tuple[int, int], chroma: torch.Tensor | None) -> torch.Tensor:
    y = resize(y.float().clamp(0.0, 1.0), out)
    if chroma is not None:
        y = _rgb(torch.cat([_yiq(y)[:, :1], chroma[:, 1:]], dim=1))
    return y.clamp_(0.0, 1.0)


def _run(content: Any, keep_alpha: bool, fn: Any) -> Any:
    """Apply ``fn`` ((N, 3, H, W) float tensor -> same) keeping the input's kind."""
    if isinstance(content, (list, tuple)):
        return [_run(c, keep_alpha, fn) for c in content]
    if isinstance(content, torch.Tensor):
        x = check_tensor(content, name="content")
        if not torch.isfinite(x).all():
            raise ImageError("content: the tensor holds NaN or infinite values; give RGB values in [0, 1]")
        y = fn(x).to(content.device)
        return y[0] if content.dim() == 3 else y
    x, a = load_image(content, alpha="keep" if keep_alpha else "drop")
    return to_pil(fn(x)[0], alpha=a)
