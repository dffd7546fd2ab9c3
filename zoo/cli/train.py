"""`zoo train` and `zoo eval` (imported only when one of them runs; they import torch)."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def split_settings(arch: Any, config_json: str | None, sets: tuple[str, ...],
                   trainer: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(builder config, recipe overrides) from --config JSON (or @file) and --set key=value pairs; the recipe
    settings are the GAN recipe's, or those of the architecture's ``trainer`` component when it has one."""
    from ..training.recipes import _SYNONYMS, Recipe

    given: dict[str, Any] = {}
    if config_json:
        text = Path(config_json[1:]).read_text() if config_json.startswith("@") else config_json
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"--config is not valid JSON ({e}); pass a JSON object or @file.json") from e
        if not isinstance(loaded, dict):
            raise ConfigError("--config must be a JSON object, e.g. '{\"ngf\": 32}'")
        given.update(loaded)
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {item!r}")
        given[key.strip()] = _parse_value(value.strip())
    if trainer is not None:
        shown = sorted(trainer.setting_names())
        recipe_keys = set(shown)
    else:
        shown = sorted(f.name for f in dataclasses.fields(Recipe))
        recipe_keys = set(shown) | set(_SYNONYMS) | {"lr"}
    config, recipe = {}, {}
    for key, value in given.items():
        if key in arch.schema:
            config[key] = value
        elif key.startswith("recipe.") or key in recipe_keys:
            recipe[key.removeprefix("recipe.")] = value
        else:
            raise ConfigError(
                f"{key!r} is neither a config key of {arch.name!r} ({sorted(arch.schema)}) nor a "
                f"{'trainer' if trainer is not None else 'recipe'} setting ({shown})"
            )
    return config, recipe


@click.command()
@click.argument("arch")
@click.option("--data", "data", required=True, type=click.Path(exists=True, file_okay=True),
              help="Folder with the dataset files (IDX .gz for MNIST/Fashion-MNIST; CIFAR-10 tarball or JPEG zip); "
                   "for a trainer component, what it reads (style transfer: a folder with style/ and content/).")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist", "cifar10"]), default=None,
              help="The image dataset of a GAN (required for GANs).")
