"""Training the zoo's GANs: datasets, losses, recipes and one training loop.

Importing this package imports torch (unlike ``zoo`` itself).
"""

from .data import DATASETS, ImageData, load_dataset
from .losses import ResolvedLoss, available_losses, get_loss, gradient_penalty
from .loop import BatchStream, LoopConfig, TrainResult, init_distributed, train_gan
from .recipes import Recipe, architecture_recipe, recipe_from_mapping

__all__ = [
    "DATASETS",
    "ImageData",
    "load_dataset",
    "ResolvedLoss",
    "available_losses",
    "get_loss",
    "gradient_penalty",
    "BatchStream",
    "LoopConfig",
    "TrainResult",
    "init_distributed",
    "train_gan",
    "Recipe",
    "architecture_recipe",
    "recipe_from_mapping",
]
