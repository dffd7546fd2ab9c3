"""Old path of :mod:`zoo.cli.train`: the same module under its former name."""

import sys

from zoo.cli import train as _module

sys.modules[__name__] = _module