@click.option("--config", "config_json", default=None, help="Builder config as JSON, or @file.json.")
@click.option("--set", "sets", multiple=True, help="key=value for a config key or a recipe setting (repeatable).")
@click.option("--recipe", "recipe_name", default=None,
              help="A named recipe of the architecture, its own or one another plugin registers for it "
                   "(default: its default; `zoo info ARCH` lists them).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="The Hub-repo folder to write.")
@click.option("--steps", type=int, default=2000, show_default=True,
              help="Updates (a GAN's: generator updates).")
@click.option("--minutes", type=float, default=None,
              help="A time budget: stop cleanly after it (checkpoint and export); --steps is the other bound.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="Checkpoints, log.jsonl and sample grids (default runs/<out name>); a run resumes from it.")
@click.option("--sample-every", type=int, default=500, show_default=True)
@click.option("--checkpoint-every", type=int, default=500, show_default=True)
@click.option("--export-every", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also write the folder the run would export, every N steps, to <run dir>/exports/step_NNNNNNN "
                   "(the points of an FID-against-steps curve: bench/fid_curve.py). 0: only at the end.")
@click.option("--threads", type=int, default=None, help="torch threads per process.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--precision", type=click.Choice(["fp32", "bf16", "auto"]), default="fp32", show_default=True,
              help="bf16: autocast the convolutions to bfloat16 (weights and optimiser stay fp32); "
                   "auto: bf16 where the CPU runs it natively.")
@click.option("--channels-last", is_flag=True, help="NHWC memory layout for the convolutions.")
@click.option("--init-from", type=click.Path(file_okay=False, exists=True), default=None,
              help="Continue from an exported folder (--out of an earlier run, or its card folder in cards/) when "
                   "the run dir has no checkpoint: its generator, its discriminator and EMA when it kept them "
                   "(training_state.safetensors), and its step count; the optimisers start afresh.")
@click.option("--lr-schedule", type=click.Choice(["constant", "linear-decay"]), default=None,
              help="The learning rate against steps (default: the recipe's, else constant). linear-decay: from the "
                   "base rate at --lr-decay-start to zero at --lr-decay-end, as pytorch-gan-collections; it is a "
                   "function of the step, so a resumed run follows it.")
@click.option("--lr-decay-start", type=click.IntRange(min=0), default=None,
              help="The step where the linear decay begins (default 0: the whole run).")
@click.option("--lr-decay-end", type=click.IntRange(min=1), default=None,
              help="The step where the learning rate reaches zero (default: --steps).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def train(arch: str, data: str, dataset: str | None, config_json: str | None, sets: tuple[str, ...],
          recipe_name: str | None, out: str, steps: int, minutes: float | None, seed: int, run_dir: str | None,
          sample_every: int, checkpoint_every: int, export_every: int, threads: int | None, device: str,
          precision: str, channels_last: bool, init_from: str | None, lr_schedule: str | None,
          lr_decay_start: int | None, lr_decay_end: int | None, no_progress: bool) -> None:
    """Train ARCH with its trainer and its paper's recipe, and write a Hub-repo folder to --out.

    The architecture's trainer component runs (a GAN: the adversarial trainer against its discriminator;
    AdaIN: its perceptual decoder step) through the zoo's one training mechanism: checkpoint and resume from
    --run-dir, progress, log.jsonl, --precision, --channels-last, and the export whose card the card writer
    writes. Runs data-parallel under torchrun (gloo on CPU): torchrun --nproc-per-node 2 -m zoo.cli train ...
    """
    from ..training.recipes import architecture_recipe
    from ..training.run import TrainJob, check_trainable, get_architecture, job_settings, run_training, trainer_class

    from ..training.schedule import LRSchedule

    record = get_architecture(arch)
    check_trainable(record)
    component = trainer_class(record)
    config, recipe = split_settings(record, config_json, sets, component)
    schedule = {k: v for k, v in (("lr_schedule", lr_schedule), ("lr_decay_start", lr_decay_start),
                                  ("lr_decay_end", lr_decay_end)) if v is not None}
    if (lr_decay_start is not None or lr_decay_end is not None) and lr_schedule is None:
        schedule["lr_schedule"] = "linear-decay"
    if schedule:
        LRSchedule.from_settings(schedule, steps)  # a start past the end is said before the data loads
    # an unknown recipe or loss is said before the data loads
    if component is None:
        if dataset is None:
            raise ConfigError(f"training the GAN {record.name!r} needs --dataset (mnist, fashion-mnist or cifar10)")
        architecture_recipe(record, recipe_name, **recipe)
    else:
        job_settings(record, TrainJob(arch=record.name, dataset=dataset, data=Path(data), out=Path(out), steps=steps,
                                      recipe_name=recipe_name, recipe_overrides=recipe))
    argv = sys.argv[1:] if sys.argv and sys.argv[0].endswith(("zoo", "cli.py", "__main__.py")) else sys.argv[1:]
    command = "zoo " + " ".join(shlex.quote(a) for a in argv) if argv and argv[0] == "train" else \
        "zoo train " + shlex.join([arch, "--data", data] + (["--dataset", dataset] if dataset else [])
                                  + ["--out", out, "--steps", str(steps), "--seed", str(seed)]
                                  + [x for s in sets for x in ("--set", s)]
                                  + [x for k, v in schedule.items() for x in ("--" + k.replace("_", "-"), str(v))])
    job = TrainJob(
        arch=record.name, dataset=dataset, data=Path(data), out=Path(out), steps=steps, seed=seed,
        config=config, recipe_name=recipe_name, recipe_overrides=recipe,
        run_dir=Path(run_dir) if run_dir else None, sample_every=sample_every,
        checkpoint_every=checkpoint_every, export_every=export_every, threads=threads, progress=not no_progress,
        command=command, device=device, precision=precision, channels_last=channels_last,
        init_from=Path(init_from) if init_from else None, minutes=minutes, lr_schedule=schedule,
    )
    from ..training.engine import finish_distributed

    summary = run_training(job)
    first = summary.get("world_size", 1) == 1 or _rank() == 0
    finish_distributed()  # under torchrun: leave the process group before the interpreter exits
    if first:
        click.echo(f"wrote {out} ({summary['steps']} steps, {summary['wall_time_s']} s)")


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))


