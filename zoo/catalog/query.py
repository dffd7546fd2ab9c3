"""``--sort`` and ``--where`` for `zoo list` (the catalog's index page runs the same
rules in JavaScript, zoo/catalog/static/catalog.js).

A filter is conditions joined by ``,`` or ``and``, all of which must hold:

    fid<20                  a metric against a number (<, <=, >, >=, =, !=)
    fid_baseline<1          a metric's real-vs-real baseline
    dataset=mnist, task=image-generation
    name=mynet.*            string fields compare as case-insensitive shell globs (=, !=)

A model that lacks a metric fails every condition on it. Sorting on a metric puts
the best first, knowing its direction (lower is better for fid and kid, higher for
accuracy); ``-fid`` puts the worst first; models without the metric come last.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import QueryError
from . import metrics as M
from .records import FIELDS, Entry

OPS = ("<=", ">=", "!=", "==", "<", ">", "=")
_COND = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(<=|>=|!=|==|<|>|=)\s*(.*?)\s*$")
_SPLIT = re.compile(r"\s*,\s*|\s+and\s+", re.I)


@dataclass(frozen=True)
class Condition:
    key: str
    op: str  # one of OPS; "==" is read as "="
    value: float | str

    @property
    def is_metric(self) -> bool:
        return isinstance(self.value, float)

    def holds(self, e: Entry) -> bool:
        if isinstance(self.value, str):
            hit = fnmatch.fnmatchcase(e.field(self.key).lower(), self.value.lower())
            return hit if self.op == "=" else not hit
        v = e.value(self.key)
        if v is None or math.isnan(v):
            return False
        return {
            "<": v < self.value, "<=": v <= self.value, ">": v > self.value, ">=": v >= self.value,
            "=": v == self.value, "!=": v != self.value,
        }[self.op]

    def __str__(self) -> str:
        value = M.fmt(self.value) if isinstance(self.value, float) else self.value
        return f"{self.key}{self.op}{value}"


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool  # after applying the metric's direction: True puts large values first
    is_metric: bool
    direction: M.Direction | None = None

    def order(self, entries: Sequence[Entry]) -> list[Entry]:
        """Sorted by the field, or by the metric within each of its protocols: numbers measured two ways
        (an Inception FID and a classifier FID) are never ranked against each other. Protocol groups come
        in order of their size, then name; models without the metric last."""
        by_name = sorted(entries, key=lambda e: e.name)
        if not self.is_metric:
            return sorted(by_name, key=lambda e: e.field(self.key).lower(), reverse=self.descending)
        present = [e for e in by_name if e.value(self.key) is not None]
        missing = [e for e in by_name if e.value(self.key) is None]
        groups: dict[str, list[Entry]] = {}
        for e in present:
            groups.setdefault(e.protocol(self.key), []).append(e)
        out: list[Entry] = []
        for proto in sorted(groups, key=lambda p: (-len(groups[p]), p)):
            members = groups[proto]
            members.sort(key=lambda e: e.value(self.key), reverse=self.descending)  # type: ignore[arg-type,return-value]
            out += members
        return out + missing

    def protocols(self, entries: Sequence[Entry]) -> list[str]:
        """The protocols the sorted metric was measured under among ``entries`` (more than one: ranked apart)."""
        if not self.is_metric:
            return []
        return list(dict.fromkeys(e.protocol(self.key) for e in self.order(entries) if e.value(self.key) is not None))


def metric_keys(entries: Iterable[Entry]) -> list[str]:
    """Every metric some entry has, and the baseline keys (``fid_baseline``) that exist."""
    keys: set[str] = set()
    for e in entries:
        for m in e.metrics:
            keys.add(m.name)
            if m.baseline is not None:
                keys.add(f"{m.name}_baseline")
    return sorted(keys)


def _unknown(key: str, known: Sequence[str], what: str) -> QueryError:
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return QueryError(
        f"{what} {key!r} is neither a field ({', '.join(FIELDS)}) nor a metric of any listed model "
        f"({', '.join(known) or 'none has metrics'}).{hint}"
    )


def parse_where(text: str, metrics: Sequence[str]) -> list[Condition]:
    """Parse a filter; ``metrics`` are the metric keys that exist (for checking names)."""
    if not text or not text.strip():
        raise QueryError("empty --where filter; write e.g. 'fid<20' or 'dataset=mnist, kid<2'")
    conditions = []
    for part in _SPLIT.split(text.strip()):
        m = _COND.match(part)
        if m is None or not m.group(3):
            raise QueryError(
                f"cannot read the condition {part!r} in --where {text!r}: write KEY OP VALUE with OP one of "
                f"{' '.join(OPS)}, e.g. 'fid<20', 'accuracy>=0.9', 'dataset=mnist'"
            )
        key, op, raw = m.group(1).lower(), m.group(2), m.group(3)
        op = "=" if op == "==" else op
        if key in FIELDS:
            if op not in ("=", "!="):
                raise QueryError(f"{key!r} is text: compare it with = or != (shell globs work), not {op!r}")
            conditions.append(Condition(key, op, raw.strip("'\"")))
            continue
        if key not in metrics:
            raise _unknown(key, metrics, "filter key")
        try:
            value = float(raw)
        except ValueError:
            raise QueryError(f"{key!r} is a metric: compare it with a number, not {raw!r}") from None
        if math.isnan(value):
            raise QueryError(f"{key!r}: compare with a number, not NaN")
        conditions.append(Condition(key, op, value))
    return conditions


def parse_sort(text: str, metrics: Sequence[str]) -> SortKey:
    """``fid`` (best first), ``-fid`` (worst first), or a field name (``dataset``, ``-name``)."""
    raw = text.strip().lower()
    flip = raw.startswith("-")
    key = raw.lstrip("-+").strip()
    if not key:
        raise QueryError("empty --sort key; give a metric (fid, accuracy) or a field (name, dataset)")
    if key in FIELDS:
        return SortKey(key, descending=flip, is_metric=False)
    if key not in metrics:
        raise _unknown(key, metrics, "sort key")
    of = M.baseline_of(key)
    d = M.direction(of if of else key)
    best_first_descending = d == "higher"
    return SortKey(key, descending=best_first_descending != flip, is_metric=True, direction=d)


@dataclass(frozen=True)
class Query:
    conditions: tuple[Condition, ...] = ()
    sort: SortKey | None = None

    @classmethod
    def parse(cls, entries: Sequence[Entry], where: Sequence[str] = (), sort: str | None = None) -> "Query":
        keys = metric_keys(entries)
        conds = [c for w in where for c in parse_where(w, keys)]
        return cls(tuple(conds), parse_sort(sort, keys) if sort else None)

    def apply(self, entries: Sequence[Entry]) -> list[Entry]:
        kept = [e for e in entries if all(c.holds(e) for c in self.conditions)]
        return self.sort.order(kept) if self.sort else kept

    @property
    def shown_metrics(self) -> list[str]:
        """The metrics the query names, in order (for the columns `zoo list` adds)."""
        keys = [c.key for c in self.conditions if c.is_metric]
        if self.sort is not None and self.sort.is_metric:
            keys.insert(0, self.sort.key)
        return list(dict.fromkeys(keys))
