"""Old path of :mod:`zoo.cli.setup`: the same module under its former name."""

import sys

from zoo.cli import setup as _module

sys.modules[__name__] = _module
