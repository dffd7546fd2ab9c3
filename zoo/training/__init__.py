"""Training: the host's one training mechanism (zoo.training.engine), the GAN's adversarial step
(zoo.training.loop), datasets, losses and recipes.

An architecture's trainer is a component (``components={"trainer": "pkg.mod:MyTrainer"}``, a
:class:`Trainer` subclass); a GAN with a discriminator gets :class:`AdversarialTrainer`. `zoo train`
runs either through :func:`run_loop` (checkpoint and resume, progress, logging, precision, DDP) and the
trainer's export. Importing this package imports torch (unlike ``zoo`` itself).
"""

from .data import DATASETS, ImageData, load_dataset
from .engine import LoopConfig, StepContext, Trainer, TrainResult, init_distributed, run_loop
from .losses import ResolvedLoss, available_losses, get_loss, get_losses, gradient_penalty
from .loop import AdversarialTrainer, BatchStream, train_gan
from .recipes import Recipe, architecture_recipe, recipe_from_mapping

__all__ = [
    "DATASETS",
    "ImageData",
    "load_dataset",
    "ResolvedLoss",
    "available_losses",
    "get_loss",
    "get_losses",
    "gradient_penalty",
    "AdversarialTrainer",
    "BatchStream",
    "LoopConfig",
    "StepContext",
    "Trainer",
    "TrainResult",
    "init_distributed",
    "run_loop",
    "train_gan",
    "Recipe",
    "architecture_recipe",
    "recipe_from_mapping",
]
