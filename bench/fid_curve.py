"""FID against training steps: evaluate the folders `zoo train` wrote at fixed step counts.

Each folder (a Hub-repo folder of one run, exported at N steps) is evaluated with
the same protocol as `zoo eval` (zoo.metrics.evaluate_generator: Inception
features for CIFAR-10, the test split as reference, cached), without the
real-vs-real baseline, which does not depend on the step. The points are
written as JSON (appended to what the file already holds, one point per step)
and drawn as a PNG line chart.

    python bench/fid_curve.py runs/cifar/wgan-gp/run/exports/step_* --data ../shared/data/cifar10-jpeg-q75 -n 2000 \
        --json runs/cifar/wgan-gp/fid_curve.json --png runs/cifar/wgan-gp/fid_curve.png

(`zoo train ... --export-every N` writes those folders, one every N steps.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image, ImageDraw


def folder_step(folder: Path) -> int:
    cfg = json.loads((folder / "config.json").read_text())
    return int(cfg["training"]["steps"])


def evaluate(folders: list[Path], data: str, n: int, threads: int | None) -> list[dict]:
    import torch

    from zoo.metrics.evaluate import dataset_of, evaluate_generator, load_generator_folder
    from zoo.metrics.fid import Protocol

    if threads:
        torch.set_num_threads(threads)
    points = []
    for folder in sorted(folders, key=folder_step):
        G, cfg = load_generator_folder(folder)
        m = evaluate_generator(G, dataset_of(cfg), data, Protocol(n_samples=n, seed=0), with_baseline=False)
        point = {"step": folder_step(folder), "fid": round(float(m["fid"]), 3), "kid": round(float(m["kid"]), 5),
                 "n_samples": n, "wall_time_s": cfg["training"].get("wall_time_s"), "protocol": m["protocol"]}
        print(json.dumps(point), flush=True)
        points.append(point)
    return points


def draw(points: list[dict], path: Path, title: str) -> None:
    """A plain line chart of FID (y) against steps (x), numbers at the points."""
    W, H, L, R, T, B = 640, 360, 60, 20, 40, 40
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    xs = [p["step"] for p in points]
    ys = [p["fid"] for p in points]
    x0, x1 = 0, max(xs) * 1.05
    y0, y1 = 0, max(ys) * 1.1

    def px(x: float, y: float) -> tuple[float, float]:
        return L + (x - x0) / (x1 - x0) * (W - L - R), H - B - (y - y0) / (y1 - y0) * (H - T - B)

    d.text((L, 12), title, fill="black")
    d.line([px(x0, y0), px(x1, y0)], fill="black")
    d.line([px(x0, y0), px(x0, y1)], fill="black")
    for k in range(6):  # y ticks
        y = y0 + (y1 - y0) * k / 5
        X, Y = px(x0, y)
        d.line([(X - 4, Y), (X, Y)], fill="black")
        d.text((8, Y - 6), f"{y:.0f}", fill="black")
    for k in range(6):  # x ticks
        x = x0 + (x1 - x0) * k / 5
        X, Y = px(x, y0)
        d.line([(X, Y), (X, Y + 4)], fill="black")
        d.text((X - 14, Y + 8), f"{x:.0f}", fill="black")
    d.text((W - R - 90, H - 16), "generator steps", fill="black")
    pts = [px(x, y) for x, y in zip(xs, ys)]
    if len(pts) > 1:
        d.line(pts, fill=(29, 78, 216), width=2)
    for (X, Y), y in zip(pts, ys):
        d.ellipse([X - 3, Y - 3, X + 3, Y + 3], fill=(29, 78, 216))
        d.text((X + 4, Y - 14), f"{y:.1f}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--data", required=True)
    ap.add_argument("-n", type=int, default=2000, help="generated samples per point")
    ap.add_argument("--json", type=Path, required=True, help="points file (points of other steps are kept)")
    ap.add_argument("--png", type=Path, default=None)
    ap.add_argument("--title", default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    old = json.loads(args.json.read_text()) if args.json.exists() else []
    done = {(p["step"], p["n_samples"]) for p in old}
    todo = [f for f in args.folders if (folder_step(f), args.n) not in done]
    points = old + evaluate(todo, args.data, args.n, args.threads)
    points.sort(key=lambda p: p["step"])
    args.json.write_text(json.dumps(points, indent=1) + "\n")
    if args.png:
        same_n = [p for p in points if p["n_samples"] == args.n]
        draw(same_n, args.png, args.title or f"Inception FID ({args.n} samples vs CIFAR-10 test) against steps")


if __name__ == "__main__":
    main()
