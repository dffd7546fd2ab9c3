"""The teacher of AdaIN's training (issue 20): a zoo style model whose stylization of each training pair is an
extra target for the decoder (TrainConfig.teacher, teacher_weight, teacher_target)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import ConfigError


def load_teacher(name: str) -> nn.Module:
    """The zoo style model ``name`` as a frozen teacher (eval mode, no gradients)."""
    import zoo

    model = zoo.load(name)
    if not callable(getattr(model, "stylize", None)):
        raise ConfigError(f"teacher {name!r} has no stylize(): pass a style-transfer model such as magenta-arbitrary")
    return model.eval().requires_grad_(False)


def teacher_outputs(teacher: nn.Module, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """The teacher's stylization of each (content, style) pair, (N, 3, H, W) in [0, 1] at the content's size.

    A model with ``style_vector`` and ``forward(content, vector)`` (the Magenta arbitrary network) runs batched,
    its style network on the style crops resized to its own input size (``style_size``, 256 for Magenta's);
    any other goes pair by pair through its ``stylize`` contract."""
    if callable(getattr(teacher, "style_vector", None)):
        size = int(getattr(teacher, "style_size", 0) or style.shape[-1])
        s = style if style.shape[-1] == size else F.interpolate(style, size=(size, size), mode="bilinear",
                                                                antialias=True, align_corners=False)
        out = teacher(content, teacher.style_vector(s))
    else:
        out = torch.stack([teacher.stylize(c, s) for c, s in zip(content, style)])
    if out.shape[-2:] != content.shape[-2:]:
        out = F.interpolate(out, size=content.shape[-2:], mode="bilinear", align_corners=False)
    return out.float().clamp(0, 1)
