"""Converters for wgan and wgan-gp generators.

- "eriklindernoren": implementations/wgan and wgan_gp MLP generators (net=mlp),
  the same keys as implementations/gan (see zoo_gan.convert).
- "pytorch-examples": a DCGAN-layout generator (``main.N``; net=dcgan), the
  layout that most DCGAN-based WGAN code keeps.
"""

from __future__ import annotations

from typing import Any

from zoo.convert import StateDict
from zoo.errors import ConversionError


def _net(config: dict[str, Any], want: str) -> dict[str, Any]:
    net = config.get("net", want)
    if net != want:
        raise ConversionError(f"this layout holds a net={want!r} generator, but --config says net={net!r}")
    return {k: v for k, v in config.items() if k != "net"}


def from_eriklindernoren(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    from zoo_gan.convert import from_eriklindernoren as mlp

    state, cfg = mlp(states, _net(config, "mlp"))
    return state, {"net": "mlp", **cfg}


def from_pytorch_examples(states: list[StateDict], config: dict[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    from zoo_dcgan.convert import from_pytorch_examples as dcgan

    rest = _net(config, "dcgan")
    extra = {k: rest.pop(k) for k in ("ndf", "bn_eps", "critic_norm") if k in rest}
    state, cfg = dcgan(states, rest)
    return state, {"net": "dcgan", **cfg, **extra}