@click.command("eval")
@click.argument("name")
@click.option("--data", required=True, type=click.Path(exists=True), help="Folder with the dataset files.")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist", "cifar10"]), default=None,
              help="Default: the dataset the weights were trained on.")
@click.option("-n", "--n-samples", type=int, default=None,
              help="Generated samples (default 10,000; 50,000 with --protocol fid50k-train).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--n-reference", type=int, default=None,
              help="Reference images drawn from the test split (default: all of it, the published protocol).")
@click.option("--classifier", "classifier_dir", type=click.Path(file_okay=False), default=None,
              help="Classifier folder for --extractor classifier (default: the zoo's classifier-<dataset> in cards/).")
@click.option("--extractor", type=click.Choice(["inception", "classifier"]), default=None,
              help="Feature network. Default: inception (the standard FID Inception, zoo model inception.fid) for "
              "CIFAR-10; the zoo's classifier for MNIST and Fashion-MNIST.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True,
              help="Inception only: bf16 autocast with channels_last, or fp32. auto: bf16 where the CPU has native "
              "bf16 (or on a GPU), else fp32; with --protocol fid50k-train auto is bf16, which keeps that FID within "
              "0.04% of fp32's (docs/training.md). bench/bench_fid.py prints bf16's FID agreement with fp32.")
@click.option("--protocol", type=click.Choice(["samples-vs-test", "fid50k-train"]), default="samples-vs-test",
              show_default=True,
              help="fid50k-train: the published CIFAR-10 protocol (FID of 50,000 samples against the statistics of "
              "all 50,000 training images, stored as fid50k_train; -n changes the sample count, then the figure is "
              "not the published protocol's and is not stored under that key). samples-vs-test: FID/KID of -n "
              "samples against the test split.")
@click.option("--device", "eval_device", default="cpu", show_default=True,
              help="Where the generator and the Inception run for --protocol fid50k-train (e.g. cuda).")
@click.option("--no-baseline", is_flag=True, help="Skip the real-vs-real (train vs test) baseline.")
@click.option("--samples-only", is_flag=True,
              help="With --protocol fid50k-train: only generate the samples and keep their statistics in the feature "
              "cache (no training images needed), e.g. beside the once-per-machine train statistics on another core; "
              "the same command without it then reads them.")
@click.option("--write", is_flag=True, help="NAME is a folder: store the metrics in its config.json and card.")
@click.option("--threads", type=int, default=None)
@click.option("--evaluator", "evaluator_name", default=None,
              help="The evaluator to run (default: the one of the model's task; `zoo plugins` lists them).")
@click.option("--set", "eval_sets", multiple=True,
              help="key=value for the evaluator (style-transfer judge: size=256, heldout=skimage|wallpapers).")
