"""`zoo catalog` and `zoo serve`: the offline site of every installed model.

Torch-free: both read records and cards, never weights.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

import click

from ..errors import CatalogError


def _summary(report: Any) -> None:
    n = len(report.pages)
    click.echo(f"wrote the catalog of {n} model(s) to {report.out}: open {report.out / 'index.html'}")
    if report.without_picture:
        click.echo(
            "no picture on the card of: " + ", ".join(report.without_picture)
            + " (the catalog reads cards, never weights; `zoo catalog --sample-missing` or"
            " `zoo sample NAME -o grid.png` draws a generator's samples)",
            err=True,
        )
    if report.sampled:
        click.echo("sampled by the catalog (no picture on the card): " + ", ".join(report.sampled))
    if report.without_card:
        click.echo("card not found offline for: " + ", ".join(report.without_card)
                   + " (`zoo download NAME` fetches it into the cache)", err=True)


@click.command("catalog")
@click.argument("pattern", required=False)
@click.option("-o", "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site to (new, empty, or a previous catalog).")
@click.option("--sample-missing", is_flag=True,
              help="Load and sample generators whose card has no picture (imports torch; reads their weights).")
def catalog(pattern: str | None, out: Path, sample_missing: bool) -> None:
    """Write a static, offline site of every registered model (or those matching PATTERN):
    an index to sort and filter, a page per model with its card, pictures, metrics and pins."""
    from ..catalog.site import build_site

    _summary(build_site(out, pattern=pattern, sample_missing=sample_missing))


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Serve a folder `zoo catalog` wrote, instead of writing a fresh catalog.")
@click.option("--open", "open_browser", is_flag=True, help="Open the catalog in the web browser.")
def serve(port: int, directory: Path | None, open_browser: bool) -> None:
    """Serve the catalog on 127.0.0.1 (written fresh to a temporary folder unless --dir)."""
    from ..catalog.serve import make_server, url_of
    from ..catalog.site import MARKER, build_site

    made: Path | None = None
    if directory is None:
        made = Path(tempfile.mkdtemp(prefix="zoo-catalog-"))
        _summary(build_site(made))
        directory = made
    elif not (directory / MARKER).is_file():
        raise CatalogError(f"{directory} is not a folder `zoo catalog` wrote (no {MARKER}); run `zoo catalog -o {directory}` first")
    try:
        try:
            server = make_server(directory, port)
        except OSError as e:
            raise CatalogError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}; try another --port (0 picks a free one)") from e

        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        url = url_of(server)
        click.echo(f"serving the catalog at {url} (Ctrl-C stops)")
        if open_browser:
            import webbrowser

            if not webbrowser.open(url):
                click.echo(f"no web browser found here; open {url} yourself", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
