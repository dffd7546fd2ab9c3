"""The one adversarial training loop of the zoo.

Every GAN recipe is the same loop: ``n_critic`` discriminator (critic) updates,
each on a fresh real batch and a batch of generated images, then one generator
update on the last generated batch (as pytorch/examples dcgan and the
reference WGAN code do). The recipe's loss supplies the two objectives; weight
clipping and the gradient penalty are switched on by the recipe.

Exact resumption: the data order and every random draw of the loop (latents,
gradient-penalty interpolation weights) are pure functions of (seed, rank,
step), so a checkpoint needs only the models, the optimisers, the step and the
global RNG state; training 2N steps at once or N + N with a resume gives the
same weights bit for bit (same machine and thread count).

Data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1) both networks are
wrapped in DistributedDataParallel (gloo on CPU, nccl on CUDA); each rank draws
its share of every global batch, so the global batch is ``batch_size`` x world.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import contextlib

import torch
from torch import nn

from ..images import save_grid
from .losses import get_loss, gradient_penalty
from .recipes import Recipe

_MIX = 0x9E3779B97F4A7C15


def _mix(*values: int) -> int:
    """A 63-bit seed from integers (splitmix-style), so seeds of nearby steps are unrelated."""
    h = 0
    for v in values:
        h = (h ^ (int(v) + _MIX + (h << 6) + (h >> 2))) & 0xFFFFFFFFFFFFFFFF
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h & 0x7FFFFFFFFFFFFFFF


@dataclass
class LoopConfig:
    """How long and how observably to train (the recipe says how)."""

    steps: int  # generator updates
    seed: int = 0
    run_dir: Path | None = None  # checkpoints, log.jsonl, samples/; None: keep nothing
    sample_every: int = 500  # write a sample grid every N steps (0: never, except at the end)
    checkpoint_every: int = 500  # 0: only at the end
    log_every: int = 10
    n_samples: int = 64  # images in a grid
    resume: bool = True  # continue from run_dir/checkpoint.pt when it exists
    progress: bool = True
    device: str = "cpu"
    # "bf16": autocast the forward passes (convolutions, linear layers) to bfloat16; the
    # optimiser, the weights and the gradient-penalty norm stay float32. "fp32": none.
    precision: str = "fp32"
    channels_last: bool = False  # NHWC tensors for the convolutions (oneDNN's preferred layout)

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")


@dataclass
class InitState:
    """Weights a run starts from when its run_dir has no checkpoint: an exported folder's generator
    (and its discriminator and EMA when the folder kept them). The optimisers start afresh; the step
    counter (and so the data order and the latents) continues from ``step``."""

    generator: dict[str, torch.Tensor]
    step: int = 0
    discriminator: dict[str, torch.Tensor] | None = None
    generator_ema: dict[str, torch.Tensor] | None = None
    source: str = ""


@dataclass
class TrainResult:
    step: int
    wall_time_s: float  # time spent in this call
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int = 0
    G_ema: nn.Module | None = None  # the averaged generator when the recipe has ema


class EMA:
    """An exponential moving average of a module's parameters; buffers (batch-norm statistics) are
    copied from the trained module at every update, as is usual for GAN generators."""

    def __init__(self, model: nn.Module, decay: float):
        import copy

        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for avg, p in zip(self.model.parameters(), model.parameters()):
            avg.lerp_(p.detach(), 1.0 - self.decay)
        for avg, b in zip(self.model.buffers(), model.buffers()):
            avg.copy_(b)


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


class BatchStream:
    """Batches of a data tensor in an order fixed by (seed, counter): uint8 images become
    floats in [-1, 1]; float data (e.g. 2D points) is passed through unchanged.

    Each epoch is a fresh permutation seeded by (seed, epoch); the global batch
    ``counter`` takes the next ``batch_size * world`` indices, of which this rank
    takes its slice. Incomplete last batches of an epoch are dropped.
    """

    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.images, self.batch_size, self.seed = images, batch_size, seed
        self.rank, self.world = rank, world
        self.global_batch = batch_size * world
        self.per_epoch = len(images) // self.global_batch
        if self.per_epoch < 1:
            raise ValueError(f"{len(images)} images are fewer than one global batch of {self.global_batch}")
        self._epoch = -1
        self._perm: torch.Tensor | None = None

    def indices(self, counter: int) -> torch.Tensor:
        epoch, pos = divmod(counter, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(_mix(self.seed, 1, epoch))
            self._perm = torch.randperm(len(self.images), generator=g)
            self._epoch = epoch
        assert self._perm is not None
        start = pos * self.global_batch + self.rank * self.batch_size
        return self._perm[start : start + self.batch_size]

    def batch(self, counter: int, device: str | torch.device = "cpu") -> torch.Tensor:
        x = self.images[self.indices(counter)]
        if x.dtype == torch.uint8:
            return x.to(device=device, dtype=torch.float32).div_(127.5).sub_(1.0)
        return x.to(device=device, dtype=torch.float32)


def make_optimizer(params: Any, recipe: Recipe, lr: float) -> torch.optim.Optimizer:
    if recipe.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, betas=recipe.betas)


def _latent(G: nn.Module, n: int, gen: torch.Generator) -> torch.Tensor:
    fn = getattr(G, "latent", None)
    if callable(fn):
        return fn(n, gen)
    return torch.randn(n, G.latent_dim, generator=gen)


def _unwrap(m: nn.Module) -> nn.Module:
    return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m


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

    def update(self, step: int, n: int, losses: dict[str, float]) -> None:
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


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train_gan(
    G: nn.Module,
    D: nn.Module,
    images: torch.Tensor,
    recipe: Recipe,
    cfg: LoopConfig,
    *,
    on_sample: Callable[[int, Path], None] | None = None,
    init: InitState | None = None,
) -> TrainResult:
    """Train ``G`` against ``D`` on uint8 ``images`` (N, C, H, W) by ``recipe`` for ``cfg.steps`` steps.

    ``G`` and ``D`` are trained in place (unwrapped modules: DDP is applied
    here when a process group is initialised). Returns the losses logged.
    ``init`` gives the starting weights and step when ``cfg.run_dir`` has no checkpoint (a run
    continued from an exported folder); a checkpoint, when there is one, wins.
    """
    device = torch.device(cfg.device)
    rank, world = dist_info()
    loss = get_loss(recipe.loss)
    G.to(device).train()
    D.to(device).train()
    layout = torch.channels_last if cfg.channels_last else torch.contiguous_format
    if cfg.channels_last:
        G.to(memory_format=layout)
        D.to(memory_format=layout)

    def mixed() -> contextlib.AbstractContextManager[Any]:
        if cfg.precision == "bf16":
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()
    run_dir = Path(cfg.run_dir) if cfg.run_dir is not None else None
    ckpt_path = run_dir / "checkpoint.pt" if run_dir else None
    if run_dir and rank == 0:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)

    opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
    opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)

    ema = EMA(G, recipe.ema) if recipe.ema is not None else None
    start = 0
    if init is not None and not (cfg.resume and ckpt_path is not None and ckpt_path.exists()):
        G.load_state_dict(init.generator)
        if init.discriminator is not None:
            D.load_state_dict(init.discriminator)
        if ema is not None:
            ema.model.load_state_dict(init.generator_ema if init.generator_ema is not None else init.generator)
        start = int(init.step)
    if cfg.resume and ckpt_path is not None and ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=True)
        G.load_state_dict(state["G"])
        D.load_state_dict(state["D"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        torch.set_rng_state(state["torch_rng"])
        if ema is not None:
            ema.model.load_state_dict(state["G_ema"] if "G_ema" in state else state["G"])
        start = int(state["step"])
        if int(state.get("seed", cfg.seed)) != cfg.seed:
            raise ValueError(f"{ckpt_path} was trained with seed {state['seed']}, not {cfg.seed}: use the same seed")

    ddp = world > 1
    g_run: nn.Module = G
    d_run: nn.Module = D
    if ddp:
        g_run = nn.parallel.DistributedDataParallel(G)
        d_run = nn.parallel.DistributedDataParallel(D)

    stream = BatchStream(images, recipe.batch_size, cfg.seed, rank, world)
    fixed_z = _latent(G, cfg.n_samples, torch.Generator().manual_seed(cfg.seed)).to(device)

    def checkpoint(step: int) -> None:
        if ckpt_path is None or rank != 0:
            return
        _atomic_save(
            {
                "step": step,
                "seed": cfg.seed,
                "G": G.state_dict(),
                "D": D.state_dict(),
                **({"G_ema": ema.model.state_dict()} if ema is not None else {}),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "recipe": recipe.to_dict(),
            },
            ckpt_path,
        )

    def sample_grid(step: int) -> None:
        if run_dir is None or rank != 0:
            return
        shown = ema.model if ema is not None else G
        shown.eval()
        with torch.no_grad():
            x = shown(fixed_z)
        G.train()
        path = run_dir / "samples" / f"step_{step:07d}.png"
        save_grid(x.add(1).mul(0.5).clamp(0, 1), path)
        if on_sample is not None:
            on_sample(step, path)

    log_f = open(run_dir / "log.jsonl", "a") if run_dir and rank == 0 else None
    history: list[dict[str, float]] = []
    bar = Progress(cfg.steps, start, cfg.progress and rank == 0)
    t0 = time.perf_counter()
    last_logged = start
    try:
        for step in range(start, cfg.steps):
            gen = torch.Generator().manual_seed(_mix(cfg.seed, 2, rank, step))
            for k in range(recipe.n_critic):
                real = stream.batch(step * recipe.n_critic + k, device)
                if cfg.channels_last and real.dim() == 4:
                    real = real.contiguous(memory_format=layout)
                z = _latent(G, real.shape[0], gen).to(device)
                last = k == recipe.n_critic - 1
                with mixed():
                    with torch.set_grad_enabled(last):
                        fake = g_run(z)
                    d_real = d_run(real).float()
                    d_fake = d_run(fake.detach()).float()
                    loss_d = loss.d(d_real, d_fake)
                    gp = None
                    if loss.gradient_penalty:
                        gp = gradient_penalty(d_run, real, fake, gen)
                        loss_d = loss_d + recipe.gp_lambda * gp
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                if recipe.clip is not None:
                    with torch.no_grad():
                        for p in D.parameters():
                            p.clamp_(-recipe.clip, recipe.clip)
            # generator update on the last generated batch
            if not ddp:
                D.requires_grad_(False)
            with mixed():
                loss_g = loss.g(d_run(fake).float())
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema is not None:
                ema.update(G)
            if not ddp:
                D.requires_grad_(True)

            done = step + 1
            if done % cfg.log_every == 0 or done == cfg.steps:
                rec = {"step": done, "loss_d": float(loss_d.detach()), "loss_g": float(loss_g.detach())}
                if gp is not None:
                    rec["gp"] = float(gp.detach())
                if loss.name.startswith("wasserstein"):
                    rec["w_estimate"] = float((d_real.mean() - d_fake.mean()).detach())
                rec["time_s"] = round(time.perf_counter() - t0, 3)
                history.append(rec)
                if log_f is not None:
                    log_f.write(json.dumps(rec) + "\n")
                    log_f.flush()
                bar.update(done, done - last_logged, {"D": rec["loss_d"], "G": rec["loss_g"]})
                last_logged = done
            if cfg.sample_every and done % cfg.sample_every == 0:
                sample_grid(done)
            if cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
                checkpoint(done)
            if not math.isfinite(float(loss_d.detach())):
                raise FloatingPointError(
                    f"the discriminator loss became {float(loss_d)} at step {done}: lower the learning rate "
                    "or check the data range"
                )
    finally:
        bar.close()
        if log_f is not None:
            log_f.close()
    if cfg.steps > start:
        if not (cfg.sample_every and cfg.steps % cfg.sample_every == 0):
            sample_grid(cfg.steps)
        checkpoint(cfg.steps)
    G.eval()
    return TrainResult(cfg.steps, time.perf_counter() - t0, history, resumed_from=start,
                       G_ema=ema.model if ema is not None else None)
