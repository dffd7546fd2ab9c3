"""Old path of :mod:`zoo.cli.publish`: the same module under its former name."""

import sys

from zoo.cli import publish as _module

sys.modules[__name__] = _module
