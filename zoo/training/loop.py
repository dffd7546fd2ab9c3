"""The adversarial step of the zoo's GANs, run by the host's one training mechanism (zoo.training.engine).

Every GAN recipe is the same step: ``n_critic`` discriminator (critic) updates,
each on a fresh real batch and a batch of generated images, then one generator
update on the last generated batch (as pytorch/examples dcgan and the
reference WGAN code do). The recipe's loss supplies the two objectives; weight
clipping and the gradient penalty are switched on by the recipe.

Exact resumption: the data order and every random draw of the step (latents,
gradient-penalty interpolation weights) are pure functions of (seed, rank,
step), so a checkpoint needs only the models, the optimisers, the step and the
global RNG state; training 2N steps at once or N + N with a resume gives the
same weights bit for bit (same machine and thread count). The engine
(:func:`zoo.training.engine.run_loop`) writes and reads the checkpoint, logs,
shows progress and samples; :class:`AdversarialTrainer` is the GAN's part.

Data parallel: under ``torchrun`` (``WORLD_SIZE`` > 1) both networks are
wrapped in DistributedDataParallel (gloo on CPU, nccl on CUDA); each rank draws
its share of every global batch, so the global batch is ``batch_size`` x world.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .engine import (LoopConfig, Progress, StepContext, Trainer, TrainResult, atomic_save, dist_info,
                     init_distributed, mix, run_loop)
from .losses import get_loss, gradient_penalty
from .recipes import Recipe

_mix = mix  # the old private name
_atomic_save = atomic_save

__all__ = ["AdversarialTrainer", "BatchStream", "EMA", "InitState", "LoopConfig", "Progress", "TrainResult",
           "dist_info", "init_distributed", "make_optimizer", "train_gan"]


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


def batch_norms(module: nn.Module) -> list[nn.Module]:
    """The batch-norm layers of ``module`` (any dimension)."""
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recompute_batch_norm(G: nn.Module, batches: int = 50, batch_size: int = 128, seed: int = 0) -> bool:
    """Set the batch-norm statistics of generator ``G`` (in place) to those of its own activations over
    ``batches`` batches of latents (seed ``seed``), a cumulative average as torch.optim.swa_utils.update_bn
    makes for averaged weights. An EMA generator's weights are an average over steps, and the raw
    generator's statistics, which it carries during training, do not fit them: at 4,000 DCGAN steps on
    CIFAR-10 the EMA scored FID 106.0 with the raw statistics, 88.4 with its own, the raw generator 90.6
    (2,000 samples vs test; docs/training.md). Returns whether ``G`` has batch norms at all."""
    bns = batch_norms(G)
    if not bns:
        return False
    was_training, momenta = G.training, [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    G.train()
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    try:
        for _ in range(batches):
            G(_latent(G, batch_size, gen).to(device))
    finally:
        for m, momentum in zip(bns, momenta):
            m.momentum = momentum
        G.train(was_training)
    return True


def ema_for_export(ema_model: nn.Module, batch_size: int) -> nn.Module:
    """A copy of the EMA generator with its own batch-norm statistics (:func:`recompute_batch_norm`): what
    the export publishes and the sample grids show. The EMA kept for training is left as it is."""
    import copy

    out = copy.deepcopy(ema_model)
    recompute_batch_norm(out, batch_size=batch_size)
    return out.eval()


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


class AdversarialTrainer(Trainer):
    """The GAN's step: ``n_critic`` discriminator updates, then one generator update (see the module's text).

    Checkpoint keys (unchanged from the loop this replaced, so older run folders resume): G, D, G_ema (when
    the recipe has ema), opt_g, opt_d, recipe.
    """

    task = "image-generation"

    def __init__(self, G: nn.Module, D: nn.Module, images: torch.Tensor, recipe: Recipe, cfg: LoopConfig,
                 init: InitState | None = None):
        self.G, self.D, self.images, self.recipe, self.cfg = G, D, images, recipe, cfg
        self.loss = get_loss(recipe.loss)
        if self.loss.kind != "adversarial":
            from ..errors import ConfigError

            raise ConfigError(f"the {self.loss.name} loss is a {self.loss.kind} loss; a GAN recipe needs an "
                              "adversarial loss (a d/g pair; `zoo plugins` lists the registered losses)")
        device = torch.device(cfg.device)
        G.to(device).train()
        D.to(device).train()
        if cfg.channels_last:
            G.to(memory_format=torch.channels_last)
            D.to(memory_format=torch.channels_last)
        self.opt_g = make_optimizer(G.parameters(), recipe, recipe.lr_g)
        self.opt_d = make_optimizer(D.parameters(), recipe, recipe.lr_d)
        self.ema = EMA(G, recipe.ema) if recipe.ema is not None else None
        self.start = 0
        # steps before which the generator is not updated: a fresh critic learns first (recipe critic_warmup)
        self.warmup_until = -1
        if init is not None:
            if init.discriminator is None and recipe.critic_warmup:
                self.warmup_until = int(init.step) + recipe.critic_warmup
            G.load_state_dict(init.generator)
            if init.discriminator is not None:
                D.load_state_dict(init.discriminator)
            if self.ema is not None:
                self.ema.model.load_state_dict(init.generator_ema if init.generator_ema is not None else init.generator)
            self.start = int(init.step)
        self.g_run: nn.Module = G
        self.d_run: nn.Module = D
        self.fixed_z = _latent(G, cfg.n_samples, torch.Generator().manual_seed(cfg.seed)).to(device)

    def modules(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D, **({"G_ema": self.ema.model} if self.ema is not None else {})}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "recipe": self.recipe.to_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None:
            self.ema.model.load_state_dict(state["G_ema"] if "G_ema" in state else state["G"])

    def setup(self, ctx: StepContext) -> None:
        self.g_run = ctx.distributed(self.G)
        self.d_run = ctx.distributed(self.D)
        self.stream = BatchStream(self.images, self.recipe.batch_size, ctx.seed, ctx.rank, ctx.world)

    def step(self, ctx: StepContext) -> dict[str, torch.Tensor]:
        recipe, loss, G, D = self.recipe, self.loss, self.G, self.D
        step, device = ctx.step, ctx.device
        gen = ctx.generator(2)
        for k in range(recipe.n_critic):
            real = ctx.layout(self.stream.batch(step * recipe.n_critic + k, device))
            z = _latent(G, real.shape[0], gen).to(device)
            last = k == recipe.n_critic - 1
            with ctx.autocast():
                with torch.set_grad_enabled(last):
                    fake = self.g_run(z)
                d_real = self.d_run(real).float()
                d_fake = self.d_run(fake.detach()).float()
                loss_d = loss.d(d_real, d_fake)
                gp = None
                if loss.gradient_penalty:
                    gp = gradient_penalty(self.d_run, real, fake, gen)
                    loss_d = loss_d + recipe.gp_lambda * gp
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            if recipe.clip is not None:
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-recipe.clip, recipe.clip)
        # generator update on the last generated batch (none while a fresh critic warms up)
        if step < self.warmup_until:
            with torch.no_grad(), ctx.autocast():
                loss_g = loss.g(self.d_run(fake).float())
        else:
            if not ctx.ddp:
                D.requires_grad_(False)
            with ctx.autocast():
                loss_g = loss.g(self.d_run(fake).float())
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
            if self.ema is not None:
                self.ema.update(G)
            if not ctx.ddp:
                D.requires_grad_(True)
        out = {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}
        if gp is not None:
            out["gp"] = gp.detach()
        if loss.name.startswith("wasserstein"):
            out["w_estimate"] = (d_real.mean() - d_fake.mean()).detach()
        return out

    def sample_images(self, ctx: StepContext) -> torch.Tensor:
        shown = ema_for_export(self.ema.model, self.recipe.batch_size) if self.ema is not None else self.G
        shown.eval()
        with torch.no_grad():
            x = shown(self.fixed_z)
        self.G.train()
        return x.add(1).mul(0.5).clamp(0, 1)

    def published(self) -> nn.Module:
        return ema_for_export(self.ema.model, self.recipe.batch_size) if self.ema is not None else self.G


def train_gan(
    G: nn.Module,
    D: nn.Module,
    images: torch.Tensor,
    recipe: Recipe,
    cfg: LoopConfig,
    *,
    on_sample: Callable[[int, Path], None] | None = None,
    init: InitState | None = None,
    on_export: Callable[[int, nn.Module, nn.Module | None], None] | None = None,
) -> TrainResult:
    """Train ``G`` against ``D`` on uint8 ``images`` (N, C, H, W) by ``recipe`` for ``cfg.steps`` steps.

    ``G`` and ``D`` are trained in place (unwrapped modules: DDP is applied
    here when a process group is initialised). Returns the losses logged.
    ``init`` gives the starting weights and step when ``cfg.run_dir`` has no checkpoint (a run
    continued from an exported folder); a checkpoint, when there is one, wins.
    ``on_export(step, G, G_ema or None)`` runs every ``cfg.export_every`` steps (rank 0).
    """
    trainer = AdversarialTrainer(G, D, images, recipe, cfg, init)
    export = None if on_export is None else \
        (lambda step: on_export(step, G, trainer.ema.model if trainer.ema is not None else None))
    result = run_loop(trainer, cfg, start_step=trainer.start, on_sample=on_sample, on_export=export,
                      progress_names={"loss_d": "D", "loss_g": "G"})
    G.eval()
    result.G_ema = trainer.ema.model if trainer.ema is not None else None
    return result
