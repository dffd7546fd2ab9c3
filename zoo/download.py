"""Old path of :mod:`zoo.repos.download`: the same module under its former name."""

import sys

from zoo.repos import download as _module

sys.modules[__name__] = _module
