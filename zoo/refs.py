"""Old path of :mod:`zoo.repos.refs`: the same module under its former name."""

import sys

from zoo.repos import refs as _module

sys.modules[__name__] = _module
