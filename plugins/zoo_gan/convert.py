"""Converter from eriklindernoren/PyTorch-GAN ``implementations/gan`` (also
``wgan`` and ``wgan_gp``, whose MLP generators have the same keys).

The zoo keeps that layout (``model.N``), so keys pass unchanged; nz, nc and
image_size are read off the shapes (nc*image_size^2 must be a square for
nc=1, or nc must be given). bn_eps is not in a state dict: the reference's
scripts use 0.8 (gan.py and the current wgan.py, wgan_gp.py); the early
wgan/wgan_gp versions used the default 1e-5; pass {"bn_eps": 1e-05} for those.
"""

from __future__ import annotations

import math
from typing import Any

from zoo.convert import StateDict, merge_config, require_keys, single
from zoo.errors import ConversionError

LAYOUT = "eriklindernoren"
G_KEYS = ["model.0.weight", "model.2.weight", "model.3.running_mean", "model.11.weight"]


def infer_config(state: StateDict, given: dict[str, Any]) -> dict[str, Any]:
    if "model.4.weight" in state and "model.11.weight" not in state:
        raise ConversionError(
            f"{LAYOUT}: this is a discriminator checkpoint; convert the generator: zoo.load returns generators"
        )
    require_keys(state, G_KEYS, layout=LAYOUT)
    nz = int(state["model.0.weight"].shape[1])
    out = int(state["model.11.weight"].shape[0])
    nc = int(given.get("nc", 1))
    side = math.isqrt(out // nc) if out % nc == 0 else 0
    if side * side * nc != out:
        raise ConversionError(
            f"{LAYOUT}: output size {out} is not nc*H*W for nc={nc} and a square image; give nc in --config"
        )
    return {"nz": nz, "nc": nc, "image_size": side}


def from_eriklindernoren(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    state = single(states, layout=LAYOUT)
    cfg = merge_config(infer_config(state, config), config, layout=LAYOUT)
    cfg.setdefault("bn_eps", 0.8)
    return dict(state), cfg
