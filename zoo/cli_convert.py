"""Old path of :mod:`zoo.cli.convert`: the same module under its former name."""

import sys

from zoo.cli import convert as _module

sys.modules[__name__] = _module
