"""The zoo's one training mechanism: a task's :class:`Trainer` does one update; :func:`run_loop` does the rest.

An architecture brings its trainer as a component (``components={"trainer": "pkg.mod:MyTrainer"}`` in its
Architecture record); a GAN with a discriminator component gets the host's adversarial trainer
(:mod:`zoo.training.adversarial`). The loop owns what every task shares:

- checkpoint and resume: ``run_dir/checkpoint.pt`` holds every module and optimiser of the trainer
  (``Trainer.state_dict``), the step, the seed and torch's global RNG. The loop hands each step a
  :class:`StepContext` whose random sources are pure functions of (seed, rank, step), so training 2N
  steps at once or N + N with a resume gives the same weights bit for bit (same machine, threads);
- progress (a one-line bar with the losses and the ETA), ``log.jsonl`` (the losses every ``log_every``
  steps), sample grids (``Trainer.sample_images``) and a stop on a non-finite loss;
- precision: ``ctx.autocast()`` is bf16 autocast when ``precision="bf16"`` (weights and optimisers stay
  float32), ``ctx.layout(x)`` the channels_last layout when asked for;
- data parallel under torchrun: ``ctx.distributed(module)`` wraps a module in DistributedDataParallel
  (gloo on CPU, nccl on CUDA); each rank draws its own share of a global batch from ``ctx.rank``;
- a time budget (``minutes``), checked after each step.

Export (a Hub-repo folder whose card the card writer writes) is the trainer's ``export`` method, called by
:func:`zoo.training.run.run_training` on rank 0 after the loop.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..images import save_grid
from .schedule import LRSchedule, apply_lr_schedule

_MIX = 0x9E3779B97F4A7C15


def mix(*values: int) -> int:
    """A 63-bit seed from integers (splitmix-style), so seeds of nearby steps are unrelated."""
    h = 0
    for v in values:
        h = (h ^ (int(v) + _MIX + (h << 6) + (h >> 2))) & 0xFFFFFFFFFFFFFFFF
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h & 0x7FFFFFFFFFFFFFFF


@dataclass
class LoopConfig:
    """How long and how observably to train (the trainer says how)."""

    steps: int  # updates (for a GAN: generator updates)
    seed: int = 0
    run_dir: Path | None = None  # checkpoints, log.jsonl, samples/; None: keep nothing
    sample_every: int = 500  # write a sample grid every N steps (0: never, except at the end)
    checkpoint_every: int = 500  # 0: only at the end
    export_every: int = 0  # call run_loop's on_export every N steps (zoo train: a Hub-repo folder per point)
    log_every: int = 10
    n_samples: int = 64  # images in a grid
    resume: bool = True  # continue from run_dir/checkpoint.pt when it exists
    progress: bool = True
    device: str = "cpu"
    # "bf16": autocast the forward passes (convolutions, linear layers) to bfloat16; the
    # optimiser, the weights and the gradient-penalty norm stay float32. "fp32": none.
    precision: str = "fp32"
    channels_last: bool = False  # NHWC tensors for the convolutions (oneDNN's preferred layout)
    minutes: float | None = None  # stop cleanly (with a checkpoint) after this much wall time
    lr_schedule: LRSchedule | None = None  # the learning rate against steps (None: the optimisers' own)

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")


@dataclass
class TrainResult:
    step: int
    wall_time_s: float  # time spent in this call
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int = 0
    G_ema: nn.Module | None = None  # the averaged generator when a GAN recipe has ema


def dist_info() -> tuple[int, int]:
    """(rank, world size) of this process; (0, 1) outside torchrun."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def init_distributed(device: str = "cpu") -> tuple[int, int]:
    """Join the process group when started by torchrun; (rank, world)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return dist_info()


def finish_distributed() -> None:
    """Leave the process group cleanly (after the last collective): the DDP wrappers a run made are collected
    first, so that no reducer outlives its process group at interpreter exit (which aborts the process with
    "terminate called without an active exception"), then a barrier and the group destroyed."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        import gc

        gc.collect()
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