def eval(name: str, data: str, dataset: str | None, n_samples: int | None, seed: int, n_reference: int | None,
         classifier_dir: str | None,
         extractor: str | None, precision: str, protocol: str, eval_device: str, no_baseline: bool,
         samples_only: bool, write: bool, threads: int | None, evaluator_name: str | None,
         eval_sets: tuple[str, ...]) -> None:  # noqa: A001
    """Score NAME (a model name, a folder written by `zoo train`, or hf-hub:org/name[@revision]) with the
    evaluator of its task and compare with its card where the protocol is the same.

    Image generators: FID and KID (the options below). Style transfer: the style-transfer judge (content loss,
    style loss, SSIM under vgg16.hed-bsds500 on a fixed held-out set; --data is the style-transfer folder).
    Classifiers: top-1 accuracy on the test split. A plugin may register more (zoo.Evaluator). Every figure is
    printed with its protocol; the exit status is 1 when a figure differs from the card's by more than 5%
    (FID) or 3 standard deviations (KID) under the same protocol, 0 otherwise (a figure measured under another
    protocol is printed, not compared). Reference features are cached (see zoo.metrics.features), so a second
    evaluation against the same split pays only for the generated samples.
    """
    import torch

    import zoo

    from ..metrics.evaluate import compare, dataset_of, evaluate_generator, protocol_mismatch
    from ..metrics.fid import Protocol
    from ..metrics.published_protocol import replace_folder_metrics
    from ..repos.refs import parse_ref

    if threads:
        torch.set_num_threads(threads)
    if samples_only and (protocol != "fid50k-train" or write):
        raise ConfigError("--samples-only caches the generated half of --protocol fid50k-train and measures no "
                          "figure: use it with --protocol fid50k-train and without --write")
    ref = parse_ref(name)  # a registered name, a Hub-repo folder, or hf-hub:org/name[@revision]
    folder = ref.path if ref.kind == "folder" else None
    task = _task_of(ref, name)
    if evaluator_name or task != "image-generation":
        _eval_by_task(name, ref, task, evaluator_name, data, dataset, n_samples, seed, precision, eval_device,
                      eval_sets, write, folder)
        return
    if ref.kind == "hub" and write:
        raise ConfigError(f"--write stores the metrics in a folder's config.json; {name} is a Hub repo: "
                          "evaluate a local copy of its folder with --write, and publish that")
    if ref.kind != "registered":
        G = zoo.load(ref)
        cfg = dict(G.zoo_source.meta)
        expected = cfg.get("metrics", {}) or {}
        ds = dataset or dataset_of(cfg)
    else:
        info = zoo.model_info(name)
        G = zoo.load(name)
        expected = dict(info.weights.metrics) if info.weights else {}
        ds = dataset or (info.weights.dataset if info.weights else None)
        if not ds:
            raise ConfigError(f"{name!r} names no dataset: pass --dataset")
        ds = ds.lower().split("/")[-1].replace("_", "-")
        write = False
    if protocol == "fid50k-train":
        if samples_only:
            _cache_fid50k_samples(name, G, n_samples, seed, precision, eval_device)
        else:
            _eval_fid50k_train(name, G, ds, data, expected, n_samples, seed, precision, no_baseline, write, folder,
                               eval_device)
        return
    n_samples = 10_000 if n_samples is None else n_samples
    protocol_ = Protocol(n_samples=n_samples, seed=seed, n_reference=n_reference)
    metrics = evaluate_generator(G, ds, data, protocol_, classifier_dir, with_baseline=not no_baseline,
                                 extractor=extractor, precision=precision)
    metrics["command"] = "zoo eval " + shlex.join(
        [name, "--data", data] + (["-n", str(n_samples)] if n_samples != 10_000 else [])
        + (["--n-reference", str(n_reference)] if n_reference is not None else [])
        + (["--extractor", extractor] if extractor else []) + (["--precision", precision] if precision != "auto" else []))
    click.echo(f"{name} on {ds}: {metrics['protocol']}")
    for key in ("fid", "kid", "kid_std", "fid_real_baseline", "kid_real_baseline", "kid_std_real_baseline"):
        if key in metrics:
            card = f"  (card: {float(expected[key]):.5g})" if key in expected else ""
            click.echo(f"  {key:24s} {metrics[key]:.5g}{card}")
    mismatch = protocol_mismatch(expected, metrics)
    if mismatch:
        click.echo(f"not compared with the card: {mismatch}")
    problems = [] if mismatch else compare(expected, metrics)
    if expected and not mismatch:
        click.echo("matches the card within noise" if not problems else "DIFFERS from the card: " + "; ".join(problems))
    if write and folder is not None:
        replace_folder_metrics(folder, metrics)
        click.echo(f"wrote the metrics into {folder}/config.json and README.md")
    elif problems:
        raise SystemExit(1)


