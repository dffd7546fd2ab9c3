"""The ``zoo`` command line. Thin: every command calls the public API.

Commands that need torch (sample, train, ...) import it only when they run, so
``zoo --help``, ``zoo list``, ``zoo info``, ``zoo card`` and ``zoo plugins`` stay
light. Plugins add commands through the ``register_commands`` hook
(:class:`zoo.Command` records): ``zoo --help`` lists them from the records and
imports a plugin's command only when it runs.

The package: :mod:`.group` (the click group, ``list``, ``plugins``, the lazy table),
:mod:`.models` (``info``, ``card``, ``sample``, ``download``, ``verify``), and one
module per lazily imported command family (``train``/``eval``, ``push``/``new-plugin``,
``convert``, ``setup``, ``catalog``/``serve``).
"""

from __future__ import annotations

from . import models as _models  # noqa: F401  (registers info, card, sample, download, verify)
from .group import ZooGroup, builtin_command_names, cli, import_command, list_cmd, main, plugins_cmd
from .group import _LAZY, _record_dict  # noqa: F401  (used by tests and plugins' commands)

__all__ = ["ZooGroup", "builtin_command_names", "cli", "import_command", "list_cmd", "main", "plugins_cmd"]
