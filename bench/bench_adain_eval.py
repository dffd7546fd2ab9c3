"""Held-out evaluation of AdaIN weights under the ImageNet-descended VGG16 as the judge.

The paper (Huang & Belongie 2017, fig. 3 and table 1) reports its content and style
losses measured with its own encoder; here the judge is ``vgg16.hed-bsds500``, the
encoder of ``adain.vgg16``, so the old default (trained over a random VGG) and the
new one are scored under the same network. Held out of every training run:

- photos: scikit-image's astronaut, chelsea, coffee, and two wallpaper photographs
  (plasma:EveningGlow, mate:Storm from cards/zoo/adain-vgg16/content-debian.tsv);
- paintings: The Scream, Udnie, Woman with a Hat.

Each pair is stylized at SIZE x SIZE (centre crops, the model called directly, fp32,
alpha 1) and scored (lower is better except SSIM):

- content: MSE at the judge's relu4_1 between the output and AdaIN(judge(c), judge(s));
- style: sum over relu1_1..relu4_1 of the MSE of channel means plus that of channel stds,
  output against painting (the paper's losses; the judge's Caffe-scale activations make
  both numbers large: compare rows, not with the paper);
- palette: mean |difference| of the per-channel RGB mean and std, output vs painting;
- SSIM: of the output's luminance to the photo's (skimage, data range 1).

Reference rows: the photo itself and a pixel colour transfer.

    python bench/bench_adain_eval.py --model adain.zoo --run runs/adain-vgg16/run1 \\
        --style-dir $ZOO_DATA_DIR/style-transfer/style --json out/eval.json --png out/heldout.png
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from zoo_adain import train as T

from adain_encoder_study import (  # noqa: E402 (bench/ is on the path)
    evaluate_pairs, luminance, style_image, to_pil)

HELD_OUT_STYLES = ("the_scream", "udnie", "woman_with_hat_matisse")
SKIMAGE_HELD_OUT = ("astronaut", "chelsea", "coffee")
WALLPAPER_HELD_OUT = ("plasma:EveningGlow", "mate:Storm")
MANIFEST = Path(__file__).resolve().parents[1] / "cards" / "zoo" / "adain-vgg16" / "content-debian.tsv"


def judge_network(weights: str | None = None) -> torch.nn.Module:
    if weights:
        return T.vgg16_hed_encoder(weights)
    import zoo

    return zoo.load("vgg16.hed-bsds500").eval()


def held_out_contents(size: int, wallpapers: bool = True) -> dict[str, torch.Tensor]:
    out = {n: T.center_square(T.skimage_image(n), size)[None] for n in SKIMAGE_HELD_OUT}
    if wallpapers and MANIFEST.is_file():
        paths = dict(T.read_manifest(MANIFEST))
        for n in WALLPAPER_HELD_OUT:
            p = paths.get(n)
            if p is not None and p.is_file():
                with Image.open(p) as im:
                    out[n] = T.center_square(im.convert("RGB"), size)[None]
    return out


@torch.inference_mode()
def scores(judge: torch.nn.Module, out: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    fo, fc, fs = judge.forward_features(out), judge.forward_features(c), judge.forward_features(s)
    content = F.mse_loss(fo[-1], T.adain(fc[-1], fs[-1])).item()
    style = T.style_loss(fo, fs).item()
    palette = ((out.mean((2, 3)) - s.mean((2, 3))).abs().mean() + (out.std((2, 3)) - s.std((2, 3))).abs().mean()).item()
    ssim = float(structural_similarity(luminance(out), luminance(c), data_range=1.0))
    return {"content": content, "style": style, "palette": palette, "ssim": ssim}


def grid_png(rows: list[list[tuple[str, torch.Tensor]]], path: Path, tile: int) -> None:
    ncol = max(len(r) for r in rows)
    label_h = 18
    sheet = Image.new("RGB", (ncol * tile, len(rows) * (tile + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        y = r * (tile + label_h)
        for k, (label, img) in enumerate(row):
            draw.text((k * tile + 4, y + 3), label, fill="black")
            sheet.paste(to_pil(img).resize((tile, tile), Image.BICUBIC), (k * tile, y + label_h))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=90) if path.suffix.lower() in (".jpg", ".jpeg") else sheet.save(path)


def load_models(names: list[str], runs: list[str]) -> tuple[dict[str, torch.nn.Module], dict[str, int | str]]:
    import zoo

    models: dict[str, torch.nn.Module] = {}
    steps: dict[str, int | str] = {}
    for n in names:
        models[n] = zoo.load(n).float().eval()
        steps[n] = "-"
    for run in runs:
        enc, dec, cfg = T.load_run(Path(run))
        label = f"{Path(run).name}"
        models[label] = T.zoo_model_from(enc, dec, int(cfg.get("depth", 4))).eval()
        steps[label] = int(json.loads((Path(run) / "log.jsonl").read_text().splitlines()[-1])["step"])
    return models, steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", default=[], help="a zoo model name or Hub-repo folder; repeatable")
    p.add_argument("--run", action="append", default=[], help="a run folder of python -m zoo_adain.train; repeatable")
    p.add_argument("--style-dir", required=True)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--judge-weights", default=None, help="the VGG16's model.safetensors (default: zoo.load)")
    p.add_argument("--png", default=None, help="grid of every held-out pair (photo, painting, colour transfer, models)")
    p.add_argument("--card-png", default=None, help="grid of the scikit-image pairs only (for committed cards)")
    p.add_argument("--json", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-wallpapers", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    judge = judge_network(a.judge_weights)
    contents = held_out_contents(a.size, not a.no_wallpapers)
    styles = {n: T.center_square(style_image(Path(a.style_dir), n), a.size)[None] for n in HELD_OUT_STYLES}
    models, steps = load_models(a.model, a.run)
    methods, per, table, outputs = evaluate_pairs(models, contents, styles, lambda o, c, s: scores(judge, o, c, s))
    n_pairs = len(contents) * len(styles)
    print(f"# AdaIN held-out evaluation: {n_pairs} pairs ({', '.join(contents)} x {', '.join(styles)}) at "
          f"{a.size}x{a.size}; judge = vgg16.hed-bsds500; {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {time.time() - t0:.0f}s")
    print("| method | decoder steps | content loss (judge) | style loss (judge) | palette L1 (RGB) | SSIM to photo |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        r = table[m]
        print(f"| {m} | {steps.get(m, '-')} | {r['content']:.1f} | {r['style']:.1f} | {r['palette']:.4f} | {r['ssim']:.3f} |")

    def rows_for(names):
        rows = []
        for cn in names:
            for sn in styles:
                row = [(cn, contents[cn]), (sn, styles[sn]), ("colour transfer", outputs[("colour transfer", cn, sn)])]
                row += [(m, outputs[(m, cn, sn)]) for m in models]
                rows.append(row)
        return rows

    if a.png:
        grid_png(rows_for(list(contents)), Path(a.png), a.size)
        print(f"wrote {a.png}")
    if a.card_png:
        grid_png(rows_for([n for n in contents if n in SKIMAGE_HELD_OUT]), Path(a.card_png), a.size)
        print(f"wrote {a.card_png}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"size": a.size, "pairs": n_pairs, "contents": list(contents),
                                            "styles": list(styles), "judge": "vgg16.hed-bsds500", "steps": steps,
                                            "table": table, "per_pair": per}, indent=2) + "\n")


if __name__ == "__main__":
    main()
