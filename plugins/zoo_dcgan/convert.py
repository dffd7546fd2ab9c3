"""Converter from pytorch/examples ``dcgan/main.py`` checkpoints (``netG_epoch_N.pth``).

The zoo keeps that layout, so the keys pass unchanged; the config (nz, ngf, nc,
image_size) is read off the tensor shapes.
"""

from __future__ import annotations

from typing import Any

from zoo.convert import StateDict, add_num_batches_tracked, merge_config, require_keys, single
from zoo.errors import ConversionError

LAYOUT = "pytorch-examples"


def infer_config(state: StateDict) -> dict[str, Any]:
    """nz, ngf, nc, image_size from a pytorch/examples generator state dict."""
    convs = sorted(
        (int(k.split(".")[1]) for k, v in state.items() if k.startswith("main.") and k.endswith(".weight") and v.dim() == 4),
    )
    if not convs:
        raise ConversionError(f"not a {LAYOUT} DCGAN generator: no main.N.weight conv tensors")
    first, last = state[f"main.{convs[0]}.weight"], state[f"main.{convs[-1]}.weight"]
    if first.shape[-2:] != (4, 4):
        raise ConversionError(f"not a {LAYOUT} DCGAN generator: main.{convs[0]}.weight is {tuple(first.shape)}")
    n_conv = len(convs)
    image_size = {4: 32, 5: 64}.get(n_conv)
    if image_size is None:
        raise ConversionError(
            f"{LAYOUT}: {n_conv} transposed convolutions; the zoo's DCGAN has 4 (32 px) or 5 (64 px)"
        )
    nz, c0 = first.shape[0], first.shape[1]
    ngf, nc = last.shape[0], last.shape[1]
    if c0 != ngf * 2 ** (n_conv - 2):
        raise ConversionError(f"{LAYOUT}: channel widths {c0}..{ngf} are not the DCGAN doubling pattern")
    return {"nz": int(nz), "ngf": int(ngf), "nc": int(nc), "image_size": image_size}


def from_pytorch_examples(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    state = single(states, layout=LAYOUT)
    # netD has main.0 conv, main.2 conv, main.3 batch norm; netG has main.1 batch norm
    if "main.0.weight" in state and "main.2.weight" in state:
        raise ConversionError(
            f"{LAYOUT}: this is a discriminator checkpoint (netD_epoch_N.pth); convert the generator "
            "(netG_epoch_N.pth): zoo.load returns generators"
        )
    require_keys(state, ["main.0.weight", "main.1.running_mean"], layout=LAYOUT)
    inferred = infer_config(state)
    cfg = merge_config(inferred, config, layout=LAYOUT)
    return add_num_batches_tracked(state), cfg
