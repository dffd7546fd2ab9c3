"""Model cards: read them (huggingface_hub's ModelCard), check them against the
zoo's schema offline, and render them for a terminal.

The schema (the plugin guide, docs/plugins.md, "4. Make real weights and a card"): YAML front matter with license,
library_name, tags, datasets and a model-index whose metrics say how they were
measured; sections for description, intended use, how to use (a runnable
``zoo.load`` snippet), training data, training procedure, evaluation,
limitations and citation.

Cards come from anywhere (a plugin, a Hub repo), so reading one is bounded
(``[limits]`` in zoo.toml): the file's size (``card_bytes``; never read past
it, a sparse file included), YAML nodes with every alias expanded
(``yaml_nodes``: a "billion laughs" card is refused before it is built) and
nesting (``nesting``). Control characters (terminal escape sequences, bidi
overrides) are shown escaped, never sent to the terminal raw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..config import Limits, current_limits
from ..errors import CardError, LimitExceededError
from ..text import _UNSAFE, terminal_safe  # noqa: F401  (zoo.cards.terminal_safe, as before)

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

# section key -> accepted heading words (a heading matches if it starts with one)
REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "description": ("model description", "description"),
    "intended use": ("intended use", "uses"),
    "how to use": ("how to use", "usage"),
    "training data": ("training data",),
    "training procedure": ("training procedure", "training"),
    "evaluation": ("evaluation",),
    "limitations": ("limitations", "bias, risks and limitations"),
    "citation": ("citation",),
}
REQUIRED_METADATA = ("license", "library_name", "tags")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# where a card's author reads the schema (the docs are not in the wheel; this module's docstring is)
CARD_GUIDE = ("the guide's card section: docs/plugins.md, '4. Make real weights and a card', in the zoo's "
              "source; or help(zoo.cards)")


@dataclass(frozen=True)
class CardProblem:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ParsedCard:
    metadata: dict[str, Any]
    body: str
    body_line: int  # line number of the body's first line in the file
    sections: dict[str, tuple[int, str]]  # lower-case heading -> (line, text under it)


def _yaml_bounded(text: str, limits: Limits, path: str | None) -> Any:
    """``yaml.safe_load`` that refuses, before building anything, a document whose node graph expands
    (aliases followed) past ``limits.yaml_nodes`` or nests deeper than ``limits.nesting``."""
    where = path or "model card"
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError as e:
            raise LimitExceededError(f"{where}: the front matter is nested too deeply to parse", None,
                                     limits.nesting, "nesting") from e
        if node is None:
            return None
        _check_node_graph(node, limits, where)
        try:
            return loader.construct_document(node)
        except (ValueError, OverflowError, TypeError) as e:
            # a value YAML resolves but Python cannot hold: an impossible date (2021-02-30, hour 25),
            # an integer past Python's digit limit. This card's error, never a traceback.
            line, text = _bad_scalar(node)
            what = f" {text!r}" if text else ""
            raise CardError(f"the front matter holds a value that cannot be read{what}: {e}. Fix the value "
                            "(a real date and time, a number of at most 4,300 digits) or quote it as text",
                            path=path, line=line) from e
    finally:
        loader.dispose()


def _bad_scalar(root: yaml.Node) -> tuple[int | None, str]:
    """(line in the card, text) of the first scalar of ``root`` that cannot be constructed."""
    probe = yaml.SafeLoader("")
    seen: set[int] = set()
    stack = [root]
    try:
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    probe.construct_object(node, deep=True)
                except (ValueError, OverflowError, TypeError):
                    return node.start_mark.line + 2, node.value[:40] + ("..." if len(node.value) > 40 else "")
                except yaml.YAMLError:
                    pass
            else:
                stack.extend(reversed(_children(node)))
    finally:
        probe.dispose()
    return None, ""


def _check_node_graph(root: yaml.Node, limits: Limits, where: str) -> None:
    """Count nodes with aliases expanded and measure depth, iteratively, each shared node once."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            on_path.discard(key)
            if size[key] > limits.yaml_nodes:
                raise LimitExceededError(f"{where}: the front matter expands to more YAML nodes (aliases "
                                         "followed) than allowed", f"{size[key]:,} nodes", limits.yaml_nodes,
                                         "yaml_nodes")
            if depth[key] > limits.nesting:
                raise LimitExceededError(f"{where}: the front matter nests {depth[key]} levels deep",
                                         depth[key], limits.nesting, "nesting")
            continue
        if key in size:
            continue
        if key in on_path:
            raise CardError("the front matter's YAML refers to itself (a recursive alias)", path=where)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    return []


