"""Converter from naoto0804/pytorch-AdaIN's ``vgg_normalised.pth`` and ``decoder.pth``.

Both files are state dicts of ``nn.Sequential`` models, keyed by module index
(``0.weight``, ``2.weight`` ...; see ``net.py`` at commit 2165a330). The encoder file
holds the whole normalised VGG-19 to relu5_4; the zoo keeps the layers up to
relu4_1 (the indices below) and drops the rest, as the reference's test.py does
(``vgg[:31]``). The decoder maps one to one. The two files may be given in
either order: each is recognised by its tensors. Pickles are read by
:func:`zoo.convert.read_checkpoint` with ``torch.load(weights_only=True)`` only.
"""

from __future__ import annotations

from typing import Any

from zoo.convert import StateDict, merge_config
from zoo.errors import ConversionError

LAYOUT = "naoto0804"

#: Sequential index of each conv in naoto0804's ``net.vgg`` -> the zoo's key prefix.
VGG_MAP: dict[int, str] = {
    0: "encoder.preprocess",
    2: "encoder.stages.0.conv1_1.conv",
    5: "encoder.stages.1.conv1_2.conv",
    9: "encoder.stages.1.conv2_1.conv",
    12: "encoder.stages.2.conv2_2.conv",
    16: "encoder.stages.2.conv3_1.conv",
    19: "encoder.stages.3.conv3_2.conv",
    22: "encoder.stages.3.conv3_3.conv",
    25: "encoder.stages.3.conv3_4.conv",
    29: "encoder.stages.3.conv4_1.conv",
}
#: Convs of ``net.vgg`` after relu4_1 (relu4_2 .. relu5_4): present in the file, unused.
VGG_UNUSED: tuple[int, ...] = (32, 35, 38, 42, 45, 48, 51)

#: Sequential index of each conv in naoto0804's ``net.decoder`` -> the zoo's key prefix.
DECODER_MAP: dict[int, str] = {
    1: "decoder.stages.0.conv4_1.conv",
    5: "decoder.stages.1.conv3_4.conv",
    8: "decoder.stages.1.conv3_3.conv",
    11: "decoder.stages.1.conv3_2.conv",
    14: "decoder.stages.1.conv3_1.conv",
    18: "decoder.stages.2.conv2_2.conv",
    21: "decoder.stages.2.conv2_1.conv",
    25: "decoder.stages.3.conv1_2.conv",
    28: "decoder.stages.3.conv1_1.conv",
}


def _is_vgg(state: StateDict) -> bool:
    w = state.get("0.weight")
    return w is not None and tuple(w.shape) == (3, 3, 1, 1)


def _is_decoder(state: StateDict) -> bool:
    w = state.get("1.weight")
    return w is not None and w.dim() == 4 and w.shape[1] == 512 and "0.weight" not in state


def _map(state: StateDict, table: dict[int, str], unused: tuple[int, ...], what: str) -> StateDict:
    out: StateDict = {}
    expected = {f"{i}.{p}" for i in table for p in ("weight", "bias")}
    missing = sorted(expected - set(state), key=lambda k: int(k.split(".")[0]))
    if missing:
        raise ConversionError(
            f"{LAYOUT} {what}: missing tensors {missing[:6]}; is this naoto0804's {what}.pth?"
        )
    allowed = expected | {f"{i}.{p}" for i in unused for p in ("weight", "bias")}
    extra = sorted(set(state) - allowed)
    if extra:
        raise ConversionError(f"{LAYOUT} {what}: unexpected tensors {extra[:6]}; not naoto0804's layout")
    for i, prefix in table.items():
        for p in ("weight", "bias"):
            out[f"{prefix}.{p}"] = state[f"{i}.{p}"]
    return out


def from_naoto0804(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    """naoto0804's ``vgg_normalised.pth`` and ``decoder.pth`` (either order) -> the zoo's state dict."""
    if len(states) != 2:
        raise ConversionError(
            f"{LAYOUT}: give two files, vgg_normalised.pth and decoder.pth (got {len(states)})"
        )
    vgg = [s for s in states if _is_vgg(s)]
    dec = [s for s in states if _is_decoder(s)]
    if len(vgg) != 1 or len(dec) != 1:
        raise ConversionError(
            f"{LAYOUT}: expected one encoder file (0.weight of shape (3, 3, 1, 1)) and one decoder file "
            "(1.weight of shape (256, 512, 3, 3)); check that you passed vgg_normalised.pth and decoder.pth"
        )
    state = {**_map(vgg[0], VGG_MAP, VGG_UNUSED, "vgg_normalised"), **_map(dec[0], DECODER_MAP, (), "decoder")}
    inferred = {"encoder": "vgg19_normalised", "encoder_width": 1.0, "decoder_width": 1.0}
    return state, merge_config(inferred, config, layout=LAYOUT)


def to_naoto0804(state: StateDict) -> tuple[StateDict, StateDict]:
    """The inverse mapping (zoo -> naoto0804's encoder to relu4_1, decoder), for tests and benches."""
    vgg = {f"{i}.{p}": state[f"{k}.{p}"] for i, k in VGG_MAP.items() for p in ("weight", "bias")}
    dec = {f"{i}.{p}": state[f"{k}.{p}"] for i, k in DECODER_MAP.items() for p in ("weight", "bias")}
    return vgg, dec


__all__ = ["DECODER_MAP", "LAYOUT", "VGG_MAP", "from_naoto0804", "to_naoto0804"]
