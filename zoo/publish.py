"""Old path of :mod:`zoo.repos.publish`: the same module under its former name."""

import sys

from zoo.repos import publish as _module

sys.modules[__name__] = _module
