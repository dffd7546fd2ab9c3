"""Catalog rows: one typed Entry per registered model, made from the Architecture
and Weights records (``zoo list``) and, for the site, enriched from the model
card (published numbers, how each metric was measured).

Cards are looked up like weights but never over the network: the Hugging Face
cache at the pinned revision, then the mirror folders (``cards/`` is one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry import Architecture, Weights
from . import metrics as M

# string fields a query can name, and where they come from
FIELDS = ("name", "task", "dataset", "arch", "source", "license", "plugin")


def source_label(host: Any, w: Weights | None) -> str:
    """Where a weights entry comes from, as `zoo list` says it."""
    if w is None:
        return "architecture"
    if w.source == "upstream":
        return "upstream" if w.verified else "upstream, unverified"
    plugin = host.plugins.get(w.plugin)
    if plugin is not None and plugin.builtin:  # the zoo's own installation, not a distribution's name
        return "trained here"
    return f"from plugin {w.plugin}"


@dataclass(frozen=True)
class Metric:
    """One headline number of a model, with what it is compared against."""

    name: str
    value: float
    direction: M.Direction | None
    baseline: float | None = None  # real data against real data: what a perfect model scores
    published: float | None = None  # the number a paper or upstream published (from the card)
    how: str = ""  # how it was measured (the card's model-index name)
    protocol: str = ""  # the record's short protocol (Weights.protocols); "" when the record does not state one

    @property
    def label(self) -> str:
        return M.label(self.name)

    @property
    def protocol_text(self) -> str:
        return self.protocol or "protocol not stated"


@dataclass(frozen=True)
class Entry:
    """A registered model as the catalog and `zoo list` show it."""

    name: str
    arch: Architecture
    weights: Weights | None
    source: str
    distribution: str = ""  # the installed package of the plugin that registered it
    version: str = ""
    metrics: tuple[Metric, ...] = ()
    # published numbers of metrics the record does not carry (from the card)
    extra_published: tuple[tuple[str, float], ...] = field(default=())

    @property
    def pretrained(self) -> bool:
        return self.weights is not None

    @property
    def task(self) -> str:
        return self.arch.task

    @property
    def dataset(self) -> str:
        return self.weights.dataset if self.weights else ""

    @property
    def license(self) -> str:
        return self.weights.license if self.weights else ""

    @property
    def plugin(self) -> str:
        return self.weights.plugin if self.weights else self.arch.plugin

    def field(self, key: str) -> str:
        """The string field ``key`` (one of FIELDS)."""
        if key == "arch":
            return self.arch.name
        return str(getattr(self, key))

    def metric(self, key: str) -> Metric | None:
        for m in self.metrics:
            if m.name == key:
                return m
        return None

    def protocol(self, key: str) -> str:
        """How the metric ``key`` (or the metric whose baseline it is) was measured, as the record says."""
        m = self.metric(key) or self.metric(M.baseline_of(key) or "")
        return m.protocol_text if m is not None else ""

    def value(self, key: str) -> float | None:
        """A metric's value, or its baseline's (``fid_baseline``), or None."""
        m = self.metric(key)
        if m is not None:
            return m.value
        of = M.baseline_of(key)
        if of is not None:
            base = self.metric(of)
            return base.baseline if base is not None else None
        return None

    @property
    def snippet(self) -> str:
        """Python that gets this model: ``zoo.load`` with weights, ``zoo.build`` without."""
        if self.weights is None:
            return f'import zoo\n\nmodel = zoo.build("{self.arch.name}")   # untrained: no weights are published\n'
        if self.task == "image-generation":
            return (f'import zoo\n\nG = zoo.load("{self.name}")\n'
                    "images = G.sample(16, seed=0)   # float tensor in [0, 1], (16, C, H, W)\n")
        if self.task == "style-transfer":
            return (f'import zoo\n\nst = zoo.load("{self.name}")\n'
                    'out = st.stylize("photo.jpg", "painting.jpg")   # a PIL image\n')
        return f'import zoo\n\nmodel = zoo.load("{self.name}")\n'


def entry(host: Any, name: str) -> Entry:
    """The Entry of a registered name: weights if it has them, else its architecture."""
    registry = host.registry
    w = registry.weights.get(name)
    arch = registry.architectures[name.split(".", 1)[0]]
    plugin = host.plugins.get(w.plugin if w else arch.plugin)
    metrics: tuple[Metric, ...] = ()
    if w is not None:
        headline, baselines = M.split(w.metrics)
        metrics = tuple(Metric(k, v, M.direction(k), baselines.get(k), protocol=w.protocols.get(k, ""))
                        for k, v in headline.items())
    return Entry(
        name=name, arch=arch, weights=w, source=source_label(host, w),
        distribution=plugin.distribution if plugin else "", version=plugin.version if plugin else "",
        metrics=metrics,
    )


def entries(host: Any, names: Iterable[str]) -> list[Entry]:
    return [entry(host, n) for n in names]


def catalog_names(host: Any) -> list[str]:
    """Every model with weights, and every architecture that has none (the catalog's rows)."""
    registry = host.registry
    with_weights = {w.architecture for w in registry.weights.values()}
    bare = [a for a in registry.architectures if a not in with_weights]
    return sorted(set(registry.weights) | set(bare))


# -- cards ----------------------------------------------------------------------


@dataclass(frozen=True)
class CardDoc:
    """A model card as found on this machine, or why it was not."""

    path: Path | None  # the README.md; its folder holds the card's pictures
    metadata: dict[str, Any]
    body: str  # Markdown, front matter removed
    problem: str = ""  # why the card is missing or unreadable ("" when it is fine)


def find_card(host: Any, w: Weights) -> Path | None:
    """The card file, from the cache at the pinned revision, then the mirrors; no network."""
    from ..errors import WeightsError
    from ..repos.hub import from_cache, from_mirrors

    try:
        cached = from_cache(w.repo_id, w.card, w.revision)
    except WeightsError:  # a repo id or revision the Hub client refuses: not in the cache
        cached = None
    if cached is not None:
        return cached
    mirrored = from_mirrors(w.repo_id, w.card, host.settings)
    return mirrored[0] if mirrored else None


def read_card(host: Any, w: Weights) -> CardDoc:
    """The card of ``w`` as found offline; a card that cannot be read says why (never raises)."""
    from ..cards import parse_card, read_card_text
    from ..errors import ZooError

    path = find_card(host, w)
    if path is None:
        return CardDoc(None, {}, "", f"the card is neither in the cache nor in a mirror; `zoo download {w.name}` fetches it")
    try:
        text = read_card_text(path, host.settings.limits)  # bounded by [limits] card_bytes
    except ZooError as e:
        return CardDoc(path, {}, "", f"card not shown: {e}")
    try:
        parsed = parse_card(text, str(path), limits=host.settings.limits)
    except ZooError as e:
        return CardDoc(path, {}, _front_matter_dropped(text), f"front matter not read: {e}")
    return CardDoc(path, parsed.metadata, parsed.body)


def _front_matter_dropped(text: str) -> str:
    """The card's text after a closing '---' line, if it has one (its body, metadata unread)."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], 1):
            if line.strip() == "---":
                return "".join(lines[i + 1:])
    return text


def _card_results(metadata: dict[str, Any]) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
    """(result, metric) pairs of the card's model-index, skipping anything malformed."""
    index = metadata.get("model-index")
    for model in index if isinstance(index, list) else []:
        results = model.get("results") if isinstance(model, dict) else None
        for result in results if isinstance(results, list) else []:
            found = result.get("metrics") if isinstance(result, dict) else None
            for metric in found if isinstance(found, list) else []:
                if isinstance(metric, dict) and isinstance(metric.get("type"), str):
                    yield result, metric


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def published_numbers(metadata: dict[str, Any]) -> dict[str, float]:
    """Numbers the card quotes from elsewhere: model-index results with a ``source`` (the
    Hub's field for results reported by a paper or leaderboard), by metric type."""
    out: dict[str, float] = {}
    for result, metric in _card_results(metadata):
        value = _number(metric.get("value"))
        if result.get("source") and value is not None:
            out.setdefault(metric["type"].lower(), value)
    return out


def measured_how(metadata: dict[str, Any]) -> list[tuple[str, float | None, str]]:
    """(type, value, how it was measured) of each metric the card measured itself."""
    out = []
    for result, metric in _card_results(metadata):
        name = metric.get("name")
        if result.get("source") or not isinstance(name, str) or "baseline" in name.lower():
            continue
        out.append((metric["type"].lower(), _number(metric.get("value")), name))
    return out


def _how(m: Metric, measured: list[tuple[str, float | None, str]]) -> str:
    """The card's description of ``m``: by metric type, else by value (a card may name
    ``ssim`` what the record calls ``ssim_to_content``)."""
    for kind, _, how in measured:
        if kind == m.name:
            return how
    close = [how for _, v, how in measured if v is not None and abs(v - m.value) <= 5e-5 * max(1.0, abs(m.value))]
    return close[0] if len(close) == 1 else ""


def with_card(e: Entry, card: CardDoc) -> Entry:
    """The entry with what its card adds: published numbers and how metrics were measured."""
    published = published_numbers(card.metadata)
    measured = measured_how(card.metadata)
    known = {m.name for m in e.metrics}
    metrics = tuple(dataclasses.replace(m, published=published.get(m.name), how=_how(m, measured))
                    for m in e.metrics)
    extra = tuple((k, v) for k, v in published.items() if k not in known)
    return dataclasses.replace(e, metrics=metrics, extra_published=extra)
