"""Hook specifications of the zoo's plugin host (pluggy project name ``zoo``).

A plugin is a module, found through the ``zoo.plugins`` entry-point group,
that implements any of these hooks with ``@zoo.hookimpl``. Each hook receives a
``register`` callback that takes the zoo's own record type for that hook; the
host records which plugin registered what. A plugin's registration module must
not import torch: every record names its code by import path instead
(docs/plugins.md).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_architectures(register):  # type: ignore[no-untyped-def]
    """Register architectures: call ``register(zoo.Architecture(...))`` once for each."""


@hookspec
def register_weights(register):  # type: ignore[no-untyped-def]
    """Register published weights: call ``register(zoo.Weights(...))`` once for each."""


@hookspec
def register_losses(register):  # type: ignore[no-untyped-def]
    """Register adversarial losses: call ``register(zoo.Loss(name, d="pkg.mod:fn", g="pkg.mod:fn"))``."""


@hookspec
def register_recipes(register):  # type: ignore[no-untyped-def]
    """Register training recipes for any architecture: ``register(zoo.TrainingRecipe(arch, name, settings))``."""


@hookspec
def register_commands(register):  # type: ignore[no-untyped-def]
    """Register ``zoo`` subcommands: ``register(zoo.Command(name, "pkg.mod:click_command", help="..."))``.

    Unlike llm's ``register_commands(cli)``, the command is named by import path and imported only
    when it runs, so that ``zoo --help`` imports no plugin code beyond the registrations.
    """


@hookspec
def register_evaluators(register):  # type: ignore[no-untyped-def]
    """Register evaluators of a task: ``register(zoo.Evaluator(name, task, "pkg.mod:evaluate"))``; ``zoo eval
    NAME`` runs the one of the model's task (docs/plugins.md, 'Evaluators')."""
