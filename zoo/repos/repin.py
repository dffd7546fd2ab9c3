"""Re-pinning a plugin's published weights after its card folder in cards/ changed (new weights, a new
card text): the ``zoo.Weights(name=...)`` record in a plugin's ``published.py`` gets the folder's commit sha
(:func:`zoo.repos.publish.folder_revision`), the weights file's sha256 and size, the metrics that
``zoo eval --write`` put in the folder's config.json, and optionally new notes. Only those keyword values
are rewritten in the source; everything else in the file stays byte for byte.

    python -m zoo.repos.repin plugins/zoo_sngan/published.py sngan.cifar10 cards/zoo/sngan-cifar10 \\
        [--notes-file NOTES.txt]

tests/test_cards.py then checks the pins against the folders.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RepinError, ZooError
from .hub import sha256_file
from .publish import folder_revision


@dataclass(frozen=True)
class Repinned:
    name: str
    changed: dict[str, tuple[Any, Any]]  # keyword -> (old value, new value), only those that changed
    source: str  # the new text of published.py


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return repr(value)


def _notes_literal(text: str, indent: str, first: int, width: int = 110) -> str:
    """``text`` as implicitly concatenated double-quoted strings, one per line, each line under ``width``
    (the first one starts at column ``first``, the others at ``indent``)."""
    words, lines, line = text.split(" "), [], ""
    for w in words:
        piece = (line + " " + w) if line else w
        if line and len(_literal(piece + " ")) + (len(indent) if lines else first) > width:
            lines.append(line + " ")
            line = w
        else:
            line = piece
    lines.append(line)
    return ("\n" + indent).join(_literal(x) for x in lines)


def _round(v: Any) -> Any:
    """4 decimals from 1 up, else 4 significant digits (the precision the records have used)."""
    if not isinstance(v, float):
        return v
    return round(v, 4) if abs(v) >= 1 else float(f"{v:.4g}")


def _offsets(source: str) -> list[int]:
    starts, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line)
        starts.append(pos)
    return starts


def _find_record(tree: ast.AST, name: str) -> ast.Call:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Weights":
            kw = {k.arg: k.value for k in node.keywords}
            if isinstance(kw.get("name"), ast.Constant) and kw["name"].value == name:
                return node
    raise RepinError(f"no zoo.Weights(name={name!r}, ...) record in this file; check the name (`zoo list`)")


def repin_source(source: str, name: str, folder: Path, notes: str | None = None) -> Repinned:
    """The text of a published.py with ``name``'s record pinned to ``folder`` (see the module's doc)."""
    folder = Path(folder)
    record = _find_record(ast.parse(source), name)
    kw = {k.arg: k.value for k in record.keywords}
    filename = ast.literal_eval(kw["filename"]) if "filename" in kw else "model.safetensors"
    weights = folder / filename
    if not weights.is_file():
        raise RepinError(f"{weights} does not exist: pass the card folder that holds {name}'s {filename}")
    new: dict[str, Any] = {"revision": folder_revision(folder), "sha256": sha256_file(weights),
                           "size": weights.stat().st_size}
    missing = [k for k in new if k not in kw]
    if missing:
        raise RepinError(f"{name}'s record has no {', '.join(missing)} keyword(s) to re-pin")
    if "metrics" in kw:
        measured = json.loads((folder / "config.json").read_text()).get("metrics", {})
        old_metrics = ast.literal_eval(kw["metrics"])
        absent = [k for k in old_metrics if k not in measured]
        if absent:
            raise RepinError(f"{folder}/config.json has no {', '.join(absent)} metric(s) that {name}'s record "
                             "reports: measure them first (`zoo eval FOLDER --write`)")
        new["metrics"] = {k: _round(measured[k]) for k in old_metrics}
    if notes is not None:
        new["notes"] = " ".join(notes.split())
    starts = _offsets(source)
    edits, changed = [], {}
    for key, value in new.items():
        node = kw.get(key)
        old = ast.literal_eval(node) if node is not None else None
        if node is None:  # notes on a record that had none: a new keyword after the last one
            last = record.keywords[-1].value
            at = starts[last.end_lineno - 1] + last.end_col_offset
            indent = " " * record.keywords[-1].col_offset
            edits.append((at, at, f",\n{indent}{key}=" + _notes_literal(value, indent, len(indent) + len(key) + 1)))
        elif old != value:
            a = starts[node.lineno - 1] + node.col_offset
            b = starts[node.end_lineno - 1] + node.end_col_offset
            kw_indent = " " * next(k.col_offset for k in record.keywords if k.arg == key)
            text = (_notes_literal(value, kw_indent, node.col_offset) if key == "notes"
                    else _literal(value))
            edits.append((a, b, text))
        else:
            continue
        changed[key] = (old, value)
    for a, b, text in sorted(edits, reverse=True):
        source = source[:a] + text + source[b:]
    ast.parse(source)  # still Python
    return Repinned(name, changed, source)


def _short(value: Any, width: int = 60) -> str:
    text = str(value)
    return text[:width] + "..." if len(text) > width else text


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m zoo.repos.repin", description=__doc__.split("\n\n")[0])
    p.add_argument("published", type=Path, help="the plugin's published.py")
    p.add_argument("name", help="the record's name (ARCH.TAG, as `zoo list` shows it)")
    p.add_argument("folder", type=Path, help="its card folder in cards/ (the folder the record pins)")
    p.add_argument("--notes-file", type=Path, help="new notes for the record (whitespace is folded)")
    a = p.parse_args(argv)
    try:
        notes = a.notes_file.read_text() if a.notes_file else None
        result = repin_source(a.published.read_text(), a.name, a.folder, notes)
    except (OSError, ZooError) as e:
        print(f"repin: {e}", file=sys.stderr)
        return 1
    a.published.write_text(result.source)
    for key, (old, value) in result.changed.items():
        print(f"{a.name}: {key}: {_short(old)} -> {_short(value)}")
    if not result.changed:
        print(f"{a.name}: already pinned to {a.folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
