"""The static catalog site: ``index.html`` (every model, sortable and filterable),
``models/<name>.html`` (the rendered card, metrics, pins, snippet), the card
pictures under ``assets/<name>/card/`` and a thumbnail beside them, ``fid-chart.svg``.

Offline by construction: every reference in a page is relative, every page
carries a Content-Security-Policy that allows only the site's own files, and the
only script is ``catalog.js`` (no inline script, so a script a card smuggled in
could not run even if escaping failed). Card text is rendered by
zoo.catalog.markdown, which escapes raw HTML.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import CatalogError
from . import chart
from . import metrics as M
from .markdown import render
from .records import CardDoc, Entry, catalog_names, entries, read_card, with_card

STATIC = Path(__file__).resolve().parent / "static"
MARKER = ".zoo-catalog"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; object-src 'none'")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_IMAGE_BYTES = 32 * 1024 * 1024
THUMB = 240
_PREFERRED = ("sample", "grid", "example", "styliz")  # which card picture makes the thumbnail


@dataclass(frozen=True)
class Picture:
    src: str  # relative to the site's root
    alt: str
    width: int
    height: int


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


@dataclass(frozen=True)
class SiteReport:
    out: Path
    pages: tuple[ModelPage, ...]
    plugins: int

    @property
    def without_picture(self) -> list[str]:
        return [p.entry.name for p in self.pages if p.entry.pretrained and p.thumb is None]

    @property
    def sampled(self) -> list[str]:
        return [p.entry.name for p in self.pages if p.sampled]

    @property
    def without_card(self) -> list[str]:
        return [p.entry.name for p in self.pages if p.entry.pretrained and (p.card is None or p.card.problem)]


def e(value: Any) -> str:
    return escape(str(value), quote=True)


# -- output folder ------------------------------------------------------------------


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CatalogError(f"{out} exists and is not a folder; give `zoo catalog -o` a new or empty folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise CatalogError(
            f"{out} is not empty and holds no zoo catalog (no {MARKER} file); give `zoo catalog -o` a new or "
            "empty folder, or one a previous `zoo catalog` wrote"
        )
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("models", "assets"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    (out / "models").mkdir()
    (out / "assets").mkdir()


# -- card pictures ------------------------------------------------------------------


def card_image(folder: Path, src: str) -> Path | None:
    """The picture file ``src`` names inside the card's folder, or None (remote, outside
    the folder, not a picture file, too big)."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    rel = PurePosixPath(unquote(parts.path))
    if rel.is_absolute() or ".." in rel.parts or rel.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    path = folder.joinpath(*rel.parts)
    try:
        if not path.is_file() or path.stat().st_size > MAX_IMAGE_BYTES:
            return None
    except OSError:
        return None
    return path


