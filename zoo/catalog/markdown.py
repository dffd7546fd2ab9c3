"""Card Markdown to safe HTML with markdown-it-py.

Card text is untrusted (a third-party plugin wrote it), so:
- raw HTML in the Markdown is escaped, never passed through (``html: False``);
- markdown-it's own link check drops ``javascript:``, ``vbscript:``, ``file:`` and
  ``data:`` links;
- an image is shown only when it is a picture file inside the card's own folder
  (copied next to the page by the caller); a remote or out-of-folder image becomes
  text, so that viewing the page never fetches anything;
- a link stays a link only when it goes to an http(s) or mailto address (opened
  only if clicked, with ``rel="noopener noreferrer"``) or to an anchor; a relative
  link to a file the catalog does not copy becomes plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

# src in the card -> the URL to use in the page, or None to show the image as text
ImageResolver = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Rendered:
    html: str
    images: tuple[tuple[str, str], ...]  # (src as written in the card, URL in the page) of shown images
    dropped: tuple[str, ...]  # images not shown (remote, outside the card folder, not a picture)


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def _safe_href(href: str) -> bool:
    parts = urlsplit(href)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    if parts.scheme == "mailto":
        return True
    return not parts.scheme and not parts.netloc and not parts.path and bool(parts.fragment)


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


def render(markdown: str, resolve_image: ImageResolver) -> Rendered:
    """HTML for a card body; ``resolve_image`` decides where each image's file is."""
    md = _parser()
    tokens = md.parse(markdown)
    shown: list[tuple[str, str]] = []
    dropped: list[str] = []
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        keep_link = True
        for tok in block.children:
            if tok.type == "image":
                src = str(tok.attrGet("src") or "")
                url = resolve_image(src)
                alt = "".join(c.content for c in tok.children or [])
                if url is None:
                    dropped.append(src)
                    children.append(_text(f"[picture not shown: {alt or src} ({src})]"))
                    continue
                tok.attrSet("src", url)
                shown.append((src, url))
            elif tok.type in ("link_open", "link_close"):
                if tok.type == "link_open":  # links do not nest: its link_close comes next
                    href = str(tok.attrGet("href") or "")
                    keep_link = _safe_href(href)
                    if keep_link and not href.startswith("#"):
                        tok.attrSet("rel", "noopener noreferrer nofollow")
                if not keep_link:
                    tok.tag = "span"
                    tok.attrs = {}
                    if tok.type == "link_open":
                        tok.attrSet("class", "dead-link")
            children.append(tok)
        block.children = children
    html = md.renderer.render(tokens, md.options, {})
    return Rendered(html, tuple(shown), tuple(dropped))