def _fid50k_precision(precision: str) -> str:
    """bf16 unless asked: it keeps this FID within 0.04% of fp32's (CHECKED_PRECISIONS) at 2-4x the speed on a CPU."""
    return "bf16" if precision == "auto" else precision


def _cache_fid50k_samples(name: str, G: Any, n_samples: int | None, seed: int, precision: str, device: str) -> None:
    from ..metrics.published_protocol import PublishedProtocol, cache_generator_statistics

    p = PublishedProtocol(n_samples=50_000 if n_samples is None else n_samples, seed=seed)
    done = cache_generator_statistics(G, p, precision=_fid50k_precision(precision), device=device)
    click.echo(f"{name}: the statistics of {done['n_samples']} samples (seed {done['seed']}, {done['precision']}, "
               f"{done['device']}) are in the feature cache ({done['seconds']} s); the same `zoo eval` without "
               "--samples-only reads them")


def _eval_fid50k_train(name: str, G: Any, dataset: str, data: str, expected: dict[str, Any], n_samples: int | None,
                       seed: int, precision: str, no_baseline: bool, write: bool, folder: Any,
                       device: str = "cpu") -> None:
    """`zoo eval --protocol fid50k-train`: the published protocol's FID, compared with the card's and the paper's."""
    from ..metrics.evaluate import merge_folder_metrics
    from ..metrics.published_protocol import KEY, PublishedProtocol, evaluate_fid50k_train, result_key

    precision = _fid50k_precision(precision)
    p = PublishedProtocol(n_samples=50_000 if n_samples is None else n_samples, seed=seed)
    result = evaluate_fid50k_train(G, dataset, data, p, precision=precision, with_baseline=not no_baseline,
                                   device=device)
    key = result_key(p.n_samples, precision)
    published_protocol = key == KEY
    result[f"{key}_command"] = "zoo eval " + shlex.join(
        [name, "--data", data, "--protocol", "fid50k-train"] + (["-n", str(p.n_samples)] if n_samples else [])
        + (["--precision", precision] if precision != "bf16" else []))
    click.echo(f"{name} on {dataset}: {result[f'{key}_protocol']}")
    click.echo(f"  {key:28s} {result[key]:.5g}" + (f"  (card: {float(expected[key]):.5g})" if key in expected else ""))
    if f"{key}_real_baseline" in result:
        click.echo(f"  {key + '_real_baseline':28s} {result[f'{key}_real_baseline']:.5g}")
    meta = getattr(getattr(G, "zoo_source", None), "meta", None) or {}
    published = meta.get("published") if isinstance(meta.get("published"), dict) else {}
    if published.get("fid") is not None:
        click.echo(f"  published FID {published['fid']} ({published.get('source', '')})")
    seconds = result.pop(f"{key}_seconds", None)  # this run's time, not the figure's cost (statistics are cached)
    if seconds is not None:
        click.echo(f"  took {seconds} s (statistics kept in the feature cache were read, not recomputed)")
    if write and folder is not None:
        merge_folder_metrics(folder, result)
        click.echo(f"wrote {key} into {folder}/config.json and README.md")
    if published_protocol and key in expected:
        e, m = float(expected[key]), float(result[key])
        if abs(e - m) > 0.05 * max(abs(e), 1e-9):
            click.echo(f"DIFFERS from the card: {key} card {e:.4g}, measured {m:.4g}")
            raise SystemExit(1)
        click.echo("matches the card within noise")


def _task_of(ref: Any, name: str) -> str:
    """The task of the architecture ``ref`` names (a registered name, a folder's or a Hub repo's config.json)."""
    import zoo

    if ref.kind == "registered":
        return zoo.model_info(name).architecture.task
    info = zoo.model_info(ref)
    arch = getattr(info, "architecture", None)
    from ..plugins import get_host

    record = get_host().registry.architectures.get(str(getattr(arch, "name", arch)))
    return record.task if record is not None else "image-generation"


