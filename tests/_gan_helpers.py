"""Shared helpers of the GAN-family tests (not a test module)."""

from __future__ import annotations

import importlib

import torch

import zoo


def randomize(module: torch.nn.Module, seed: int = 0, scale: float = 0.1) -> None:
    """Fill every float tensor of the state dict with fixed random values (running_var > 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith(("._u", "._v", "weight_u", "weight_v")):
                t.copy_(torch.nn.functional.normalize(torch.randn(t.shape, generator=g), dim=0))
            else:
                t.copy_(torch.randn(t.shape, generator=g) * scale)


def component(arch: str, name: str = "discriminator", **config):
    record = zoo.model_info(arch).architecture
    module, _, attr = record.components[name].partition(":")
    return getattr(importlib.import_module(module), attr)(**record.validate_config(config))


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def meta_build(arch: str, **config) -> torch.nn.Module:
    """The generator built on the meta device: shapes and keys at no cost."""
    with torch.device("meta"):
        return zoo.build(arch, **config)


def meta_component(arch: str, name: str = "discriminator", **config) -> torch.nn.Module:
    with torch.device("meta"):
        return component(arch, name, **config)
