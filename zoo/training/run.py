"""`zoo train`: build an architecture, train it by its recipe, write a Hub-repo folder."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, NotTrainableError
from ..machine import resolve_precision
from ..registry import Architecture
from .data import ImageData, load_dataset, resolve_data_dir
from .export import TRAINING_STATE_FILE
from .engine import LoopConfig, TrainResult, init_distributed
from .loop import InitState, batch_norms, ema_for_export, train_gan
from .recipes import Recipe, architecture_recipe
from .schedule import LRSchedule


@dataclass
class TrainJob:
    """Everything one `zoo train` run needs; ``command`` is recorded in the card."""

    arch: str
    dataset: str | None  # the image dataset of a GAN; None for trainers that read --data themselves
    data: Path
    out: Path
    steps: int
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    recipe_name: str | None = None
    recipe_overrides: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None
    sample_every: int = 500
    checkpoint_every: int = 500
    export_every: int = 0  # also export a Hub-repo folder every N steps, to run_dir/exports/step_NNNNNNN
    threads: int | None = None
    progress: bool = True
    command: str = ""
    device: str = "cpu"
    precision: str = "fp32"  # "fp32", "bf16" (autocast) or "auto" (bf16 where the CPU runs it natively)
    channels_last: bool = False
    init_from: Path | None = None  # an exported folder to continue from when run_dir has no checkpoint
    minutes: float | None = None  # a time budget: stop cleanly (checkpoint, export) after it
    # --lr-schedule, --lr-decay-start, --lr-decay-end (keys of zoo.training.schedule.LRSchedule.from_settings);
    # they override the recipe's own keys of the same names
    lr_schedule: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainerJob:
    """What an architecture's trainer component (``Trainer.from_job``) gets: the validated builder ``config``,
    the recipe's ``settings`` with the --set overrides, and the run's data, length, seed, folder and machine."""

    arch: Architecture
    config: dict[str, Any]
    settings: dict[str, Any]
    data: Path
    dataset: str | None
    steps: int
    seed: int
    run_dir: Path
    device: str
    precision: str  # resolved: "fp32" or "bf16"
    channels_last: bool
    init_from: Path | None
    minutes: float | None
    rank: int = 0
    world: int = 1


def machine_description() -> str:
    """CPU model, core count and torch version (or the GPU), for cards and benchmarks."""
    from ..machine import describe

    return describe()


def get_architecture(name: str) -> Architecture:
    from ..plugins import get_host

    host = get_host()
    key = name.strip().lower().split(".", 1)[0]
    arch = host.registry.architectures.get(key)
    if arch is None:
        raise host.registry.unknown(name)
    return arch


def dataset_config(arch: Architecture, data: ImageData, given: Mapping[str, Any]) -> dict[str, Any]:
    """The config for ``data``: channels from the data; 32 px for convolutional nets, the data's
    size (28 for MNIST) for MLPs, unless the user chose a size."""
    cfg = dict(given)
    c, h, _ = data.shape
    for key in ("nc", "channels", "img_channels"):
        if key in arch.schema and key not in cfg:
            cfg[key] = c
    for key in ("image_size", "img_size"):
        if key in arch.schema and key not in cfg:
            # convolutional nets (default 32 or 64 px) get 32 px; others (the MLPs) the data's own size
            cfg[key] = 32 if arch.schema[key].default in (32, 64) else h
    return arch.validate_config(cfg)


def check_trainable(arch: Architecture) -> None:
    """`zoo train` runs the architecture's trainer component, or the adversarial trainer for a GAN that names
    a discriminator: the record must name one of them."""
    if "trainer" in arch.components or "discriminator" in arch.components:
        return
    if arch.task == "image-generation":
        fix = ("add components={'discriminator': 'your_package.model:build_discriminator'} to its zoo.Architecture "
               "record (a function taking the same config as the builder and returning a module that maps images "
               "(n, C, H, W) in [-1, 1] to raw scores of shape (n,)), or a trainer component of your own: "
               "components={'trainer': 'your_package.train:MyTrainer'}, a zoo.training.Trainer subclass")
    else:
        fix = (f"its task is {arch.task!r}: add components={{'trainer': 'your_package.train:MyTrainer'}} to its "
               "zoo.Architecture record, a zoo.training.Trainer subclass whose step() does one update and "
               "whose classmethod from_job(job) builds it")
    raise NotTrainableError(
        f"architecture {arch.name!r} (plugin {arch.plugin!r}) names no trainer and no discriminator, so "
        f"`zoo train` has nothing to run. To make it trainable, {fix}. See docs/plugins.md, 'Training'."
    )


def trainer_class(arch: Architecture) -> type | None:
    """The architecture's trainer component (a zoo.training.Trainer subclass), or None for a GAN trained by
    the adversarial trainer (a discriminator component and no trainer of its own)."""
    if "trainer" not in arch.components:
        check_trainable(arch)
        return None
    from ..errors import PluginError
    from ..loading import import_component
    from .engine import Trainer

    cls = import_component(arch, "trainer")
    if not (isinstance(cls, type) and issubclass(cls, Trainer)):
        raise PluginError(arch.plugin or "?", f"the trainer component {arch.components['trainer']!r} of "
                                              f"{arch.name!r} is not a zoo.training.Trainer subclass")
    return cls


def build_pair(arch: Architecture, cfg: Mapping[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
    from ..loading import import_builder, import_component

    check_trainable(arch)
    G = import_builder(arch)(**cfg)
    D = import_component(arch, "discriminator")(**cfg)
    return G, D


def generator_image_size(G: torch.nn.Module) -> int:
    size = getattr(G, "image_size", None)
    if size is None:
        raise ConfigError("the generator has no image_size attribute; the trainer needs it to size the data")
    return int(size)


def read_init_state(folder: Path, arch: Architecture, cfg: Mapping[str, Any]) -> InitState:
    """The weights and step of an exported folder (`zoo train`'s --out, e.g. a card in cards/), to continue
    training from: model.safetensors is the published generator; training_state.safetensors, when the
    folder has it, holds the raw generator and the discriminator (the published one may be an EMA)."""
    from safetensors.torch import load_file

    folder = Path(folder)
    model, config_file = folder / "model.safetensors", folder / "config.json"
    if not model.is_file() or not config_file.is_file():
        raise ConfigError(f"--init-from {folder}: no model.safetensors and config.json there; pass a folder "
                          "written by `zoo train` (or a card folder in cards/)")
    meta = json.loads(config_file.read_text())
    if meta.get("architecture") != arch.name:
        raise ConfigError(f"--init-from {folder} holds a {meta.get('architecture')!r} model, not {arch.name!r}")
    if dict(meta.get("config", {})) != dict(cfg):
        raise ConfigError(f"--init-from {folder}: its config {meta.get('config')} differs from this run's {dict(cfg)}; "
                          "pass the same --set/--config values")
    published = load_file(str(model))
    raw, disc = published, None
    state_file = folder / TRAINING_STATE_FILE
    if state_file.is_file():
        state = load_file(str(state_file))
        raw = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")} or published
        disc = {k.removeprefix("discriminator."): v for k, v in state.items() if k.startswith("discriminator.")} or None
    ema = published if raw is not published else None
    step = int(meta.get("training", {}).get("steps", 0) or 0)
    return InitState(generator=raw, discriminator=disc, generator_ema=ema, step=step, source=str(folder))


def logged_wall_time(log: Path) -> float:
    """Seconds of training in a run's log.jsonl: each process's ``time_s`` counts from its own start, so the
    log is cut where it falls back, and the last value of each stretch is summed."""
    total, last = 0.0, 0.0
    if not log.is_file():
        return 0.0
    for line in log.read_text().splitlines():
        try:
            t = float(json.loads(line).get("time_s", 0.0))
        except (ValueError, AttributeError):
            continue
        if t < last:
            total += last
        last = t
    return total + last


def record_wall_time(run_dir: Path, steps: int, base: float = 0.0) -> float:
    """The training time of ``run_dir`` (every stretch of its log, stopped ones included) plus ``base`` (the
    time of a folder the run continued from), kept in run_dir/wall_time.json for the card."""
    total = logged_wall_time(run_dir / "log.jsonl") + base
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "wall_time.json").write_text(json.dumps({"wall_time_s": total, "steps": steps}))
    return total


def last_logged(log: Path) -> dict[str, Any]:
    """The last record of a run's log.jsonl ({} when there is none yet)."""
    lines = log.read_text().splitlines() if log.is_file() else []
    return json.loads(lines[-1]) if lines else {}


def export_folder(run_dir: Path, step: int) -> Path:
    """Where --export-every puts the folder of ``step``."""
    return Path(run_dir) / "exports" / f"step_{step:07d}"


def run_training(job: TrainJob) -> dict[str, Any]:
    """Train ``job.arch`` on ``job.dataset`` and write the Hub-repo folder ``job.out`` (rank 0).

    Returns a summary (config, recipe, steps, wall time, files).
    """
    if job.threads:
        torch.set_num_threads(job.threads)
    rank, world = init_distributed(job.device)
    arch = get_architecture(job.arch)
    check_trainable(arch)  # before the data is read
    component = trainer_class(arch)
    if component is not None:
        return run_component(job, arch, component, rank, world)
    if not job.dataset:
        raise ConfigError(f"training the GAN {arch.name!r} needs --dataset (one of mnist, fashion-mnist, cifar10)")
    root = resolve_data_dir(job.data, job.dataset)
    train = load_dataset(job.dataset, root, "train")
    cfg = dataset_config(arch, train, job.config)
    recipe: Recipe = architecture_recipe(arch, job.recipe_name, **{**job.recipe_overrides, **job.lr_schedule})
    schedule = LRSchedule.from_settings(recipe.to_dict(), job.steps)
    if schedule is not None:  # the card's recipe table gives the step where the rate reaches zero
        recipe = dataclasses.replace(recipe, lr_decay_start=schedule.start, lr_decay_end=schedule.end)
    torch.manual_seed(job.seed)
    G, D = build_pair(arch, cfg)
    size = generator_image_size(G)
    train = train.resized(size)
    run_dir = job.run_dir or Path("runs") / Path(job.out).name
    loop_cfg = LoopConfig(
        steps=job.steps,
        seed=job.seed,
        run_dir=run_dir,
        sample_every=job.sample_every,
        checkpoint_every=job.checkpoint_every,
        export_every=job.export_every,
        progress=job.progress,
        device=job.device,
        precision=resolve_precision(job.precision, job.device),
        channels_last=job.channels_last,
        minutes=job.minutes,
        lr_schedule=schedule,
    )
    init = read_init_state(job.init_from, arch, cfg) if job.init_from else None
    resumed = (run_dir / "checkpoint.pt").exists()
    base_file = run_dir / "continued_from.json"
    if init is not None and not resumed and rank == 0:
        # written before the first step, so that a run stopped by hand and resumed later still knows
        prev = json.loads((Path(init.source) / "config.json").read_text()).get("training", {})
        history = list(prev.get("continued_from", [])) + [{
            "folder": init.source, "steps": init.step, "discriminator": init.discriminator is not None,
            "wall_time_s": float(prev.get("wall_time_s", 0.0) or 0.0), "command": prev.get("command", ""),
        }]
        run_dir.mkdir(parents=True, exist_ok=True)
        base_file.write_text(json.dumps(history))
    t0 = time.perf_counter()

    def make_summary(steps: int, total_wall: float, final_losses: dict[str, Any],
                     continued: dict[str, Any]) -> dict[str, Any]:
        return {
            "architecture": arch.name,
            "config": cfg,
            "recipe_name": job.recipe_name or arch.default_recipe,
            "recipe": recipe.to_dict(),
            "dataset": job.dataset,
            "dataset_files": train.files,
            "dataset_note": train.note,
            "image_size": size,
            "steps": steps,  # where --minutes stopped it, else --steps
            "lr_schedule": schedule.to_dict() if schedule is not None else {"lr_schedule": "constant"},
            "seed": job.seed,
            "world_size": world,
            "global_batch": recipe.batch_size * world,
            "wall_time_s": round(total_wall, 1),
            "precision": loop_cfg.precision,
            "channels_last": loop_cfg.channels_last,
            "machine": machine_description(),
            "command": job.command,
            "final_losses": final_losses,
            **({"ema_batch_norm": f"the EMA generator's batch-norm statistics recomputed over 50 batches of "
                                  f"{recipe.batch_size} of its own samples (seed 0)"}
               if recipe.ema is not None and batch_norms(G) else {}),
            **continued,
        }

    def history_so_far() -> tuple[dict[str, Any], float]:
        history = json.loads(base_file.read_text()) if base_file.exists() else []
        return ({"continued_from": history} if history else {},
                float(history[-1].get("wall_time_s", 0.0)) if history else 0.0)

    def export_point(step: int, g: nn.Module, g_ema: nn.Module | None) -> None:
        """--export-every: the folder the run would export if it stopped at ``step``."""
        from .export import write_hub_folder

        continued, base = history_so_far()
        log = run_dir / "log.jsonl"
        published = ema_for_export(g_ema, recipe.batch_size) if g_ema is not None else g
        write_hub_folder(published, export_folder(run_dir, step),
                         make_summary(step, logged_wall_time(log) + base, last_logged(log), continued),
                         training_state={"generator": g, "discriminator": D})

    result: TrainResult = train_gan(G, D, train.images, recipe, loop_cfg, init=init,
                                    on_export=export_point if job.export_every else None)
    wall = time.perf_counter() - t0
    continued: dict[str, Any] = {}
    total_wall = wall
    if rank == 0:
        continued, base = history_so_far()
        total_wall = record_wall_time(run_dir, result.step, base)
    summary = make_summary(result.step, total_wall, result.history[-1] if result.history else {}, continued)
    if rank == 0:
        from .export import write_hub_folder

        published = ema_for_export(result.G_ema, recipe.batch_size) if result.G_ema is not None else G
        write_hub_folder(published, Path(job.out), summary, training_state={"generator": G, "discriminator": D})
    if world > 1:
        torch.distributed.barrier()
    return summary


def job_settings(arch: Architecture, job: TrainJob) -> dict[str, Any]:
    """The recipe's settings (named, or the architecture's default) with the job's --set overrides."""
    name = job.recipe_name or arch.default_recipe or None
    if name is not None and name not in arch.recipes:
        from .recipes import describe_recipes

        raise ConfigError(f"architecture {arch.name!r} has no recipe {name!r}; its recipes: {describe_recipes(arch)}")
    return {**(dict(arch.recipes[name]) if name else {}), **job.recipe_overrides}


def run_component(job: TrainJob, arch: Architecture, component: type, rank: int, world: int) -> dict[str, Any]:
    """Train with the architecture's own trainer component through the host's loop, and export (rank 0)."""
    from .engine import run_loop

    cfg = arch.validate_config(job.config)
    run_dir = job.run_dir or Path("runs") / Path(job.out).name
    precision = resolve_precision(job.precision, job.device)
    settings = job_settings(arch, job)
    schedule = LRSchedule.from_settings({**settings, **job.lr_schedule}, job.steps)
    spec = TrainerJob(arch=arch, config=cfg, settings=settings, data=Path(job.data), dataset=job.dataset,
                      steps=job.steps, seed=job.seed, run_dir=Path(run_dir), device=job.device, precision=precision,
                      channels_last=job.channels_last, init_from=job.init_from, minutes=job.minutes,
                      rank=rank, world=world)
    torch.manual_seed(job.seed)
    trainer = component.from_job(spec)
    loop_cfg = LoopConfig(steps=job.steps, seed=job.seed, run_dir=Path(run_dir), sample_every=job.sample_every,
                          checkpoint_every=job.checkpoint_every, export_every=job.export_every,
                          progress=job.progress, device=job.device, precision=precision,
                          channels_last=job.channels_last, minutes=job.minutes,
                          lr_schedule=schedule)

    def make_summary(steps: int, total_wall: float, final_losses: dict[str, Any]) -> dict[str, Any]:
        return {
            "architecture": arch.name,
            "config": cfg,
            "trainer": arch.components["trainer"],
            "recipe_name": job.recipe_name or arch.default_recipe,
            "recipe": settings,
            "dataset": job.dataset or str(job.data),
            "steps": steps,
            **({"lr_schedule": schedule.to_dict()} if schedule is not None else {}),
            "seed": job.seed,
            "world_size": world,
            "wall_time_s": round(total_wall, 1),
            "precision": precision,
            "channels_last": job.channels_last,
            "machine": machine_description(),
            "command": job.command,
            "final_losses": final_losses,
            **({"continued_from": str(job.init_from)} if job.init_from else {}),
        }

    def export_point(step: int) -> None:
        """--export-every: the folder the run would export if it stopped at ``step``."""
        log = Path(run_dir) / "log.jsonl"
        trainer.export(export_folder(Path(run_dir), step), make_summary(step, logged_wall_time(log), last_logged(log)))

    t0 = time.perf_counter()
    result = run_loop(trainer, loop_cfg, start_step=int(getattr(trainer, "start_step", 0)),
                      on_export=export_point if job.export_every else None)
    wall = time.perf_counter() - t0
    total_wall = record_wall_time(Path(run_dir), result.step) if rank == 0 else wall
    summary = make_summary(result.step, total_wall, result.history[-1] if result.history else {})
    if rank == 0:
        trainer.export(Path(job.out), summary)
    if world > 1:
        torch.distributed.barrier()
    return summary
