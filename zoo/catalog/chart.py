"""A static SVG chart: every generator's FID against its real-vs-real baseline and,
where the card quotes one, the published number.

One row per generator, grouped by dataset and by the protocol its FID was measured under (the record's
``protocols``: an Inception FID and a classifier FID are in different groups, each headed by its protocol), on a log axis (baselines are near 0.1,
models near 10: a linear axis would hide the baseline). The numbers are written
at the end of each row, so the chart reads without hovering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from . import metrics as M
from .records import Entry

WIDTH = 860
LEFT = 210  # model names
RIGHT = 250  # the numbers
ROW = 26
TOP = 64
COLOR_MODEL = "#1d4ed8"
COLOR_BASE = "#6b7280"
COLOR_PUBLISHED = "#b91c1c"


@dataclass(frozen=True)
class Bar:
    name: str
    dataset: str
    protocol: str
    fid: float
    baseline: float | None
    published: float | None


def bars(entries: Sequence[Entry], metric: str = "fid") -> list[Bar]:
    """The chart's rows: every entry with the metric, by dataset, best first."""
    out = []
    for e in entries:
        m = e.metric(metric)
        if m is not None:
            out.append(Bar(e.name, e.dataset, m.protocol_text, m.value, m.baseline, m.published))
    return sorted(out, key=lambda b: (b.dataset, b.protocol, b.fid, b.name))


def _axis(values: Sequence[float]) -> tuple[float, float]:
    positive = [v for v in values if v > 0]
    lo = math.floor(math.log10(min(positive))) if positive else -1
    hi = math.ceil(math.log10(max(positive))) if positive else 2
    return float(lo), float(max(hi, lo + 1))


def svg(entries: Sequence[Entry], metric: str = "fid") -> str:
    """The chart as a standalone SVG document (text, no script, no external reference)."""
    rows = bars(entries, metric)
    name = M.label(metric)
    datasets = list(dict.fromkeys((b.dataset, b.protocol) for b in rows))
    height = TOP + ROW * (len(rows) + len(datasets)) + 48
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" font-size="12">',
        f"<title>{escape(name)} of every generator against its real-vs-real baseline</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="12" y="22" font-size="15" font-weight="bold">{escape(name)} of every generator '
        f"(lower is better; log scale)</text>",
    ]
    if not rows:
        out.append(f'<text x="12" y="{TOP}">No registered generator has an {escape(name)}.</text></svg>')
        return "\n".join(out) + "\n"
    values = [v for b in rows for v in (b.fid, b.baseline, b.published) if v is not None]
    lo, hi = _axis(values)
    plot_w = WIDTH - LEFT - RIGHT

    def x(v: float) -> float:
        t = (math.log10(v) - lo) / (hi - lo) if v > 0 else 0.0
        return LEFT + max(0.0, min(1.0, t)) * plot_w

    # legend
    ly = 42
    out += [
        f'<circle cx="{LEFT}" cy="{ly - 4}" r="5" fill="#fff" stroke="{COLOR_BASE}" stroke-width="2"/>',
        f'<text x="{LEFT + 10}" y="{ly}">real vs real (baseline)</text>',
        f'<circle cx="{LEFT + 170}" cy="{ly - 4}" r="5" fill="{COLOR_MODEL}"/>',
        f'<text x="{LEFT + 180}" y="{ly}">this model</text>',
        f'<path d="M {LEFT + 270} {ly - 10} l 6 6 l -6 6 l -6 -6 z" fill="{COLOR_PUBLISHED}"/>',
        f'<text x="{LEFT + 282}" y="{ly}">published (where the card quotes one)</text>',
    ]
    bottom = height - 40
    for p in range(int(lo), int(hi) + 1):
        tx = x(10.0 ** p)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{bottom}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#374151">{M.fmt(10.0 ** p)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{bottom + 32}" text-anchor="middle" fill="#374151">{escape(name)}</text>')
    y = TOP
    for ds, proto in datasets:
        out.append(f'<text x="12" y="{y + 4}" font-weight="bold" fill="#111827">{escape(ds or "(no dataset)")}'
                   f'<tspan font-weight="normal" fill="#374151"> — {escape(proto)}</tspan></text>')
        y += ROW
        for b in (r for r in rows if (r.dataset, r.protocol) == (ds, proto)):
            cy = y
            out.append(f'<g class="bar" data-name="{escape(b.name)}">')
            out.append(f'<text x="24" y="{cy + 4}">{escape(b.name)}</text>')
            if b.baseline is not None:
                out.append(f'<line x1="{x(b.baseline):.1f}" y1="{cy}" x2="{x(b.fid):.1f}" y2="{cy}" '
                           f'stroke="{COLOR_MODEL}" stroke-opacity="0.35" stroke-width="4"/>')
                out.append(f'<circle cx="{x(b.baseline):.1f}" cy="{cy}" r="5" fill="#fff" stroke="{COLOR_BASE}" stroke-width="2"/>')
            out.append(f'<circle cx="{x(b.fid):.1f}" cy="{cy}" r="6" fill="{COLOR_MODEL}"/>')
            if b.published is not None:
                px = x(b.published)
                out.append(f'<path d="M {px:.1f} {cy - 7} l 7 7 l -7 7 l -7 -7 z" fill="{COLOR_PUBLISHED}"/>')
            text = f"{M.fmt(b.fid)}"
            if b.baseline is not None:
                text += f"  (baseline {M.fmt(b.baseline)})"
            if b.published is not None:
                text += f"  published {M.fmt(b.published)}"
            out.append(f'<text x="{WIDTH - RIGHT + 12}" y="{cy + 4}">{escape(text)}</text>')
            out.append("</g>")
            y += ROW
    out.append("</svg>")
    return "\n".join(out) + "\n"