def _eval_by_task(name: str, ref: Any, task: str, evaluator_name: str | None, data: str, dataset: str | None,
                  n_samples: int | None, seed: int, precision: str, device: str, sets: tuple[str, ...], write: bool,
                  folder: Any) -> None:
    """`zoo eval` through the evaluator of the model's task (zoo.evaluation): figures with their protocols,
    compared with the card's only under the same protocol."""
    import zoo

    from ..evaluation import EvalJob, choose_evaluator, compare, evaluators_for, run_evaluator

    evaluator = choose_evaluator(task, evaluator_name)
    settings = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes key=value, got {item!r}")
        settings[key.strip()] = _parse_value(value.strip())
    if ref.kind == "registered":
        info = zoo.model_info(name)
        weights = info.weights
        expected = dict(weights.metrics) if weights else {}
        protocols = dict(weights.protocols) if weights else {}
        ds = dataset or (weights.dataset if weights else None)
        model = zoo.load(name)
        write = False
    else:
        model = zoo.load(ref)
        meta = dict(model.zoo_source.meta)
        expected = dict(meta.get("metrics", {}) or {})
        protocols = dict(expected.get("protocols", {}) or meta.get("protocols", {}) or {})
        ds = dataset or meta.get("dataset")
    job = EvalJob(name=name, task=task, data=Path(data) if data else None, dataset=ds, n_samples=n_samples,
                  seed=seed, precision=precision, device=device, settings=settings, expected=expected,
                  expected_protocols=protocols)
    result = run_evaluator(evaluator, model, job)
    result["command"] = "zoo eval " + shlex.join([name, "--data", data] + [x for s in sets for x in ("--set", s)]
                                                 + (["--evaluator", evaluator_name] if evaluator_name else []))
    click.echo(f"{name} ({task}), evaluator {evaluator.name} (plugin {evaluator.plugin}): {result['protocol']}")
    others = [e.name for e in evaluators_for(task) if e.name != evaluator.name]
    if others:
        click.echo(f"  (other evaluators of {task}: {', '.join(others)}; choose one with --evaluator)")
    for key, how in result["protocols"].items():
        card = f"  (card: {float(expected[key]):.5g}, {protocols.get(key) or 'protocol not stated'})" \
            if key in expected else ""
        click.echo(f"  {key:20s} {float(result[key]):.5g}  [{how}]{card}")
    for row, values in dict(result.get("references", {})).items():
        click.echo(f"  reference: {row}: " + ", ".join(f"{k} {float(v):.5g}" for k, v in values.items()))
    differs, skipped, compared = compare(result, expected, protocols)
    for item in skipped:
        click.echo(f"not compared with the card (another protocol): {item}")
    if differs:
        click.echo("DIFFERS from the card (same protocol): " + "; ".join(differs))
    elif compared:
        click.echo(f"matches the card within 5% ({', '.join(compared)}, same protocol)")
    elif not skipped:
        click.echo("the card has no figure of this protocol to compare with")
    if write and folder is not None:
        _write_eval(folder, result)
        click.echo(f"wrote the metrics into {folder}/config.json and README.md")
    elif differs:
        raise SystemExit(1)


def _write_eval(folder: Any, result: dict[str, Any]) -> None:
    """Store an evaluator's figures (with their protocols) in a folder's config.json, and have the architecture's
    trainer component re-write the card when it can (``write_card(folder)``)."""
    from ..plugins import get_host

    path = Path(folder) / "config.json"
    config = json.loads(path.read_text())
    metrics = dict(config.get("metrics", {}) or {})
    metrics.update({k: v for k, v in result.items() if k != "per_pair"})
    metrics["protocols"] = {**dict(metrics.get("protocols", {}) or {}), **result["protocols"]}
    config["metrics"] = metrics
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    arch = get_host().registry.architectures.get(str(config.get("architecture")))
    if arch is not None and "trainer" in arch.components:
        from ..loading import import_component

        writer = getattr(import_component(arch, "trainer"), "write_card", None)
        if callable(writer):
            writer(Path(folder))
