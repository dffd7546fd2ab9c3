"""Old path of :mod:`zoo.scaffold.style`: the same module under its former name."""

import sys

from zoo.scaffold import style as _module

sys.modules[__name__] = _module
