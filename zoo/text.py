"""Text shown on a terminal: every control character that could drive it made visible.

A leaf: imports nothing of the zoo, so that any module (the plugin guard, cards, the CLI) may use it.
"""

from __future__ import annotations

import re

# C0/C1 controls but tab and newline, DEL, and the bidi embeddings/overrides/isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character that could drive a terminal (escape sequences, carriage
    returns that overwrite a line, bidi overrides) shown as a visible escape such as ``\\x1b``."""
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
