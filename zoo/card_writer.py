"""Old path of :mod:`zoo.cards.writer`: the same module under its former name."""

import sys

from zoo.cards import writer as _module

sys.modules[__name__] = _module
