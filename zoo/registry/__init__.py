"""The records plugins register, model names, lookup and listing.

Records: :class:`Architecture` and :class:`Weights` (models), :class:`Loss`
(a named pair of adversarial losses), :class:`TrainingRecipe` (named training
settings for an architecture) and :class:`Command` (a ``zoo`` subcommand).
Nothing here imports torch: a record names its code by import path, imported
only when it is used.

Names: a model is ``architecture.tag`` (``mynet.mnist``); the bare architecture
name means its default tag. Names are lower case.

The package: :mod:`.names` (names and plain values), :mod:`.models` (Architecture, Weights, Field),
:mod:`.components` (Loss, TrainingRecipe, Command, Evaluator), :mod:`.lookup` (Registry, ModelInfo).
Every name is importable from ``zoo.registry`` as before.
"""

from __future__ import annotations

from .names import (  # noqa: F401
    _ARCH_RE, _TAG_RE, _SHA256_RE, _COMMIT_RE, _IMPORT_PATH_RE, _LOSS_RE, _COMMAND_RE, _REPO_PART, _REPO_ID_RE,
    _REPO_FILE_RE, repo_id_problem, repo_file_problem, _TYPES, _frozen, _plain_data_problem,
    normalise_loss_name, _TASK_RE,
)
from .models import (  # noqa: F401
    Field, Architecture, Weights,
)
from .components import (  # noqa: F401
    Loss, TrainingRecipe, Command, Evaluator,
)
from .lookup import (  # noqa: F401
    Record, ModelInfo, Registry,
)
