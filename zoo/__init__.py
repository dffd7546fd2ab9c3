"""zoo: a plugin-based model zoo and registry for GANs and style transfer.

    import zoo
    G = zoo.load("dcgan.mnist")        # arch.tag
    images = G.sample(16, seed=0)      # float tensor in [0, 1], (n, C, H, W)
    zoo.list_models("*gan*", pretrained=True)
    print(zoo.card("dcgan"))

Importing zoo, listing, model_info and card import no torch; load and build do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    CardError,
    CatalogError,
    ConfigError,
    ConversionError,
    DataError,
    DerivationError,
    DuplicateNameError,
    HashMismatchError,
    HubUnreachableError,
    ImageError,
    InvalidRecordError,
    LimitExceededError,
    NonFiniteWeightsError,
    NotOnHubError,
    OfflineNotCachedError,
    OutputPathError,
    PinMismatchError,
    PluginError,
    QueryError,
    ReentrantCallError,
    ReservedNameError,
    StateDictError,
    UnknownModelError,
    WeightsError,
    WeightsNotFoundError,
    ZooError,
)
from .hookspecs import hookimpl
from .registry import Architecture, Field, ModelInfo, Weights

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from huggingface_hub import ModelCard

    from .plugins import PluginStatus

__version__ = "0.1.0"


def list_models(pattern: str | list[str] | None = None, *, pretrained: bool = False) -> list[str]:
    """Registered model names (``arch.tag`` and bare architectures) matching shell-style glob(s).

    With ``pretrained=True`` only names that have published weights.
    """
    from .plugins import get_host

    return get_host().registry.list(pattern, pretrained=pretrained)


def model_info(name: str) -> ModelInfo:
    """The Architecture and Weights records behind ``name``."""
    from .plugins import get_host

    return get_host().registry.info(name)


def card(name: str) -> ModelCard:
    """The model card of ``name`` as a huggingface_hub ``ModelCard``."""
    from .cards import card_for

    return card_for(name)


def list_plugins() -> list[PluginStatus]:
    """Every installed plugin with its state (ok, broken, disabled) and what it registered."""
    from .plugins import get_host

    return list(get_host().plugins.values())


def load(
    name: str,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.nn.Module:
    """The model ``name`` with its weights, in eval mode (for a GAN: the generator)."""
    from .loading import load as _load

    return _load(name, revision=revision, device=device, dtype=dtype)


def build(arch: str, /, **config: Any) -> torch.nn.Module:
    """The same model, untrained, built from its architecture and a validated config."""
    from .loading import build as _build

    return _build(arch, **config)


__all__ = [
    "Architecture",
    "CardError",
    "CatalogError",
    "ConfigError",
    "ConversionError",
    "DataError",
    "DerivationError",
    "DuplicateNameError",
    "Field",
    "HashMismatchError",
    "HubUnreachableError",
    "ImageError",
    "InvalidRecordError",
    "LimitExceededError",
    "ModelInfo",
    "NonFiniteWeightsError",
    "NotOnHubError",
    "OfflineNotCachedError",
    "OutputPathError",
    "PinMismatchError",
    "PluginError",
    "QueryError",
    "ReentrantCallError",
    "ReservedNameError",
    "StateDictError",
    "UnknownModelError",
    "Weights",
    "WeightsError",
    "WeightsNotFoundError",
    "ZooError",
    "build",
    "card",
    "hookimpl",
    "list_models",
    "list_plugins",
    "load",
    "model_info",
]