class StepContext:
    """What the loop gives a trainer: device, precision, layout, distribution and per-step randomness."""

    def __init__(self, cfg: LoopConfig, rank: int, world: int):
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.rank, self.world = rank, world
        self.seed = cfg.seed
        self.step = 0

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """bf16 autocast when the run's precision is bf16, else nothing."""
        if self.cfg.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @property
    def channels_last(self) -> bool:
        return self.cfg.channels_last

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in channels_last when the run asks for it (4-d tensors only)."""
        if self.cfg.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def prepare(self, module: nn.Module) -> nn.Module:
        """Move ``module`` to the device, and to channels_last when asked for."""
        module.to(self.device)
        if self.cfg.channels_last:
            module.to(memory_format=torch.channels_last)
        return module

    @property
    def ddp(self) -> bool:
        return self.world > 1

    def distributed(self, module: nn.Module) -> nn.Module:
        """``module`` wrapped in DistributedDataParallel under torchrun; itself otherwise."""
        return nn.parallel.DistributedDataParallel(module) if self.world > 1 else module

    def generator(self, stream: int = 2) -> torch.Generator:
        """A torch generator seeded by (seed, stream, rank, step): this step's latents, noise, crops."""
        return torch.Generator().manual_seed(mix(self.seed, stream, self.rank, self.step))

    def random(self, stream: int = 3) -> random.Random:
        """A Python random.Random seeded by (seed, stream, rank, step)."""
        return random.Random(mix(self.seed, stream, self.rank, self.step))


class Trainer:
    """A task's training step, run by :func:`run_loop`. Subclass it and implement :meth:`step`.

    ``modules`` and ``optimizers`` name what a checkpoint holds (override :meth:`state_dict` and
    :meth:`load_state_dict` for more). :meth:`setup` runs once after the state is loaded (wrap modules for
    DDP there with ``ctx.distributed``). :meth:`step` does one update and returns its losses (tensors or
    floats; the loop logs them and stops on a non-finite one). :meth:`sample_images` returns a batch in
    [0, 1] for the run's sample grids, or None. :meth:`published` is the module that the export writes.
    """

    #: the settings this trainer reads (a dataclass), for ``zoo train --set`` and ``zoo info``
    Settings: ClassVar[type | None] = None
    #: the task this trainer trains, e.g. "image-generation", "style-transfer"
    task: ClassVar[str] = ""
    #: True when the trainer sets its optimisers' learning rates itself at every step (its own decay): the
    #: loop then refuses a run-level :class:`LRSchedule` rather than have the two fight
    owns_learning_rate: ClassVar[bool] = False

    @classmethod
    def from_job(cls, job: Any) -> Trainer:
        """The trainer of a `zoo train` run: ``job`` is a :class:`zoo.training.run.TrainerJob` (the validated
        builder config, the recipe's settings with the --set overrides, the data folder, steps, seed, run
        folder, device, precision, --init-from). An architecture's ``trainer`` component names this class."""
        raise NotImplementedError(f"{cls.__name__} must implement the classmethod from_job(job)")

    @classmethod
    def setting_names(cls) -> list[str]:
        """The settings `zoo train --set KEY=VALUE` routes to this trainer (default: the Settings dataclass's fields)."""
        import dataclasses

        return sorted(f.name for f in dataclasses.fields(cls.Settings)) if cls.Settings is not None else []

    def modules(self) -> dict[str, nn.Module]:
        return {}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: m.state_dict() for k, m in self.modules().items()}
        out.update({k: o.state_dict() for k, o in self.optimizers().items()})
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for k, m in self.modules().items():
            m.load_state_dict(state[k])
        for k, o in self.optimizers().items():
            o.load_state_dict(state[k])

    def setup(self, ctx: StepContext) -> None:  # noqa: B027 (optional hook)
        """Called once before the first step of this call (after any checkpoint is loaded)."""

    def step(self, ctx: StepContext) -> Mapping[str, torch.Tensor | float]:
        raise NotImplementedError(f"{type(self).__name__} must implement step(ctx)")

    def sample_images(self, ctx: StepContext) -> torch.Tensor | None:
        return None

    def on_checkpoint(self, run_dir: Path, step: int) -> None:  # noqa: B027 (optional hook)
        """Called on rank 0 after each checkpoint is written (extra files of the run folder)."""

    def published(self) -> nn.Module:
        raise NotImplementedError(f"{type(self).__name__} must say which module it publishes")

    def export(self, out: Path, summary: dict[str, Any]) -> Path:
        raise NotImplementedError(f"{type(self).__name__} does not export a Hub-repo folder")


