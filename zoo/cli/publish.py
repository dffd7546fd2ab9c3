"""``zoo push`` and ``zoo new-plugin``: publishing weights and starting a plugin.

``zoo push DIR --repo ORG/NAME`` checks the Hub-repo folder first (the card
passes the schema, config.json builds on the meta device, the safetensors
tensors fit, nothing is pickled) and publishes nothing unless it passes. Then:

- ``--mirror PATH``: a git commit in ``PATH/models/ORG/NAME`` (what olah serves
  from its ``mirrors-path``); with ``--layout folder`` a plain copy in
  ``PATH/ORG/NAME`` (what ZOO_MIRRORS reads, like cards/);
- otherwise the Hub at ``--endpoint`` (default: HF_ENDPOINT, else the public
  Hub) through huggingface_hub's create_repo and upload_folder.

It prints the commit sha and every file's sha256 and size, and the
``zoo.Weights(...)`` record to paste into the plugin's register_weights.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import click

from ..errors import ZooError

def _tag_for(arch: str, repo_id: str) -> str:
    """A default tag from the repo name: 'my-org/pix-demo' for 'pix' -> 'demo'."""
    name = repo_id.split("/", 1)[1].lower()
    for prefix in (arch + "-", arch + "_", arch + "."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    tag = re.sub(r"[^a-z0-9_-]+", "-", name).strip("-_")
    return tag if tag and tag != arch and tag[0].isalnum() else "main"


def card_metrics(card_meta: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """(metrics, protocols) of a card's model-index, for the Weights record: every number measured for this
    model (results quoted from elsewhere, with a ``source``, are left out), keyed by its type (a second one of
    the same type, a baseline, as ``<type>_real_baseline``), with the metric's name (how it was measured) as
    its protocol."""
    metrics: dict[str, float] = {}
    protocols: dict[str, str] = {}
    index = card_meta.get("model-index") or card_meta.get("model_index") or []
    for entry in index if isinstance(index, list) else []:
        for result in (entry.get("results") or []) if isinstance(entry, dict) else []:
            if not isinstance(result, dict) or result.get("source"):
                continue
            for m in result.get("metrics") or []:
                if not isinstance(m, dict) or not isinstance(m.get("type"), str):
                    continue
                value = m.get("value")
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                key = str(m["type"])
                how = str(m.get("name") or "").strip()
                if key in metrics:
                    key = f"{key}_real_baseline" if "baseline" in how.lower() else f"{key}_{len(metrics)}"
                metrics[key] = value
                if how:
                    protocols[key] = how
    return metrics, protocols


def weights_snippet(name: str, repo_id: str, revision: str, weights: dict[str, Any], config: dict[str, Any],
                    card_meta: dict[str, Any]) -> str:
    datasets = card_meta.get("datasets") or ["none"]
    metrics, protocols = card_metrics(card_meta)
    return (
        "zoo.Weights(\n"
        f"    name={name!r},\n"
        f"    repo_id={repo_id!r},\n"
        f"    revision={revision!r},\n"
        f"    filename={weights['path']!r},\n"
        f"    sha256={weights['sha256']!r},\n"
        f"    size={weights['size']},\n"
        f"    config={config!r},\n"
        f"    license={str(card_meta.get('license', '')).lower()!r},\n"
        f"    dataset={str(datasets[0])!r},\n"
        + (f"    metrics={metrics!r},\n" if metrics else "")
        + (f"    protocols={protocols!r},\n" if protocols else "")
        + ")"
    )


def _copy_folder(folder: Path, dest: Path) -> None:
    from ..repos.publish import folder_files

    if dest.exists():
        shutil.rmtree(dest)
    for src in folder_files(folder):
        target = dest / src.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


def _hub_error(e: Exception, endpoint: str) -> ZooError:
    status = getattr(getattr(e, "response", None), "status_code", None)
    if status in (401, 403):
        fix = "log in with `hf auth login`, or pass --token (a write token for that organisation)"
    elif status is not None:
        fix = "check the repo name and your rights on it, then try again"
    else:
        fix = "check the network and --endpoint / HF_ENDPOINT, then try again (nothing was committed)"
    detail = f"HTTP {status}" if status is not None else f"{type(e).__name__}: {e}"
    return ZooError(f"push to {endpoint} failed ({detail}); {fix}")


@click.command("push")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo", "repo_id", required=True, help="ORG/NAME of the Hub repository.")
@click.option("--mirror", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Publish into this local mirror instead of a Hub.")
@click.option("--layout", type=click.Choice(["git", "folder"]), default="git", show_default=True,
              help="Mirror layout: git (PATH/models/ORG/NAME, served by olah) or folder (PATH/ORG/NAME, for ZOO_MIRRORS).")
@click.option("--endpoint", default=None, help="Hub URL (default: HF_ENDPOINT, else https://huggingface.co).")
@click.option("--token", envvar="HF_TOKEN", default=None, help="Hub write token (default: HF_TOKEN or `hf auth login`).")
@click.option("--private", is_flag=True, help="Create the Hub repository as private.")
@click.option("--name", "model_name", default=None, help="Model name ARCH.TAG for the printed Weights record.")
@click.option("--no-metrics", is_flag=True, help="Accept a card without a model-index (e.g. converted upstream weights).")
@click.option("--dry-run", is_flag=True, help="Check the folder and print the pins; publish nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def push(folder: Path, repo_id: str, mirror: Path | None, layout: str, endpoint: str | None, token: str | None,
         private: bool, model_name: str | None, no_metrics: bool, dry_run: bool, as_json: bool) -> None:
    """Check the Hub-repo FOLDER and publish it to a Hub or a local mirror."""
    from ..cards import parse_card
    from ..repos.publish import FileDigest, digests, folder_revision, push_to_hub, push_to_mirror
    from ..repos.check import check_repo_folder

    from ..registry import repo_id_problem

    problem = repo_id_problem(repo_id)  # what huggingface_hub would refuse later, refused now
    if problem:
        raise click.BadParameter(f"{repo_id!r} {problem}", param_hint="--repo")
    if model_name is not None and not re.match(r"^[a-z][a-z0-9_-]*\.[a-z0-9][a-z0-9_-]*$", model_name.lower()):
        raise click.BadParameter(f"{model_name!r} is not a model name ARCH.TAG (letters, digits, '-', '_', "
                                 "one dot)", param_hint="--name")
    if mirror is not None and endpoint is not None:
        raise click.UsageError("give either --mirror (a local mirror) or --endpoint (a Hub), not both")
    if layout == "folder" and mirror is None:
        raise click.UsageError("--layout folder needs --mirror PATH")

    report = check_repo_folder(folder, needs_metrics=not no_metrics)  # refuses before any publishing
    card_meta = parse_card((folder / "README.md").read_text(encoding="utf-8")).metadata
    name = (model_name or f"{report.architecture}.{_tag_for(report.architecture, repo_id)}").lower()

    if dry_run:
        revision, files, location = folder_revision(folder), digests(folder), "(dry run: nothing published)"
    elif mirror is not None and layout == "folder":
        dest = Path(mirror) / repo_id
        _copy_folder(folder, dest)
        revision, files, location = folder_revision(folder), digests(dest), str(dest)
    elif mirror is not None:
        published = push_to_mirror(folder, repo_id, Path(mirror))
        revision, files, location = published.revision, published.files, published.location
    else:
        target = endpoint or _default_endpoint()
        try:
            published = push_to_hub(folder, repo_id, endpoint=endpoint, token=token, private=private)
        except ZooError:
            raise
        except Exception as e:  # huggingface_hub's HTTP errors, connection errors
            raise _hub_error(e, target) from e
        revision, files, location = published.revision, published.files, published.location

    file_rows = [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files if isinstance(f, FileDigest)]
    main = next((r for r in file_rows if r["path"] == report.weights[0]), None)
    snippet = weights_snippet(name, repo_id, revision, main, dict(report.given_config), card_meta) if main else ""
    if as_json:
        click.echo(json.dumps({"repo_id": repo_id, "revision": revision, "location": location,
                               "architecture": report.architecture, "config": report.given_config,
                               "files": file_rows, "weights": snippet}, indent=2))
        return
    click.echo(f"{'checked' if dry_run else 'published'} {repo_id} ({report.architecture}) -> {location}")
    click.echo(f"revision {revision}")
    for r in file_rows:
        click.echo(f"  {r['sha256']}  {r['size']:>12,}  {r['path']}")
    if snippet:
        click.echo("pin it in register_weights:")
        click.echo("\n".join("    " + line for line in snippet.splitlines()))


def _default_endpoint() -> str:
    import os

    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


@click.command("new-plugin")
@click.argument("name")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder in which to create zoo-NAME/.")
@click.option("--org", default="my-org", show_default=True, help="Hub organisation of the demo weights' repo.")
@click.option("--force", is_flag=True, help="Overwrite an existing zoo-NAME folder.")
@click.option("--task", type=click.Choice(["image-generation", "style-transfer"]), default="image-generation",
              show_default=True, help="style-transfer: a stylizer with a trainer component (zoo train), evaluated "
              "by the style-transfer judge (zoo eval), used by zoo stylize --model.")
def new_plugin(name: str, out_dir: Path, org: str, force: bool, task: str) -> None:
    """Write a ready plugin package zoo-NAME: entry point, model, card, weights, tests."""
    from ..scaffold import describe, new_plugin as make

    click.echo(describe(make(name, out_dir, org=org, force=force, task=task)))
