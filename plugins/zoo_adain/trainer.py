"""AdaIN's trainer component: the decoder's perceptual step, run by the zoo's one training mechanism.

``zoo train adain --data DIR --out OUT`` builds :class:`AdaINTrainer` (the Architecture record's
``components={"trainer": "zoo_adain.trainer:AdaINTrainer"}``) and runs it with
:func:`zoo.training.run_loop`, which checkpoints and resumes (bit-identical: each step's crops are drawn
from a generator seeded by (seed, rank, step)), logs, shows progress, autocasts to bf16, keeps channels_last
and wraps the decoder for DDP under torchrun. The losses come through the zoo's loss hook: the recipe's
``losses`` maps the roles ``content`` and ``style`` to registered loss names (``adain-content``,
``adain-style`` by default; the zoo_adain plugin registers them, another plugin may register others).

The helpers live in :mod:`zoo_adain.train`; this module is the step and its bookkeeping. The exported
``model.safetensors`` is the contract (the format of ``cards/zoo/adain-*``), so a run may start from a
published card (``--init-from`` or ``--set init_decoder=.../model.safetensors``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import ConfigError
from zoo.training.engine import StepContext, Trainer

from . import parts as T
from .average import keep_decoder
from .teacher import load_teacher, teacher_outputs
from .runs import model_config

# the loop's own settings: LoopConfig (and `zoo train`'s options) carries them, not the trainer's settings
_LOOP_KEYS = {"out", "steps", "minutes", "threads", "seed", "log_every", "save_every", "bf16", "channels_last"}
# settings that the builder config decides (the model's encoder and decoder shape)
_CONFIG_KEYS = {"decoder_width", "depth"}
# keys of a registered recipe that document the paper's run (read by nobody)
_DOC_KEYS = {"source", "optimizer", "content_layer", "style_layers", "max_iter", "train", "lr_g", "lr_d"}
_SYNONYMS = {"image_size": "resize", "lr_decay": "lr_decay", "encoder_init": "encoder", "batch": "batch_size"}
DEFAULT_LOSSES = {"content": "adain-content", "style": "adain-style"}


def setting_names() -> list[str]:
    """The keys `zoo train adain --set KEY=VALUE` accepts besides the builder config."""
    fields = {f.name for f in dataclasses.fields(T.TrainConfig)} - _LOOP_KEYS - _CONFIG_KEYS
    return sorted(fields | set(_SYNONYMS) | {"losses"})


def _as_bool(key: str, value: Any) -> bool:
    """A yes/no setting from --set (JSON true/false, or the words): "False" must not read as true."""
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise ConfigError(f"{key}={value!r}: give true or false")


def train_config(config: Mapping[str, Any], settings: Mapping[str, Any], *, out: str, steps: int, seed: int,
                 data: str | Path | None = None, bf16: bool = False, channels_last: bool = False,
                 minutes: float | None = None) -> tuple[T.TrainConfig, dict[str, str]]:
    """(the TrainConfig, the loss names by role) of a `zoo train adain` run: the builder ``config`` (encoder
    'vgg16' trains over vgg16.hed-bsds500, 'vgg19_normalised' over a random VGG-19 whose kind is the
    ``encoder_init`` setting), the recipe ``settings`` and the data folder (DIR/style, and DIR/content when
    it exists; else DIR is the style folder)."""
    values: dict[str, Any] = {}
    losses = dict(DEFAULT_LOSSES)
    fields = {f.name: f for f in dataclasses.fields(T.TrainConfig)}
    for key, value in settings.items():
        key = _SYNONYMS.get(key, key)
        if key in _DOC_KEYS or value is None:
            continue
        if key == "losses":
            if not isinstance(value, Mapping) or not set(value) <= set(DEFAULT_LOSSES):
                raise ConfigError(f"losses must map roles {sorted(DEFAULT_LOSSES)} to registered loss names, "
                                  f"got {value!r}")
            losses.update({str(k): str(v) for k, v in value.items()})
            continue
        if key == "lr":
            values["lr"] = float(value)
            continue
        if key not in fields or key in _LOOP_KEYS or key in _CONFIG_KEYS:
            raise ConfigError(f"{key!r} is not a setting of the AdaIN trainer; its settings: {setting_names()} "
                              "(the loop's own: --steps, --seed, --precision, --channels-last, --minutes)")
        default = fields[key].default
        if isinstance(default, tuple):
            value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
            if key == "scales":
                value = tuple(float(v) for v in value)
        elif isinstance(default, bool):
            value = _as_bool(key, value)
        elif isinstance(default, int) and not isinstance(default, bool):
            value = int(value)
        elif isinstance(default, float):
            value = float(value)
        values[key] = value
    encoder = str(config.get("encoder", "vgg19_normalised"))
    if encoder == "vgg16":
        values["encoder"] = "vgg16-hed"
    elif encoder == "vgg19_normalised":
        kind = values.get("encoder", "random-scaled")
        if kind not in T.E.KINDS:
            raise ConfigError(f"encoder_init {kind!r}: the vgg19_normalised encoder is trained over one of "
                              f"{list(T.E.KINDS)}; for the ImageNet VGG16 pass --set encoder=vgg16")
        values["encoder"] = kind
    else:
        raise ConfigError(f"`zoo train adain` trains over encoder 'vgg16' or 'vgg19_normalised', not {encoder!r}")
    if data is not None:
        root = Path(data)
        if not root.is_dir():
            raise ConfigError(f"--data {root} is not a folder: give a folder with style/ (paintings) and "
                              "optionally content/ (photos), or a folder of paintings")
        style = root / "style" if (root / "style").is_dir() else root
        values.setdefault("style_dir", str(style))
        if (root / "content").is_dir() and "content_dirs" not in values:
            values["content_dirs"] = (str(root / "content"),)
    if not values.get("style_dir"):
        raise ConfigError("the AdaIN trainer needs style images: pass --data DIR (DIR/style) or --set style_dir=DIR")
    cfg = T.TrainConfig(**{**values, "out": str(out), "steps": int(steps), "seed": int(seed), "bf16": bf16,
                           "channels_last": channels_last, "minutes": minutes,
                           "decoder_width": float(config.get("decoder_width", 1.0)),
                           "depth": int(config.get("depth", 4)), "wct_mix": float(config.get("wct_mix", 0.0))})
    return cfg, losses


def decoder_state_of(path: str | Path) -> dict[str, torch.Tensor]:
    """A decoder's tensors from a run's decoder.safetensors or an exported model.safetensors (decoder.*)."""
    from safetensors.torch import load_file

    state = load_file(str(path))
    if any(k.startswith("decoder.") for k in state):
        state = {k[len("decoder."):]: v for k, v in state.items() if k.startswith("decoder.")}
    return state


class AdaINTrainer(Trainer):
    """The decoder step of Huang & Belongie 2017 (content loss at relu{depth}_1 against the AdaIN target, style
    loss over relu1_1..relu{depth}_1 statistics), with the zoo's options (warm-up, identity and TV terms,
    data-dependent init, feature scales); see :class:`zoo_adain.train.TrainConfig` for each setting."""

    task = "style-transfer"
    Settings = T.TrainConfig
    owns_learning_rate = True  # the paper's decay, lr / (1 + decay x step), set in step()

    def __init__(self, cfg: T.TrainConfig, losses: Mapping[str, str] | None = None, *, print_fn: Any = print,
                 start_step: int = 0):
        from zoo.training.losses import get_losses

        self.cfg, self.print = cfg, print_fn
        self.loss_names = dict(losses or DEFAULT_LOSSES)
        self.losses = get_losses(self.loss_names, kind="perceptual")
        self.run_dir = Path(cfg.out)
        torch.manual_seed(cfg.seed)
        self.encoder = T.build_encoder(cfg)
        self.decoder = T.new_decoder(cfg.seed, cfg.depth, cfg.decoder_width)
        if cfg.channels_last:
            self.decoder = self.decoder.to(memory_format=torch.channels_last)
            self.encoder = self.encoder.to(memory_format=torch.channels_last)
        first = next(m for m in self.decoder.modules() if isinstance(m, nn.Conv2d))
        first_ids = {id(first.weight), id(first.bias)}
        self.opt = torch.optim.Adam([
            {"params": [p for p in self.decoder.parameters() if id(p) not in first_ids], "lr_scale": 1.0},
            {"params": [first.weight, first.bias], "lr_scale": cfg.first_lr_scale},
        ], lr=cfg.lr)
        self.start_step = int(start_step)
        resuming = (self.run_dir / "checkpoint.pt").exists()
        if resuming:
            saved = self.run_dir / "encoder.safetensors"
            if saved.is_file():
                from safetensors.torch import load_file

                old, now = load_file(str(saved)), T.encoder_state(self.encoder)
                if old.keys() != now.keys() or any(not torch.equal(old[k], now[k]) for k in now):
                    raise ValueError(f"{self.run_dir} was trained with a different encoder than --encoder "
                                     f"{cfg.encoder}; use another --out (run folder)")
        elif cfg.init_decoder:
            self.decoder.load_state_dict(decoder_state_of(cfg.init_decoder))
            print_fn(f"decoder initialised from {cfg.init_decoder}")
        self.content_pool, self.style_pool = T.load_pools(cfg)
        enc, depth = self.encoder, cfg.depth
        if not resuming and cfg.init_decoder and cfg.revive_dead:
            vrng = random.Random(cfg.seed + 3)
            with torch.no_grad():
                cb, sb = self.content_pool.sample(16, vrng), self.style_pool.sample(16, vrng)
                fc = T.enc_features(enc, cb, depth)[-1].float()
                t = T.bottleneck(fc, T.enc_features(enc, sb, depth)[-1].float(), cfg.wct_mix)
            rep = T.revive_dead_channels(self.decoder, torch.cat([t, fc]), cfg.seed)
            print_fn(f"revived dead decoder channels (conv, dead, of): {rep}")
        # a fixed batch of AdaIN targets (own generator: the training stream is unchanged), for the
        # data-dependent init and the dead-channel log written at every checkpoint
        mrng = random.Random(cfg.seed + 4)
        with torch.no_grad():
            mc, ms = self.content_pool.sample(8, mrng), self.style_pool.sample(8, mrng)
            self.monitor = T.bottleneck(T.enc_features(enc, mc, depth)[-1].float(),
                                        T.enc_features(enc, ms, depth)[-1].float(), cfg.wct_mix)
        if not resuming and cfg.data_init and not cfg.init_decoder:
            factors = T.calibrate_decoder(self.decoder, self.monitor)
            print_fn(f"decoder convs rescaled on training targets by {[round(f, 4) for f in factors]}")
        self.scales = self._feature_scales() if cfg.normalise_features else None
        self.loss_net = T.loss_network(cfg.loss_network)
        self.ln_scales = (self._feature_scales(self.loss_net, "loss_network_scales", T.LOSS_NETWORK_DEPTH)
                          if self.loss_net is not None and cfg.normalise_features else None)
        if (cfg.loss_network_content or cfg.encoder_content_weight) and self.loss_net is None:
            raise ConfigError("loss_network_content and encoder_content_weight need a loss_network (e.g. "
                              "--loss-network vgg16-hed)")
        if cfg.encoder_content_weight and not cfg.loss_network_content:  # else the content loss is the encoder's
            raise ConfigError("encoder_content_weight is beside the loss network's content loss: add --loss-network-content")
        if self.loss_net is not None:
            print_fn(f"style {'and content losses' if cfg.loss_network_content else 'loss'} measured with "
                     f"{cfg.loss_network} (relu1_1..relu4_1)")
        if cfg.teacher_target not in T.TEACHER_TARGETS:
            raise ConfigError(f"teacher_target {cfg.teacher_target!r}: choose one of {list(T.TEACHER_TARGETS)}")
        self.teacher = load_teacher(cfg.teacher) if cfg.teacher and cfg.teacher_weight else None
        if self.teacher is not None:
            print_fn(f"teacher: {cfg.teacher} (weight {cfg.teacher_weight}, target: its {cfg.teacher_target})")
        # the samples of the run's grids: two fixed pairs of training crops
        srng = random.Random(cfg.seed + 5)
        self.sample_pairs = (self.content_pool.sample(2, srng), self.style_pool.sample(2, srng))
        print_fn(f"content: {len(self.content_pool.images)} images {self.content_pool.names}; "
                 f"style: {len(self.style_pool.images)} images {self.style_pool.names}; held out "
                 f"{tuple(dict.fromkeys((*T.HELD_OUT_CONTENT, *cfg.held_out_content)))} "
                 f"{tuple(dict.fromkeys((*T.HELD_OUT_STYLES, *cfg.held_out_styles)))}")
        self.decoder.train()
        self.d_run: nn.Module = self.decoder

    def _feature_scales(self, net: nn.Module | None = None, stem: str = "feature_scales",
                        depth: int | None = None) -> list[torch.Tensor]:
        from safetensors.torch import load_file, save_file

        net, depth = (net or self.encoder), (depth or self.cfg.depth)
        path = self.run_dir / f"{stem}.safetensors"
        if path.is_file():
            sc = load_file(str(path))
            scales = [sc[f"relu{i + 1}_1"] for i in range(depth)]
        else:
            srng = random.Random(self.cfg.seed + 2)
            calib = torch.cat([self.content_pool.sample(16, srng), self.style_pool.sample(16, srng)])
            scales = T.feature_scales(net, calib, depth)
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_file({f"relu{i + 1}_1": t.contiguous() for i, t in enumerate(scales)}, str(path))
        self.print(f"features divided per layer by {[round(float(t), 3) for t in scales]} before the losses")
        return scales

    @classmethod
    def setting_names(cls) -> list[str]:
        return setting_names()

    @classmethod
    def from_job(cls, job: Any) -> AdaINTrainer:
        """The trainer of a `zoo train adain` job (zoo.training.run.run_training calls this): the builder
        config, the recipe's settings with the --set overrides, the data folder; ``--init-from FOLDER`` starts
        the decoder from FOLDER/model.safetensors and the step count from its config.json."""
        cfg, losses = train_config(job.config, job.settings, out=str(job.run_dir), steps=job.steps, seed=job.seed,
                                   data=job.data, bf16=job.precision == "bf16", channels_last=job.channels_last,
                                   minutes=job.minutes)
        start = 0
        if job.init_from is not None:
            folder = Path(job.init_from)
            if not (folder / "model.safetensors").is_file():
                raise ConfigError(f"--init-from {folder}: no model.safetensors there; pass a folder written by "
                                  "`zoo train adain` or a card folder such as cards/zoo/adain-vgg16")
            meta = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
            if meta.get("architecture") not in (None, "adain"):
                raise ConfigError(f"--init-from {folder} holds a {meta.get('architecture')!r} model, not 'adain'")
            if meta.get("config") and not T.same_decoder(dict(meta["config"]), model_config(cfg)):
                raise ConfigError(f"--init-from {folder}: its config {meta['config']} differs from this run's "
                                  f"{model_config(cfg)}; pass the same --set values")
            cfg = dataclasses.replace(cfg, init_decoder=str(folder / "model.safetensors"))
            tr = meta.get("training", {})
            start = int(tr.get("steps_done", tr.get("steps", 0)) or 0)
        return cls(cfg, losses, start_step=start)

    # -- state -------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"decoder": self.decoder}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer": self.opt}

    def setup(self, ctx: StepContext) -> None:
        if self.teacher is not None:
            self.teacher.to(ctx.device)
        self.encoder.to(ctx.device)
        self.decoder.to(ctx.device)
        if self.loss_net is not None:
            self.loss_net.to(ctx.device)
        if self.scales is not None:
            self.scales = [t.to(ctx.device) for t in self.scales]
        if self.ln_scales is not None:
            self.ln_scales = [t.to(ctx.device) for t in self.ln_scales]
        self.d_run = ctx.distributed(self.decoder)

    # -- the step ------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        return T.lr_at(self.cfg, step)

    def step(self, ctx: StepContext) -> dict[str, torch.Tensor | float]:
        cfg, step, dev = self.cfg, ctx.step, ctx.device
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(step) * g.get("lr_scale", 1.0)
        rng = ctx.random(3)
        content = self.content_pool.sample(cfg.batch_size, rng).to(dev)
        if cfg.warmup_steps and step == cfg.warmup_steps:
            # Adam's second moments from the warm-up's pixel loss are orders of magnitude smaller than the
            # feature losses' gradients: keeping them makes the first steps huge and kills the decoder's
            # ReLUs (seen: a constant output). Start afresh.
            self.opt.state.clear()
        if step < cfg.warmup_steps:
            with ctx.autocast():
                with torch.no_grad():
                    f = T.enc_features(self.encoder, ctx.layout(content), cfg.depth)[-1]
                out = self.d_run(f)
            loss = F.mse_loss(out.float(), content)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            return {"loss": loss.detach(), "pixel": loss.detach(), "lr": self.lr_at(step)}
        style = self.style_pool.sample(cfg.batch_size, rng).to(dev)
        lc, ls, loss, lt = self._losses(ctx, content, style)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        out = {"loss": loss.detach(), "content": lc.detach(), "style": ls.detach(), "lr": self.lr_at(step)}
        if lt is not None:
            out["teacher"] = lt.detach()
        return out

    def _losses(self, ctx: StepContext, content: torch.Tensor, style: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        cfg, n, enc = self.cfg, content.shape[0], self.encoder
        taught = None
        if self.teacher is not None:
            with torch.no_grad():
                taught = teacher_outputs(self.teacher, content, style)
        with ctx.autocast():
            with torch.no_grad():
                # one encoder pass for contents, styles (and the teacher's outputs) together (same crop size)
                images = torch.cat([content, style] + ([taught] if taught is not None else []))
                feats = T.enc_features(enc, ctx.layout(images), cfg.depth)
                style_feats = [f[n : 2 * n].float() for f in feats]
                teacher_feats = [f[2 * n :].float() for f in feats] if taught is not None else None
                target = T.bottleneck(feats[-1][:n].float(), style_feats[-1], cfg.wct_mix)
            out = self.d_run(ctx.layout(target))
            out_feats = [f.float() for f in T.enc_features(enc, out, cfg.depth)]
            ln_goal = None
            if self.loss_net is not None:
                with torch.no_grad():  # the contents too when the content loss is taken there
                    ref = torch.cat([content, style]) if cfg.loss_network_content else style
                    ln_ref = [f.float() for f in T.enc_features(self.loss_net, ctx.layout(ref), T.LOSS_NETWORK_DEPTH)]
                ln_out = [f.float() for f in T.enc_features(self.loss_net, out, T.LOSS_NETWORK_DEPTH)]
                if self.ln_scales is not None:
                    ln_ref = [f / sc for f, sc in zip(ln_ref, self.ln_scales)]
                    ln_out = [f / sc for f, sc in zip(ln_out, self.ln_scales)]
                ln_style = [f[f.shape[0] - n:] for f in ln_ref]
                if cfg.loss_network_content:
                    ln_goal = T.adain(ln_ref[-1][:n], ln_style[-1])
        goal = target
        if self.scales is not None:
            out_feats = [f / sc for f, sc in zip(out_feats, self.scales)]
            style_feats = [f / sc for f, sc in zip(style_feats, self.scales)]
            if teacher_feats is not None:
                teacher_feats = [f / sc for f, sc in zip(teacher_feats, self.scales)]
            goal = target / self.scales[-1]
        lc = self.losses["content"].fn(out_feats[-1], goal) if ln_goal is None else self.losses["content"].fn(ln_out[-1], ln_goal)
        ls = self.losses["style"].fn(ln_out, ln_style) if self.loss_net is not None else \
            self.losses["style"].fn(out_feats, style_feats)
        loss = cfg.content_weight * lc + cfg.style_weight * ls
        if cfg.encoder_content_weight and ln_goal is not None:  # the encoder's content loss beside the judge's
            loss = loss + cfg.encoder_content_weight * self.losses["content"].fn(out_feats[-1], goal)
        loss = loss + T.image_terms(out.float(), content, cfg)  # total variation, Laplacian (0 where off)
        if cfg.identity_weight:
            with ctx.autocast():
                with torch.no_grad():
                    fc = T.enc_features(enc, ctx.layout(content), cfg.depth)[-1]
                same = self.d_run(fc)
            loss = loss + cfg.identity_weight * F.mse_loss(same.float(), content)
        lt = None
        if teacher_feats is not None and cfg.teacher_target == "style":  # its statistics, by the style loss's net
            if self.loss_net is not None:
                with ctx.autocast(), torch.no_grad():
                    t_ln = [f.float() for f in T.enc_features(self.loss_net, ctx.layout(taught), T.LOSS_NETWORK_DEPTH)]
                t_ln = [f / sc for f, sc in zip(t_ln, self.ln_scales)] if self.ln_scales is not None else t_ln
                lt = self.losses["style"].fn(ln_out, t_ln)
            else:
                lt = self.losses["style"].fn(out_feats, teacher_feats)
        elif teacher_feats is not None:
            lt = sum(F.mse_loss(o, t) for o, t in zip(out_feats, teacher_feats))
        if lt is not None:
            loss = loss + cfg.teacher_weight * lt
        return lc, ls, loss, lt

    @torch.no_grad()
    def sample_images(self, ctx: StepContext) -> torch.Tensor:
        c, s = self.sample_pairs
        dev = next(self.decoder.parameters()).device
        self.decoder.eval()
        f = T.enc_features(self.encoder, torch.cat([c, s]).to(dev), self.cfg.depth)[-1].float()
        out = self.decoder(T.bottleneck(f[: len(c)], f[len(c):], self.cfg.wct_mix)).float().clamp(0, 1).cpu()
        self.decoder.train()
        return torch.cat([c, s, out])

    def on_checkpoint(self, run_dir: Path, step: int) -> None:
        """decoder.safetensors, encoder.safetensors and train_config.json beside the checkpoint (the run folder
        that zoo_adain.train.load_run and the bench scripts read), and the dead-channel log."""
        from safetensors.torch import save_file

        meta = {"step": str(step), "encoder": self.cfg.encoder}
        for name, state in (("decoder", self.decoder.state_dict()), ("encoder", T.encoder_state(self.encoder))):
            tmp = run_dir / f"{name}.safetensors.tmp"
            save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(tmp), metadata=meta)
            tmp.replace(run_dir / f"{name}.safetensors")
        if self.cfg.keep_saves:
            keep_decoder(run_dir, step)  # RUN/saves/: for weight averaging (zoo_adain.average)
        cfg_d = json.loads(json.dumps(dataclasses.asdict(self.cfg)))  # tuples -> lists
        cfg_d["losses"] = self.loss_names
        cfg_d["steps_done"] = step
        (run_dir / "train_config.json").write_text(json.dumps(cfg_d, indent=2) + "\n")
        self.decoder.eval()
        dead = T.dead_channels(self.decoder, self.monitor.to(next(self.decoder.parameters()).device))
        self.decoder.train()
        with open(run_dir / "dead_channels.jsonl", "a") as f:
            f.write(json.dumps({"step": step, "dead": dead}) + "\n")

    # -- export ----------------------------------------------------------------
    @classmethod
    def write_card(cls, folder: Path) -> Path:
        """Re-write an exported folder's card from its config.json (`zoo eval FOLDER --write` calls this)."""
        from .export import rewrite_card

        return rewrite_card(folder)

    def published(self) -> nn.Module:
        return T.zoo_model_from(self.encoder.cpu(), self.decoder.cpu(), self.cfg.depth, self.cfg.wct_mix)

    def export(self, out: Path, summary: dict[str, Any]) -> Path:
        """``out``/{model.safetensors, config.json, README.md, samples.jpg}: the format of cards/zoo/adain-*,
        the card written by zoo.card_writer."""
        from .export import write_style_folder

        return write_style_folder(self, Path(out), summary)


__all__ = ["AdaINTrainer", "DEFAULT_LOSSES", "model_config", "setting_names", "train_config"]
