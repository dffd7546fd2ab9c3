"""Old path of :mod:`zoo.cli.catalog`: the same module under its former name."""

import sys

from zoo.cli import catalog as _module

sys.modules[__name__] = _module
