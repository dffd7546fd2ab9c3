"""Old path of :mod:`zoo.cli.models`: the same module under its former name."""

import sys

from zoo.cli import models as _module

sys.modules[__name__] = _module
