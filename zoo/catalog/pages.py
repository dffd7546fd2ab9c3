"""The catalog's HTML pages: ``index.html`` (every model, sortable and filterable) and one page per
model (:class:`ModelPage`: the rendered card, metrics, pins, snippet), every value escaped and every
page under the Content-Security-Policy :data:`CSP`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from . import metrics as M
from .records import CardDoc, Entry
from .pictures import Picture


CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; object-src 'none'")


@dataclass(frozen=True)
class ModelPage:
    entry: Entry
    card: CardDoc | None
    card_html: str
    pictures: tuple[Picture, ...]
    thumb: Picture | None
    hero: Picture | None
    dropped: tuple[str, ...]  # card images not shown
    sampled: str = ""  # how the catalog drew the picture itself (--sample-missing), "" if it did not
    sample_error: str = ""  # why it could not

    @property
    def href(self) -> str:
        return f"models/{self.entry.name}.html"


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def _page(title: str, body: str, root: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}style.css">\n'
        "</head>\n<body>\n<main>\n"
        f"{body}\n"
        "</main>\n"
        f'<script src="{root}catalog.js"></script>\n'
        "</body>\n</html>\n"
    )


def _source_tag(entry: Entry) -> str:
    kind = {"trained here": "here", "architecture": "arch"}.get(entry.source, "plugin")
    return f'<span class="tag {kind}">{e(entry.source)}</span>'


def _dir_text(d: str | None) -> str:
    return {"lower": "lower is better", "higher": "higher is better"}.get(d or "", "direction unknown")


def _metrics_list(entry: Entry) -> str:
    if not entry.metrics:
        return '<span class="muted">-</span>'
    items = []
    for m in entry.metrics:
        base = f' <span class="base">(baseline {e(M.fmt(m.baseline))})</span>' if m.baseline is not None else ""
        pub = f' <span class="base">published {e(M.fmt(m.published))}</span>' if m.published is not None else ""
        items.append(
            f'<li><span class="metric-name" title="{e(_dir_text(m.direction))}">{e(m.label)}</span> '
            f'{e(M.fmt(m.value))}{base}{pub} <span class="protocol muted">[{e(m.protocol_text)}]</span></li>'
        )
    return '<ul class="metrics">' + "".join(items) + "</ul>"


def _row_metrics(entry: Entry) -> str:
    data: dict[str, float] = {}
    for m in entry.metrics:
        data[m.name] = m.value
        if m.baseline is not None:
            data[f"{m.name}_baseline"] = m.baseline
    return json.dumps(data, sort_keys=True)


def _row_protocols(entry: Entry) -> str:
    return json.dumps({m.name: m.protocol_text for m in entry.metrics}, sort_keys=True)


def _directions(pages: Sequence[ModelPage]) -> str:
    out: dict[str, str] = {}
    for p in pages:
        for m in p.entry.metrics:
            out[m.name] = m.direction or ""
            if m.baseline is not None:
                out[f"{m.name}_baseline"] = m.direction or ""
    return json.dumps(dict(sorted(out.items())))


def _plugin_text(entry: Entry) -> str:
    if entry.distribution:
        return f'{e(entry.plugin)} <span class="muted">({e(entry.distribution)} {e(entry.version)})</span>'
    return e(entry.plugin)


def _options(label: str, key: str, values: Sequence[str], hint: str = "any") -> str:
    opts = [f'<option value="">{e(hint)}</option>'] + [f'<option value="{e(v)}">{e(v)}</option>' for v in values]
    return f'<label for="f-{key}">{e(label)}<select id="f-{key}" name="{key}">{"".join(opts)}</select></label>'


def index_html(pages: Sequence[ModelPage], plugins: Sequence[Any], version: str, chart_rows: int) -> str:
    ents = [p.entry for p in pages]
    metric_names = sorted({m.name for x in ents for m in x.metrics})
    directions = {m.name: m.direction for x in ents for m in x.metrics}
    sort_opts = [("", "name")] + [(f, f) for f in ("task", "dataset", "arch", "source")]
    for k in metric_names:
        d = directions.get(k)
        sort_opts.append((k, f"{M.label(k)} ({'best first' if d else 'smallest first'})"))
    sort_select = (
        '<label for="f-sort">sort by<select id="f-sort" name="sort">'
        + "".join(f'<option value="{e(v)}">{e(t)}</option>' for v, t in sort_opts)
        + "</select></label>"
    )
    controls = (
        '<form id="controls" autocomplete="off">'
        + _options("task", "task", sorted({x.task for x in ents}))
        + _options("dataset", "dataset", sorted({x.dataset for x in ents if x.dataset}))
        + _options("architecture", "arch", sorted({x.arch.name for x in ents}))
        + sort_select
        + '<label for="f-where">metric filter (e.g. fid&lt;20, accuracy&gt;0.9)'
        '<input id="f-where" name="where" type="text" placeholder="fid&lt;20, kid&lt;2" spellcheck="false"></label>'
        + '<a class="reset" href="#">reset</a>'
        + "</form>"
        + '<noscript><p class="muted">Sorting and filtering need JavaScript; the table below lists every model.</p></noscript>'
    )
    rows = []
    for p in pages:
        x = p.entry
        if p.thumb is not None:
            pic = (f'<a href="{e(p.href)}"><img src="{e(p.thumb.src)}" alt="{e(p.thumb.alt)}" '
                   f'width="{p.thumb.width}" height="{p.thumb.height}"></a>')
        elif x.pretrained:
            pic = '<span class="nopic">no picture on its card</span>'
        else:
            pic = '<span class="nopic">no weights</span>'
        sub = e(x.arch.name) + (f" · {e(x.weights.repo_id)}" if x.weights else " · untrained (zoo.build)")
        attrs = " ".join(
            f'data-{k}="{e(x.field(k))}"' for k in ("name", "task", "dataset", "arch", "source", "license", "plugin")
        )
        rows.append(
            f'<tr {attrs} data-metrics="{e(_row_metrics(x))}" data-protocols="{e(_row_protocols(x))}">'
            f'<td class="pic">{pic}</td>'
            f'<td class="model"><a href="{e(p.href)}">{e(x.name)}</a><div class="sub">{sub}</div></td>'
            f"<td>{e(x.task)}</td><td>{e(x.dataset or '-')}</td>"
            f"<td>{_metrics_list(x)}</td>"
            f"<td>{_source_tag(x)}</td><td>{_plugin_text(x)}</td><td>{e(x.license or '-')}</td></tr>"
        )
    table = (
        f'<div class="table-wrap"><table id="models" class="models" data-directions="{e(_directions(pages))}">'
        "<thead><tr><th>picture</th><th>model</th><th>task</th><th>dataset</th>"
        "<th>metrics (baseline: real vs real)</th><th>source</th><th>plugin</th><th>licence</th></tr></thead>"
        "<tbody>" + "\n".join(rows) + "</tbody></table></div>"
    )
    plugin_rows = []
    for s in plugins:
        err = f'<div class="error">{e(s.error)}</div>' if s.error else ""
        plugin_rows.append(
            f"<tr><td>{e(s.name)}</td><td>{e(s.state)}</td><td>{e(s.distribution)} {e(s.version)}</td>"
            f"<td>{e(s.module)}</td><td>{len(s.registered)}</td><td>{err}</td></tr>"
        )
    plugin_table = (
        '<table class="grid" id="plugins-table"><thead><tr><th>plugin</th><th>state</th><th>distribution</th>'
        "<th>module</th><th>registered</th><th>error</th></tr></thead><tbody>"
        + "".join(plugin_rows) + "</tbody></table>"
    )
    chart_part = (
        '<figure class="chart"><img src="fid-chart.svg" alt="FID of every generator against its real-vs-real baseline">'
        "<figcaption>Every generator's FID (filled) against the FID of real data against real data "
        "(hollow: the floor a perfect generator reaches with the same features and sample count), and the "
        "published number where its card quotes one (diamond). Rows are grouped by dataset and by the features "
        "their FID was measured with, named in each group's heading (Inception for CIFAR-10; a classifier trained "
        "here for MNIST and Fashion-MNIST): compare rows within a group, never across groups, and only "
        "Inception groups with papers.</figcaption></figure>"
        if chart_rows else '<p class="muted">No registered generator has an FID.</p>'
    )
    n_plugins = len([s for s in plugins if s.state == "ok"])
    body = (
        "<header><h1>zoo catalog</h1>"
        f'<p class="lede">{len(pages)} models from {n_plugins} installed plugins (zoo {e(version)}). '
        "Offline: every file this page shows is in this folder.</p></header>"
        + controls
        + f'<p id="status" data-shown="{len(pages)}">{len(pages)} models.</p>'
        + '<p id="where-error" class="error" hidden></p>'
        + table
        + '<section id="chart"><h2>FID against the baseline</h2>' + chart_part + "</section>"
        + '<section id="plugins"><h2>Installed plugins</h2>' + plugin_table + "</section>"
    )
    return _page("zoo catalog", body, "")


def _link(url: str) -> str:
    if re.match(r"^https?://[^\s\"'<>]+$", url):
        return f'<a href="{e(url)}" rel="noopener noreferrer nofollow">{e(url)}</a>'
    return e(url)


def _paper(text: str) -> str:
    """The paper citation, its URL (if any) as a link."""
    m = re.search(r"https?://[^\s\"'<>]+", text)
    if not m:
        return e(text)
    return e(text[: m.start()]) + _link(m.group(0).rstrip(".,;)")) + e(text[m.start() + len(m.group(0).rstrip(".,;)")):])


def model_html(page: ModelPage, version: str) -> str:
    x = page.entry
    w = x.weights
    facts = [
        ("architecture", e(x.arch.name)),
        ("task", e(x.task)),
        ("paper", _paper(x.arch.paper)),
        ("reference code", _link(x.arch.reference_code)),
        ("plugin", _plugin_text(x)),
        ("source", _source_tag(x)),
    ]
    if w is not None:
        facts += [
            ("dataset", e(w.dataset)),
            ("licence", e(w.license)),
            ("repository", f"<code>{e(w.repo_id)}</code>"),
            ("revision (pinned)", f"<code>{e(w.revision)}</code>"),
            ("file", f"<code>{e(w.filename)}</code> ({w.size:,} bytes)"),
            ("sha256", f"<code>{e(w.sha256)}</code>"),
        ]
        if not w.verified:
            facts.append(("verified", "no: not checked by this project"))
        if w.notes:
            facts.append(("notes", e(w.notes)))
    if x.arch.description:
        facts.append(("description", e(x.arch.description)))
    dl = '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    if page.hero is not None:
        caption = (f'Drawn by the catalog (its card has no picture): <code id="sampled">{e(page.sampled)}</code>'
                   if page.sampled else f"From its card: <code>{e(page.hero.alt)}</code>")
        figure = (f'<figure class="hero"><img src="../{e(page.hero.src)}" alt="{e(page.hero.alt)}" '
                  f'width="{page.hero.width}" height="{page.hero.height}">'
                  f"<figcaption>{caption}</figcaption></figure>")
    elif w is None:
        figure = '<p class="nopic">no weights</p>'
    else:
        hint = f" <code>zoo sample {e(x.name)} -n 64 --seed 0 -o grid.png</code> draws one." if x.task == "image-generation" else ""
        failed = f" Sampling failed: {e(page.sample_error)}" if page.sample_error else ""
        figure = (f'<p class="muted" id="no-picture">Its card has no picture, and the catalog reads cards, '
                  f"not weights.{hint}{failed}</p>")
    if x.metrics:
        mrows = "".join(
            f"<tr><td>{e(m.label)}</td><td class=\"num\">{e(M.fmt(m.value))}</td><td>{e(_dir_text(m.direction))}</td>"
            f"<td class=\"num\">{e(M.fmt(m.baseline))}</td><td class=\"num\">{e(M.fmt(m.published))}</td>"
            f"<td class=\"how\">{e(m.how)}</td></tr>"
            for m in x.metrics
        )
        mrows += "".join(
            f"<tr><td>{e(M.label(k))}</td><td class=\"num\">-</td><td>{e(_dir_text(M.direction(k)))}</td>"
            f"<td class=\"num\">-</td><td class=\"num\">{e(M.fmt(v))}</td><td class=\"how\">published; not measured here</td></tr>"
            for k, v in x.extra_published
        )
        metrics_part = (
            '<table class="grid" id="metrics"><thead><tr><th>metric</th><th>value</th><th>better</th>'
            "<th>baseline (real vs real)</th><th>published</th><th>how it was measured (from the card)</th>"
            f"</tr></thead><tbody>{mrows}</tbody></table>"
        )
    else:
        metrics_part = '<p class="muted">Its record carries no metrics.</p>'
    if page.card is None:
        card_part = ('<p class="muted">No published weights and so no card: <code>zoo.build</code> gives an '
                     "untrained model from the architecture's config.</p>" + _schema(x))
    else:
        problem = f'<p class="error" id="card-problem">{e(page.card.problem)}</p>' if page.card.problem else ""
        dropped = ""
        if page.dropped:
            dropped = ('<p class="muted">Not shown (remote, outside the card folder, or not a picture file): '
                       + ", ".join(f"<code>{e(d)}</code>" for d in page.dropped) + "</p>")
        article = f'<article class="card" id="card">{page.card_html}</article>' if page.card_html else ""
        card_part = problem + dropped + article
    body = (
        '<nav class="crumbs"><a href="../index.html">&larr; all models</a></nav>'
        f"<header><h1>{e(x.name)}</h1>"
        f'<p class="lede">{e(x.task)} · {e(x.dataset or "no weights")} · {e(x.source)} · plugin {e(x.plugin)}</p></header>'
        f'<div class="{"top" if page.hero is not None else "top single"}"><div>{figure}</div>'
        f"<section><h2>Record</h2>{dl}</section></div>"
        f'<section><h2>Load it</h2><pre><code id="snippet">{e(card_snippet(page.card) or x.snippet)}</code></pre></section>'
        f"<section><h2>Metrics</h2>{metrics_part}</section>"
        f'<section><h2>Model card</h2>{card_part}</section>'
        f'<p class="muted">zoo {e(version)} catalog.</p>'
    )
    return _page(f"{x.name} · zoo catalog", body, "../")


_HOW_TO_USE = re.compile(r"#{1,6}\s+(how to use|usage)\b", re.I)


def card_snippet(card: CardDoc | None) -> str | None:
    """The first Python block of the card's "How to use" section when it calls ``zoo.load``: the model's
    own snippet (a style model's stylize arguments differ from model to model), else None."""
    if card is None or card.problem or not card.body:
        return None
    in_section, block = False, None
    for line in card.body.splitlines():
        if block is not None:
            if line.strip().startswith("```"):
                code = "\n".join(block) + "\n"
                return code if "zoo.load(" in code else None
            block.append(line)
        elif in_section and line.strip().startswith("```python"):
            block = []
        elif line.startswith("#"):
            if in_section:
                return None
            in_section = bool(_HOW_TO_USE.match(line))
    return None


def _schema(x: Entry) -> str:
    if not x.arch.schema:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(k)}</code></td><td>{e(f.type)}</td><td><code>{e(json.dumps(f.default))}</code></td>"
        f"<td>{e(f.help)}</td></tr>"
        for k, f in x.arch.schema.items()
    )
    return ('<table class="grid"><thead><tr><th>config key</th><th>type</th><th>default</th><th>meaning</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>")
