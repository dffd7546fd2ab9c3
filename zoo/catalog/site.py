"""The static catalog site: ``index.html`` (every model, sortable and filterable),
``models/<name>.html`` (the rendered card, metrics, pins, snippet), the card
pictures under ``assets/<name>/card/`` and a thumbnail beside them, ``fid-chart.svg``.

Offline by construction: every reference in a page is relative, every page
carries a Content-Security-Policy that allows only the site's own files, and the
only script is ``catalog.js`` (no inline script, so a script a card smuggled in
could not run even if escaping failed). Card text is rendered by
zoo.catalog.markdown, which escapes raw HTML.

Built here (:func:`build_site`); the pages are written by :mod:`.pages`, the pictures found and
thumbnailed by :mod:`.pictures`. Their names stay importable from here.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CatalogError
from . import chart
from .markdown import render
from .records import CardDoc, Entry, catalog_names, entries, read_card, with_card
from .pages import (  # noqa: F401  (zoo.catalog.site's names before the split)
    CSP, ModelPage, e, _page, _source_tag, _dir_text, _metrics_list, _row_metrics, _row_protocols, _directions,
    _plugin_text, _options, index_html, _link, _paper, model_html, _HOW_TO_USE, card_snippet, _schema,
)
from .pictures import (  # noqa: F401  (zoo.catalog.site's names before the split)
    IMAGE_SUFFIXES, MAX_IMAGE_BYTES, THUMB, _PREFERRED, Picture, card_image, _image_size, _asset_name,
    _thumbnail, _choose,
)


STATIC = Path(__file__).resolve().parent / "static"
MARKER = ".zoo-catalog"


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
