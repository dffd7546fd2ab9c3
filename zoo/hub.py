"""Old path of :mod:`zoo.repos.hub`: the same module under its former name."""

import sys

from zoo.repos import hub as _module

sys.modules[__name__] = _module