def read_card_text(path: str | Path, limits: Limits | None = None) -> str:
    """A card file's text, reading no more than ``[limits] card_bytes`` (whatever the file claims)."""
    limits = limits or current_limits()
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(limits.card_bytes + 1)
    except OSError as e:
        raise CardError(f"cannot read the model card: {e}", path=str(path)) from e
    if len(raw) > limits.card_bytes:
        raise LimitExceededError(f"{path} is larger than the limit on model cards", None,
                                 limits.card_bytes, "card_bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CardError(f"cannot read the model card: {e}", path=str(path)) from e


def parse_card(text: str, path: str | None = None, *, limits: Limits | None = None) -> ParsedCard:
    """Split front matter from body and index sections; YAML errors name the line."""
    if not isinstance(text, str):
        raise CardError("a model card must be text", path=path)
    limits = limits or current_limits()
    if len(text) > limits.card_bytes:
        raise LimitExceededError(f"{path or 'model card'} is larger than the limit on model cards",
                                 f"{len(text):,} characters", limits.card_bytes, "card_bytes")
    m = _FRONT.match(text)
    if m is None:
        raise CardError(
            "no YAML front matter: a model card starts with a '---' line, metadata, and a closing '---'",
            path=path, line=1,
        )
    try:
        metadata = _yaml_bounded(m.group(1), limits, path) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the '---' line
        raise CardError(f"invalid YAML front matter: {getattr(e, 'problem', e)}", path=path, line=line) from e
    if not isinstance(metadata, dict):
        raise CardError("the front matter must be a YAML mapping (key: value lines)", path=path, line=2)
    body = text[m.end():]
    body_line = text[: m.end()].count("\n") + 1
    sections: dict[str, tuple[int, str]] = {}
    current: str | None = None
    buf: list[str] = []
    start = 0
    in_code = False
    for i, line in enumerate(body.splitlines(), body_line):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        h = None if in_code else _HEADING.match(line)
        if h:
            if current is not None:
                sections.setdefault(current, (start, "\n".join(buf).strip()))
            current, buf, start = h.group(2).strip().lower(), [], i
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections.setdefault(current, (start, "\n".join(buf).strip()))
    return ParsedCard(metadata, body, body_line, sections)


def _find_section(parsed: ParsedCard, key: str) -> tuple[int, str] | None:
    for heading, value in parsed.sections.items():
        if any(heading.startswith(word) for word in REQUIRED_SECTIONS[key]):
            return value
    return None


def check_card(text: str, path: str | None = None, *, needs_metrics: bool = True) -> list[CardProblem]:
    """Every way ``text`` falls short of the zoo's card schema (empty: it passes)."""
    try:
        parsed = parse_card(text, path)
    except CardError as e:
        return [CardProblem(e.line, str(e).split(": ", 1)[-1] if e.path else str(e))]
    problems: list[CardProblem] = []
    md = parsed.metadata
    for key in REQUIRED_METADATA:
        if not md.get(key):
            problems.append(CardProblem(2, f"front matter lacks {key!r}"))
    if md.get("library_name") not in (None, "zoo"):
        problems.append(CardProblem(2, f"library_name must be 'zoo', got {md.get('library_name')!r}"))
    if "tags" in md and not (isinstance(md["tags"], list) and all(isinstance(t, str) for t in md["tags"])):
        problems.append(CardProblem(2, "tags must be a list of strings"))
    if "datasets" in md and not isinstance(md["datasets"], list):
        problems.append(CardProblem(2, "datasets must be a list"))
    if needs_metrics:
        problems.extend(_check_model_index(md.get("model-index")))
    for key in REQUIRED_SECTIONS:
        found = _find_section(parsed, key)
        if found is None:
            problems.append(CardProblem(None, f"missing section '## {key.capitalize()}'"))
        elif not found[1]:
            problems.append(CardProblem(found[0], f"section '{key}' is empty"))
    how = _find_section(parsed, "how to use")
    if how is not None and "zoo.load(" not in how[1]:
        problems.append(CardProblem(how[0], "'How to use' must show a zoo.load(...) snippet"))
    return problems


def _check_model_index(index: Any) -> list[CardProblem]:
    if not index:
        return [CardProblem(2, "front matter lacks 'model-index' with the measured metrics")]
    if not isinstance(index, list) or not all(isinstance(e, dict) for e in index):
        return [CardProblem(2, "model-index must be a list of mappings")]
    problems = []
    for entry in index:
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            problems.append(CardProblem(2, "model-index entry has no results"))
            continue
        for r in results:
            if not isinstance(r, dict) or not isinstance(r.get("metrics"), list):
                problems.append(CardProblem(2, "model-index result needs a metrics list"))
                continue
            if not isinstance(r.get("dataset"), dict):
                problems.append(CardProblem(2, "model-index result needs a dataset (name, type, split)"))
            for metric in r["metrics"]:
                if not isinstance(metric, dict) or "type" not in metric or "value" not in metric:
                    problems.append(CardProblem(2, "every metric needs a type and a value"))
                elif not metric.get("name"):
                    problems.append(CardProblem(2, f"metric {metric['type']!r} needs a name saying how it was measured"))
    return problems


def read_card_file(path: str | Path, *, needs_metrics: bool = True) -> ModelCard:
    """Read and check a card file; raises CardError naming the file and line."""
    from huggingface_hub import ModelCard

    path = Path(path)
    text = read_card_text(path)
    problems = check_card(text, str(path), needs_metrics=needs_metrics)
    if problems:
        first = problems[0]
        raise CardError(
            "; ".join(p.message for p in problems) + f". Fix the card (see {CARD_GUIDE}).",
            path=str(path), line=first.line,
        )
    return ModelCard(text, ignore_metadata_errors=True)


def card_for(name: str) -> ModelCard:
    """The card of a registered model, found like its weights (cache, endpoint, mirrors)."""
    from ..repos.hub import find_file
    from ..plugins import get_host

    host = get_host()
    info = host.registry.info(name)
    if info.weights is None:
        raise CardError(
            f"{info.name!r} has no published weights and so no card; pretrained models: "
            f"{host.registry.list(pretrained=True)}"
        )
    w = info.weights
    found = find_file(w.repo_id, w.card, w.revision, settings=host.settings)
    return read_card_file(found.path, needs_metrics=bool(w.metrics))


# the only escape sequences a rendering ever holds: written by _encode, never taken from the card
_BOLD, _UNDERLINE, _RESET = "\x1b[1m", "\x1b[4m", "\x1b[0m"


def render(card: ModelCard, *, width: int = 88, color: bool = False) -> str:
    """A terminal rendering: a metadata summary (licence, datasets, tags, metrics), then the body through
    rich's Markdown renderer. Control characters in the card are shown escaped (:func:`terminal_safe`)
    before rich sees the text; with ``color`` (``zoo card`` on a TTY) the styles rich gives are written
    as bold and underline only, by the zoo's own encoder, so no sequence from the card reaches the
    terminal. Imports rich and markdown-it, never torch."""
    parsed = parse_card(terminal_safe(str(card)))
    md = parsed.metadata
    head: list[tuple[str, str]] = []  # (label, value)
    for key in ("license", "datasets", "tags", "base_model", "pipeline_tag"):
        if md.get(key):
            value = md[key]
            value = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            head.append((key + ":", terminal_safe(value)))  # YAML can spell an ESC
    for entry in md.get("model-index") or []:
        for r in entry.get("results", []) if isinstance(entry, dict) else []:
            if not isinstance(r, dict):
                continue
            ds = (r.get("dataset") or {}).get("name", "") if isinstance(r.get("dataset"), dict) else ""
            src = r.get("source") if isinstance(r.get("source"), dict) else None
            for m in r.get("metrics", []) if isinstance(r.get("metrics"), list) else []:
                if isinstance(m, dict):
                    quoted = f"; quoted from {src.get('name', '')}" if src else ""
                    text = f"{m.get('type')} = {m.get('value')}  ({m.get('name', '')}; {ds}{quoted})"
                    head.append(("metric:", terminal_safe(text)))
    lines = [(f"{_BOLD}{label}{_RESET} " if color else f"{label} ") + value for label, value in head]
    body = _render_markdown(parsed.body, width=width, color=color)
    return ("\n".join(lines) + "\n\n" if lines else "") + body.strip("\n") + "\n"


def _render_markdown(text: str, *, width: int, color: bool) -> str:
    import io

    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      no_color=True, emoji=False, highlight=False, markup=False, legacy_windows=False)
    doc = Markdown(text, hyperlinks=False, code_theme="ansi_dark")
    out: list[str] = []
    for seg in console.render(doc):
        if seg.control:
            continue
        piece = terminal_safe(seg.text)  # rich's own text, checked again: nothing raw goes out
        style = seg.style
        if color and style is not None and piece.strip() and (style.bold or style.underline):
            piece = (_BOLD if style.bold else "") + (_UNDERLINE if style.underline else "") + piece + _RESET
        out.append(piece)
    return "\n".join(line.rstrip() for line in "".join(out).splitlines())
