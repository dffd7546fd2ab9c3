"""zoo: a plugin-based model zoo and registry for GANs and style transfer.

    import zoo
    G = zoo.load("dcgan.mnist")        # arch.tag
    images = G.sample(16, seed=0)      # float tensor in [0, 1], (n, C, H, W)
    zoo.list_models("*gan*", pretrained=True)
    print(zoo.card("dcgan"))

Importing zoo, listing, model_info and card import no torch; load and build do.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .errors import (
    CardError,
    CatalogError,
    ConfigError,
    ConversionError,
    DataError,
    DerivationError,
    DuplicateNameError,
    FileNotInRepoError,
    HashMismatchError,
    HubUnreachableError,
    ImageError,
    InvalidRecordError,
    InvalidRefError,
    LimitExceededError,
    ModelRepoError,
    NonFiniteWeightsError,
    NotOnHubError,
    OfflineNotCachedError,
    OutputPathError,
    PinMismatchError,
    PluginError,
    QueryError,
    ReentrantCallError,
    ReservedNameError,
    RevisionNotFoundError,
    StateDictError,
    UnknownArchitectureError,
    UnknownModelError,
    WeightsError,
    WeightsNotFoundError,
    ZooError,
)
from .hookspecs import hookimpl
from .repos.refs import ModelRef, ModelSource
from .registry import Architecture, Command, Evaluator, Field, Loss, ModelInfo, TrainingRecipe, Weights

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


def model_info(name: str | os.PathLike[str] | ModelRef) -> ModelInfo | ModelSource:
    """What ``name`` is: for a registered name its Architecture and Weights records (ModelInfo); for a
    Hub-repo folder or ``hf-hub:org/name[@revision]`` a ModelSource (architecture, validated config,
    resolved commit, sha256 of the weights, fetched into the cache for a Hub repo)."""
    from .repos.refs import parse_ref, repo_info

    ref = parse_ref(name)
    if ref.kind != "registered":
        return repo_info(ref)
    from .plugins import get_host

    return get_host().registry.info(ref.name or "")


def card(name: str | os.PathLike[str] | ModelRef) -> ModelCard:
    """The model card of ``name`` (a registered name, a folder or an ``hf-hub:`` reference) as a
    huggingface_hub ``ModelCard``, read and checked against the zoo's card schema."""
    from .repos.refs import parse_ref, repo_card

    ref = parse_ref(name)
    if ref.kind != "registered":
        return repo_card(ref)
    from .cards import card_for

    return card_for(ref.name or "")


def list_plugins() -> list[PluginStatus]:
    """Every installed plugin with its state (ok, broken, disabled) and what it registered."""
    from .plugins import get_host

    return list(get_host().plugins.values())


def load(
    name: str | os.PathLike[str] | ModelRef,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.nn.Module:
    """The model ``name`` with its weights, in eval mode (for a GAN: the generator).

    ``name``: a registered name (``dcgan.mnist``), a Hub-repo folder (config.json + model.safetensors),
    or ``hf-hub:org/name[@revision]`` (a branch or tag is resolved to its commit; a commit pins it).
    ``model.zoo_source`` records where the weights came from and their sha256 (docs/loading.md).
    """
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
    "Command",
    "Evaluator",
    "ConfigError",
    "ConversionError",
    "DataError",
    "DerivationError",
    "DuplicateNameError",
    "Field",
    "FileNotInRepoError",
    "HashMismatchError",
    "HubUnreachableError",
    "ImageError",
    "InvalidRecordError",
    "InvalidRefError",
    "LimitExceededError",
    "Loss",
    "ModelInfo",
    "ModelRef",
    "ModelRepoError",
    "ModelSource",
    "NonFiniteWeightsError",
    "NotOnHubError",
    "OfflineNotCachedError",
    "OutputPathError",
    "PinMismatchError",
    "PluginError",
    "QueryError",
    "ReentrantCallError",
    "ReservedNameError",
    "RevisionNotFoundError",
    "StateDictError",
    "TrainingRecipe",
    "UnknownArchitectureError",
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