def _image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a picture file that PIL can read and that is within
    ``[limits] image_pixels`` (checked from the header, before decoding), else None."""
    from PIL import Image, UnidentifiedImageError

    from ..errors import ZooError
    from ..images import check_pixels

    try:
        with Image.open(path) as im:
            check_pixels(im, str(path))
            im.verify()
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError, ValueError, ZooError, Image.DecompressionBombError):
        return None


def _asset_name(src: str) -> str:
    flat = unquote(urlsplit(src).path).replace("/", "__")
    return re.sub(r"[^A-Za-z0-9._-]", "_", flat) or "image"


def _thumbnail(source: Path, dst_dir: Path, rel_dir: str, alt: str) -> Picture | None:
    from PIL import Image

    try:
        with Image.open(source) as im:
            im.load()
            photo = source.suffix.lower() in (".jpg", ".jpeg")
            im = im.convert("RGB" if photo or im.mode not in ("L", "RGB") else im.mode)
            im.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
            name = "thumb.jpg" if photo else "thumb.png"
            if photo:
                im.save(dst_dir / name, quality=88)
            else:
                im.save(dst_dir / name, optimize=True)
            return Picture(f"{rel_dir}/{name}", alt, im.width, im.height)
    except (OSError, ValueError):
        return None


def _choose(pictures: Sequence[Picture], sources: dict[str, Path], metadata: dict[str, Any]) -> Picture | None:
    if not pictures:
        return None
    wanted = metadata.get("thumbnail")
    if isinstance(wanted, str):
        for p in pictures:
            if sources[p.src].name == PurePosixPath(wanted).name:
                return p
    for word in _PREFERRED:
        for p in pictures:
            if word in sources[p.src].name.lower():
                return p
    return pictures[0]


def _page_for(out: Path, entry: Entry, card: CardDoc | None) -> ModelPage:
    if card is None:
        return ModelPage(entry, None, "", (), None, None, ())
    entry = with_card(entry, card)
    rel_dir = f"assets/{entry.name}"
    dst_dir = out / rel_dir
    pictures: list[Picture] = []
    sources: dict[str, Path] = {}

    def resolve(src: str) -> str | None:
        if card.path is None:
            return None
        path = card_image(card.path.parent, src)
        if path is None:
            return None
        size = _image_size(path)
        if size is None:
            return None
        for known, p in sources.items():  # the same file shown twice: one copy
            if p == path:
                return "../" + known
        stem = f"{rel_dir}/card/{_asset_name(src)}"
        site_src, n = stem, 1
        while site_src in sources:  # two names that flatten alike ("a/b.png", "a__b.png")
            n += 1
            site_src = f"{rel_dir}/card/{n}-{_asset_name(src)}"
        (out / site_src).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / site_src)
        sources[site_src] = path
        pictures.append(Picture(site_src, src, *size))
        return "../" + site_src

    rendered = render(card.body, resolve) if card.body else None
    hero = _choose(pictures, sources, card.metadata)
    thumb = None
    if hero is not None:
        thumb = _thumbnail(sources[hero.src], dst_dir, rel_dir, f"picture of {entry.name}")
    return ModelPage(
        entry, card, rendered.html if rendered else "", tuple(pictures), thumb, hero,
        rendered.dropped if rendered else (),
    )


def sample_picture(out: Path, page: ModelPage, n: int = 64, seed: int = 0) -> ModelPage:
    """A generator whose card has no picture: load its weights (torch) and draw ``n``
    samples. Only with ``zoo catalog --sample-missing``; the page says the catalog drew it."""
    from .. import load
    from ..errors import ZooError
    from ..images import save_grid

    x = page.entry
    rel_dir = f"assets/{x.name}"
    dst_dir = out / rel_dir
    how = f'zoo.load("{x.name}").sample({n}, seed={seed})'
    try:
        model = load(x.name)
        if not hasattr(model, "sample"):
            return dataclasses.replace(page, sample_error=f"{x.name} has no sample(): not a generator")
        dst_dir.mkdir(parents=True, exist_ok=True)
        path = save_grid(model.sample(n, seed=seed), dst_dir / "catalog-samples.png", nrow=8)
    except ZooError as e:
        return dataclasses.replace(page, sample_error=str(e))
    size = _image_size(Path(path))
    if size is None:
        return dataclasses.replace(page, sample_error="the sampled grid could not be read back")
    hero = Picture(f"{rel_dir}/catalog-samples.png", how, *size)
    thumb = _thumbnail(Path(path), dst_dir, rel_dir, f"picture of {x.name}")
    return dataclasses.replace(page, pictures=page.pictures + (hero,), hero=hero, thumb=thumb, sampled=how)


# -- HTML ----------------------------------------------------------------------------


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


# -- the whole site ------------------------------------------------------------------


def build_site(out: str | Path, *, host: Any = None, pattern: str | None = None,
               sample_missing: bool = False) -> SiteReport:
    """Write the catalog of every registered model (or those matching ``pattern``) to ``out``.

    Reads records and cards only. With ``sample_missing``, a generator whose card has
    no picture is loaded (torch) and sampled, and its page says so."""
    from .. import __version__
    from ..plugins import get_host

    host = host or get_host()
    out = Path(out)
    _prepare(out)
    names = catalog_names(host)
    if pattern:
        keep = set(host.registry.list(pattern))
        names = [n for n in names if n in keep]
    pages = []
    for entry in entries(host, names):
        card = read_card(host, entry.weights) if entry.weights is not None else None
        page = _page_for(out, entry, card)
        if sample_missing and page.thumb is None and entry.pretrained and entry.task == "image-generation":
            page = sample_picture(out, page)
        pages.append(page)
    generators = [p.entry for p in pages if p.entry.task == "image-generation"]
    svg = chart.svg(generators)
    (out / "fid-chart.svg").write_text(svg, encoding="utf-8")
    for name in ("style.css", "catalog.js"):
        shutil.copyfile(STATIC / name, out / name)
    for page in pages:
        (out / page.href).write_text(model_html(page, __version__), encoding="utf-8")
    plugins = sorted(host.plugins.values(), key=lambda s: s.name)
    (out / "index.html").write_text(
        index_html(pages, plugins, __version__, len(chart.bars(generators))), encoding="utf-8"
    )
    (out / MARKER).write_text(
        json.dumps({"zoo": __version__, "models": [p.entry.name for p in pages]}, indent=1) + "\n", encoding="utf-8"
    )
    return SiteReport(out, tuple(pages), len(plugins))


__all__ = ["build_site", "SiteReport", "ModelPage", "Picture", "card_image", "CSP"]
