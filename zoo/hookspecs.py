"""Hook specifications of the zoo's plugin host (pluggy project name ``zoo``).

A plugin is a module, found through the ``zoo.plugins`` entry-point group,
that implements one or both hooks with ``@zoo.hookimpl``. Each hook receives a
``register`` callback; the host records which plugin registered what. A
plugin's registration module must not import torch: name builders by import
path instead.
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