class Progress:
    """A one-line progress bar with the current losses and the ETA (tqdm when installed)."""

    def __init__(self, total: int, initial: int, enabled: bool):
        self.bar = None
        self.enabled = enabled
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, file=sys.stderr)
        except ImportError:  # pragma: no cover
            self.t0, self.total, self.done0 = time.perf_counter(), total, initial

    def update(self, step: int, n: int, losses: Mapping[str, float]) -> None:
        if not self.enabled:
            return
        text = " ".join(f"{k}={v:.4g}" for k, v in losses.items())
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix_str(text, refresh=False)
        else:  # pragma: no cover
            rate = (step - self.done0) / max(time.perf_counter() - self.t0, 1e-9)
            eta = (self.total - step) / rate if rate > 0 else float("inf")
            print(f"\rstep {step}/{self.total} {text} ETA {eta:.0f}s", end="", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _float(v: torch.Tensor | float) -> float:
    return float(v.detach()) if isinstance(v, torch.Tensor) else float(v)


def run_loop(
    trainer: Trainer,
    cfg: LoopConfig,
    *,
    start_step: int = 0,
    on_sample: Callable[[int, Path], None] | None = None,
    on_export: Callable[[int], None] | None = None,
    progress_names: Mapping[str, str] | None = None,
) -> TrainResult:
    """Run ``trainer`` for ``cfg.steps`` steps (from a checkpoint in ``cfg.run_dir`` when there is one,
    else from ``start_step``), checkpointing, logging and sampling as ``cfg`` says.

    ``progress_names`` picks and renames the losses shown on the progress bar (default: all of them).
    ``on_export(step)`` runs on rank 0 every ``cfg.export_every`` steps, after that step's checkpoint (the
    final export is the caller's).
    """
    rank, world = dist_info()
    ctx = StepContext(cfg, rank, world)
    schedule = cfg.lr_schedule
    if schedule is not None and trainer.owns_learning_rate:
        from ..errors import ConfigError

        raise ConfigError(f"{type(trainer).__name__} sets its own learning rate at every step; drop --lr-schedule "
                          "(its settings name its decay)")
    run_dir = Path(cfg.run_dir) if cfg.run_dir is not None else None
    ckpt_path = run_dir / "checkpoint.pt" if run_dir else None
    if run_dir and rank == 0:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    start = int(start_step)
    if cfg.resume and ckpt_path is not None and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=ctx.device, weights_only=True)
        if int(state.get("seed", cfg.seed)) != cfg.seed:
            raise ValueError(f"{ckpt_path} was trained with seed {state['seed']}, not {cfg.seed}: use the same seed")
        trainer.load_state_dict(state)
        torch.set_rng_state(state["torch_rng"].cpu())  # map_location moved it to the device
        start = int(state["step"])
    trainer.setup(ctx)
    apply_lr_schedule(trainer.optimizers().values(), schedule, start)

    saved = [-1]

    def checkpoint(step: int) -> None:
        if ckpt_path is None or rank != 0 or saved[0] == step:
            return
        saved[0] = step
        atomic_save({"step": step, "seed": cfg.seed, **trainer.state_dict(), "torch_rng": torch.get_rng_state()},
                    ckpt_path)
        trainer.on_checkpoint(ckpt_path.parent, step)

    def sample_grid(step: int) -> None:
        if run_dir is None or rank != 0:
            return
        ctx.step = step
        x = trainer.sample_images(ctx)
        if x is None:
            return
        path = run_dir / "samples" / f"step_{step:07d}.png"
        save_grid(x.float().clamp(0, 1), path)
        if on_sample is not None:
            on_sample(step, path)

    log_f = open(run_dir / "log.jsonl", "a") if run_dir and rank == 0 else None
    history: list[dict[str, float]] = []
    bar = Progress(cfg.steps, start, cfg.progress and rank == 0)
    t0 = time.perf_counter()
    last_logged = start
    done = start
    try:
        for step in range(start, cfg.steps):
            ctx.step = step
            lr = apply_lr_schedule(trainer.optimizers().values(), schedule, step) if schedule is not None else None
            losses = trainer.step(ctx)
            done = step + 1
            values = {k: _float(v) for k, v in losses.items()}
            if done % cfg.log_every == 0 or done == cfg.steps:
                rec = {"step": done, **values, **({"lr": lr} if lr is not None else {}),
                       "time_s": round(time.perf_counter() - t0, 3)}
                history.append(rec)
                if log_f is not None:
                    log_f.write(json.dumps(rec) + "\n")
                    log_f.flush()
                shown = ({label: values[k] for k, label in progress_names.items() if k in values}
                         if progress_names else values)
                bar.update(done, done - last_logged, shown)
                last_logged = done
            if cfg.sample_every and done % cfg.sample_every == 0:
                sample_grid(done)
            if cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
                checkpoint(done)
            if cfg.export_every and done % cfg.export_every == 0 and on_export is not None and rank == 0 \
                    and done < cfg.steps:
                on_export(done)
            bad = [k for k, v in values.items() if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(
                    f"the {bad[0]} loss became {values[bad[0]]} at step {done}: lower the learning rate "
                    "(--set lr=...) or check the data range"
                )
            if cfg.minutes is not None and time.perf_counter() - t0 > 60 * cfg.minutes:
                break
    finally:
        bar.close()
        if log_f is not None:
            log_f.close()
    if done > start or (ckpt_path is not None and not ckpt_path.exists()):
        if not (cfg.sample_every and done % cfg.sample_every == 0) and done > start:
            sample_grid(done)
        checkpoint(done)
    return TrainResult(done, time.perf_counter() - t0, history, resumed_from=start)
