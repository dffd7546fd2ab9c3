"""The AdaIN encoder study: decoders trained on candidate encoders, compared on held-out pairs.

Every candidate is a run folder written by ``python -m zoo_adain.train`` (its
encoder.safetensors, decoder.safetensors, train_config.json). Each one
stylizes the held-out content photos (scikit-image's astronaut, chelsea,
coffee) with the held-out paintings (The Scream, Udnie, Woman with a Hat), at
SIZE x SIZE (centre crops), and is scored under ONE fixed judge network that
none of the candidates was trained with: a fresh random-weight VGG-19 to
relu4_1 (seed 1234, He-normal, zero biases, ImageNet normalisation folded
in) with each layer scaled to unit mean-square activation on scikit-image's
training photos, so that relu1_1..relu4_1 weigh alike. Random-weight VGG
statistics are a texture descriptor in their own right (Ustyuzhaninov et
al., 2017; He, Wang & Hopcroft, 2016), and a network trained on nothing
favours no candidate's training signal.

Scores (lower is better except SSIM):
- content: MSE at the judge's relu4_1 between the output and AdaIN(judge(c), judge(s)) (the paper's content loss);
- style: sum over the judge's relu1_1..relu4_1 of the MSE of channel means plus the MSE of channel stds, output vs style (the paper's style loss);
- palette: mean |difference| of the per-channel RGB mean and std, output vs style (no network);
- SSIM: structural similarity of the output's and the content's luminance (no network; the layout kept).
Two reference rows anchor the numbers: the content image itself, and a pixel
colour transfer (each RGB channel given the style's mean and std).

    python bench/adain_encoder_study.py runs/adain/random runs/adain/random-scaled ... \
        --style-dir $ZOO_DATA_DIR/style-transfer/style --png out/adain-encoder-study.png --json out/study.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from zoo_adain import encoders as E
from zoo_adain import train as T

JUDGE_SEED = 1234
SHOWN_PAIRS = (("astronaut", "the_scream"), ("chelsea", "udnie"), ("coffee", "woman_with_hat_matisse"))


def judge_network() -> torch.nn.Sequential:
    seq = E.random_vgg(JUDGE_SEED)
    E.rescale_layers(seq, T.calibration_images())
    return seq.eval()


def style_image(style_dir: Path, name: str) -> Image.Image:
    for suf in T.IMAGE_SUFFIXES:
        p = style_dir / f"{name}{suf}"
        if p.is_file():
            with Image.open(p) as im:
                return im.convert("RGB")
    raise FileNotFoundError(f"no image {name}.* in {style_dir}")


def colour_transfer(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    cm, cs = c.mean((2, 3), keepdim=True), c.std((2, 3), keepdim=True)
    sm, ss = s.mean((2, 3), keepdim=True), s.std((2, 3), keepdim=True)
    return ((c - cm) / (cs + 1e-6) * ss + sm).clamp(0, 1)


def luminance(x: torch.Tensor) -> np.ndarray:
    w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (x * w).sum(1)[0].numpy()


@torch.inference_mode()
def scores(judge: torch.nn.Sequential, out: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    fo, fc, fs = E.features(judge, out), E.features(judge, c), E.features(judge, s)
    content = F.mse_loss(fo[-1], T.adain(fc[-1], fs[-1])).item()
    style = T.style_loss(fo, fs).item()
    palette = ((out.mean((2, 3)) - s.mean((2, 3))).abs().mean() + (out.std((2, 3)) - s.std((2, 3))).abs().mean()).item()
    ssim = float(structural_similarity(luminance(out), luminance(c), data_range=1.0))
    return {"content": content, "style": style, "palette": palette, "ssim": ssim}


def to_pil(x: torch.Tensor) -> Image.Image:
    return Image.fromarray((x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))


def comparison_png(rows: list[list[tuple[str, torch.Tensor]]], path: Path, tile: int) -> None:
    """A grid: one row per pair, one labelled column per image."""
    ncol = len(rows[0])
    label_h = 18
    sheet = Image.new("RGB", (ncol * tile, len(rows) * (tile + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        y = r * (tile + label_h)
        for k, (label, img) in enumerate(row):
            draw.text((k * tile + 4, y + 3), label, fill="black")
            sheet.paste(to_pil(img).resize((tile, tile), Image.BICUBIC), (k * tile, y + label_h))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


EXAMPLE_STYLES = ("starry_night", "wave", "the_scream", "composition_vii")


@torch.inference_mode()
def examples_png(model: torch.nn.Module, style_dir: Path, path: Path, size: int) -> None:
    """First row: the paintings; then one row per held-out photo: the photo and its stylizations."""
    contents = [(n, T.center_square(T.skimage_image(n), size)[None]) for n in T.HELD_OUT_CONTENT]
    styles = [(n, T.center_square(style_image(style_dir, n), size)[None]) for n in EXAMPLE_STYLES]
    blank = torch.ones(1, 3, size, size)
    rows = [[("photo / painting", blank), *styles]]
    for cn, c in contents:
        rows.append([(cn, c), *[(f"{cn} x {sn}", model(c, s).clamp(0, 1)) for sn, s in styles]])
    comparison_png(rows, path, size)


def evaluate_pairs(models: dict[str, torch.nn.Module], contents: dict[str, torch.Tensor],
                   styles: dict[str, torch.Tensor], score) -> tuple[list[str], dict[str, list[dict[str, float]]],
                                                                   dict[str, dict[str, float]],
                                                                   dict[tuple[str, str, str], torch.Tensor]]:
    """Every (content, style) pair through the unchanged photo, a colour transfer and each model: the
    methods, their per-pair and mean scores, and every output (method, content, style) -> image."""
    methods = ["content image", "colour transfer", *models]
    per: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    outputs: dict[tuple[str, str, str], torch.Tensor] = {}
    with torch.inference_mode():
        for cn, c in contents.items():
            for sn, s in styles.items():
                outs = {"content image": c, "colour transfer": colour_transfer(c, s)}
                for name, model in models.items():
                    outs[name] = model(c, s).float().clamp(0, 1)
                for m, o in outs.items():
                    per[m].append(score(o, c, s))
                    outputs[(m, cn, sn)] = o
    table = {m: {k: float(np.mean([d[k] for d in per[m]])) for k in per[m][0]} for m in methods}
    return methods, per, table, outputs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="run folders of python -m zoo_adain.train (label = folder name)")
    p.add_argument("--style-dir", required=True)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--png", default="out/adain-encoder-study.png")
    p.add_argument("--json", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--examples", default=None, help="also write a grid of the last run's stylizations here")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    judge = judge_network()
    contents = {n: T.center_square(T.skimage_image(n), a.size)[None] for n in T.HELD_OUT_CONTENT}
    styles = {n: T.center_square(style_image(Path(a.style_dir), n), a.size)[None] for n in T.HELD_OUT_STYLES}
    models = {}
    steps = {}
    for run in a.runs:
        enc, dec, cfg = T.load_run(Path(run))
        models[Path(run).name] = T.run_model(enc, dec, cfg)
        steps[Path(run).name] = int(json.loads((Path(run) / "log.jsonl").read_text().splitlines()[-1])["step"])
    methods, per, table, outputs = evaluate_pairs(models, contents, styles, lambda o, c, s: scores(judge, o, c, s))
    n_pairs = len(contents) * len(styles)
    print(f"# AdaIN encoder study: {n_pairs} held-out pairs at {a.size}x{a.size}, judge = random VGG seed {JUDGE_SEED} "
          f"(unit-scaled layers); {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{time.time() - t0:.0f}s")
    print("| method | decoder steps | content loss (judge) | style loss (judge) | palette L1 (RGB) | SSIM to content |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        r = table[m]
        print(f"| {m} | {steps.get(m, '-')} | {r['content']:.4f} | {r['style']:.4f} | {r['palette']:.4f} | {r['ssim']:.3f} |")
    rows = []
    for cn, sn in SHOWN_PAIRS:
        row = [(cn, contents[cn]), (sn, styles[sn]), ("colour transfer", outputs[("colour transfer", cn, sn)])]
        row += [(m, outputs[(m, cn, sn)]) for m in models]
        rows.append(row)
    comparison_png(rows, Path(a.png), a.size)
    print(f"wrote {a.png}")
    if a.examples:
        examples_png(list(models.values())[-1], Path(a.style_dir), Path(a.examples), a.size)
        print(f"wrote {a.examples}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"size": a.size, "pairs": n_pairs, "judge_seed": JUDGE_SEED,
                                            "steps": steps, "table": table, "per_pair": per}, indent=2) + "\n")


if __name__ == "__main__":
    main()
