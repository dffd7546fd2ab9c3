"""Held-out evaluation of style-transfer models under the style-transfer judge, several models in one table.

Every figure comes from the zoo's one style-transfer evaluator (:mod:`zoo_adain.evaluate`, the evaluator
``style-judge`` that `zoo eval NAME --data DIR` runs): the same held-out pairs, the same judge
(``vgg16.hed-bsds500``), the same losses, the models called through the stylize contract (alpha 1, fp32,
the style as given). This script adds what a comparison needs: several models and AdaIN run folders side
by side, the reference rows (the photo, a colour transfer), and the grids.

Held-out sets (``--heldout``): ``skimage`` (astronaut, chelsea, coffee x The Scream, Udnie, Woman with a
Hat: 9 pairs, available offline everywhere) or ``wallpapers`` (those plus the Debian wallpapers
plasma:EveningGlow and mate:Storm: 15 pairs, the set of the adain.vgg16 card's figures).

    python bench/bench_adain_eval.py --model adain.zoo --model adain.vgg16 --run runs/adain-vgg16/run1 \\
        --style-dir $ZOO_DATA_DIR/style-transfer/style --json out/eval.json --png out/heldout.png

``--saves RUN`` scores every decoder that a run kept with ``--keep-saves`` (``RUN/saves/``), each as a method of
its own labelled ``RUN@STEP``, in one process (one judge, the same pairs): the per-save curve of a run.

``--layers`` splits each method's style loss by the judge's layers (which layer carries a gap).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from zoo_adain import evaluate as J
from zoo_adain import train as T

HELD_OUT_STYLES = J.HELD_OUT_STYLES
SKIMAGE_HELD_OUT = J.SKIMAGE_HELD_OUT
WALLPAPER_HELD_OUT = J.WALLPAPER_HELD_OUT
judge_network = J.judge_network
scores = J.scores


def to_pil(x: torch.Tensor) -> Image.Image:
    return Image.fromarray((x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8"))


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


def load_models(names: list[str], runs: list[str], saves: list[str] = ()) -> tuple[dict[str, torch.nn.Module],
                                                                                dict[str, int | str]]:
    """Zoo models by name, AdaIN run folders (their last decoder), and every decoder a run kept with
    ``--keep-saves`` (``RUN/saves/``), labelled ``RUN@STEP``."""
    import zoo
    from safetensors.torch import load_file
    from zoo_adain.average import SAVES_DIR, kept_step

    models: dict[str, torch.nn.Module] = {}
    steps: dict[str, int | str] = {}
    for n in names:
        models[n] = zoo.load(n).float().eval()
        steps[n] = "-"
    for run in runs:
        enc, dec, cfg = T.load_run(Path(run))
        label = f"{Path(run).name}"
        models[label] = T.run_model(enc, dec, cfg).eval()
        steps[label] = int(json.loads((Path(run) / "log.jsonl").read_text().splitlines()[-1])["step"])
    for run in saves:
        kept = sorted((Path(run) / SAVES_DIR).glob("decoder_step_*.safetensors"))
        if not kept:
            raise SystemExit(f"{run}: no kept decoders in {SAVES_DIR}/ (train with --keep-saves)")
        enc, dec, cfg = T.load_run(Path(run))
        for path in kept:
            dec.load_state_dict(load_file(str(path)))
            label = f"{Path(run).name}@{kept_step(path)}"
            models[label] = T.run_model(enc, copy.deepcopy(dec), cfg).eval()
            steps[label] = kept_step(path)
    return models, steps


def print_layers(methods: list[str], outputs: dict, styles: dict[str, torch.Tensor], judge: torch.nn.Module) -> None:
    """The table's style loss split by the judge's layers, mean over the pairs (J.style_loss_by_layer)."""
    split: dict[str, list[list[float]]] = {m: [] for m in methods}
    with torch.inference_mode():
        for (m, _, sn), out in outputs.items():
            split[m].append(J.style_loss_by_layer(judge, out, styles[sn]))
    n_layers = len(next(iter(split.values()))[0]) // 2
    print("\n| method | " + " | ".join(f"relu{i + 1}_1 mean | relu{i + 1}_1 std" for i in range(n_layers)) + " |")
    print("|---|" + "---|" * (2 * n_layers))
    for m in methods:
        mean = torch.tensor(split[m]).mean(0).tolist()
        print(f"| {m} | " + " | ".join(f"{v:.1f}" for v in mean) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", default=[], help="a zoo model name or Hub-repo folder; repeatable")
    p.add_argument("--run", action="append", default=[], help="an AdaIN run folder (zoo train's --run-dir); repeatable")
    p.add_argument("--saves", action="append", default=[],
                   help="an AdaIN run folder trained with --keep-saves: every kept decoder scored; repeatable")
    p.add_argument("--style-dir", required=True)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--heldout", choices=J.SETS, default="skimage")
    p.add_argument("--no-wallpapers", action="store_true", help="the same as --heldout skimage (kept for old commands)")
    p.add_argument("--judge-weights", default=None, help="the VGG16's model.safetensors (default: zoo.load)")
    p.add_argument("--png", default=None, help="grid of every held-out pair (photo, painting, colour transfer, models)")
    p.add_argument("--card-png", default=None, help="grid of the scikit-image pairs only (for committed cards)")
    p.add_argument("--json", default=None)
    p.add_argument("--layers", action="store_true",
                   help="also split each method's style loss by the judge's layers (mean and std terms)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--styles", default=None,
                   help="comma-separated paintings of --style-dir in place of the held-out three (e.g. training "
                   "paintings, to tell under-fitting from poor generalisation; the figures are then not held-out)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    which = "skimage" if a.no_wallpapers else a.heldout
    judge = J.judge_network(a.judge_weights)
    style_names = [n.strip() for n in a.styles.split(",") if n.strip()] if a.styles else list(J.HELD_OUT_STYLES)
    contents, styles = J.held_out_set(Path(a.style_dir), a.size, which, style_names)
    models, steps = load_models(a.model, a.run, a.saves)
    methods, per, table, outputs = J.evaluate_pairs(models, contents, styles, judge)
    n_pairs = len(contents) * len(styles)
    protocols = J.protocol_strings(n_pairs, a.size, "pairs with the paintings " + ", ".join(styles)
                                   if a.styles else "held-out pairs")
    print(f"# style-transfer judge: {n_pairs} pairs ({', '.join(contents)} x {', '.join(styles)}) at "
          f"{a.size}x{a.size}; {protocols['style_loss_judge']}; {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {time.time() - t0:.0f}s")
    print("| method | decoder steps | content loss (judge) | style loss (judge) | palette L1 (RGB) | SSIM to photo |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        r = table[m]
        print(f"| {m} | {steps.get(m, '-')} | {r['content']:.1f} | {r['style']:.1f} | {r['palette']:.4f} | {r['ssim']:.3f} |")

    if a.layers:
        print_layers(methods, outputs, styles, judge)

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
        grid_png(rows_for([n for n in contents if n in J.SKIMAGE_HELD_OUT]), Path(a.card_png), a.size)
        print(f"wrote {a.card_png}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"size": a.size, "pairs": n_pairs, "contents": list(contents),
                                            "styles": list(styles), "judge": J.JUDGE, "protocols": protocols,
                                            "steps": steps, "table": table, "per_pair": per}, indent=2) + "\n")


if __name__ == "__main__":
    main()
