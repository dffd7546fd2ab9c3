"""Train the three CIFAR-10 generators with their published recipes on a CUDA machine within a wall budget,
evaluate them by the published protocol (fid50k_train) and write their Hub-repo folders under --out.

    python bench/gpu_cifar10.py --data ../shared/data/cifar10-jpeg-q75 --out out/gpu --budget-s 480

Recipes (the ones the cards compare with): DCGAN, Radford et al. 2016 (`dcgan`, its default recipe: Adam 2e-4,
beta1 0.5, batch 128); WGAN-GP, Gulrajani et al. 2017 (`wgan-gp --recipe reference`: n_critic 5, lambda 10,
Adam 1e-4 betas (0.5, 0.9)); SN-GAN, Miyato et al. 2018's standard CNN (`sngan --recipe cnn`: hinge, n_dis 1,
setting C, as pytorch-gan-collections' CIFAR-10 CNN run). `--ema 0.999` adds an EMA of the generator (stated
in the card); `--init-from-cards` continues each card in cards/zoo that has its discriminator
(training_state.safetensors) instead of starting afresh, so a GPU stretch adds to the CPU ones; a card
without one is trained from scratch (a fresh critic made every CPU continuation worse: docs/training.md).

The budget is split: the evaluation (50k samples and the train statistics, fp32) is reserved first from
--eval-s, the rest goes to training in proportion to --weights. Each training stops cleanly at its share
(`zoo train --minutes`: checkpoint, export). Prints a table and writes OUT/summary.json. Runs on the CPU too
with --device cpu (for a dry run with tiny budgets), where it is slow.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODELS = {
    # name: (architecture, recipe, --set values)
    "dcgan.cifar10": ("dcgan", None, ["image_size=32"]),
    "wgan-gp.cifar10": ("wgan-gp", "reference", ["net=dcgan", "image_size=32", "nc=3"]),
    "sngan.cifar10": ("sngan", "cnn", ["net=cnn"]),
}
# w86763777/pytorch-gan-collections' README (CNN models, 50k samples vs the training set's statistics)
PUBLISHED_FID = {"dcgan.cifar10": 42.72, "wgan-gp.cifar10": 19.83, "sngan.cifar10": 17.81}


def zoo_cmd() -> list[str]:
    return [sys.executable, "-m", "zoo.cli"]


def train_command(name: str, data: str, out: Path, minutes: float, device: str, ema: float | None,
                  init_from: Path | None, precision: str) -> list[str]:
    arch, recipe, sets = MODELS[name]
    folder = out / name.replace(".", "-")
    cmd = zoo_cmd() + ["train", arch, "--data", data, "--dataset", "cifar10", "--out", str(folder),
                       "--run-dir", str(out / "runs" / name), "--steps", "100000", "--minutes", f"{minutes:.2f}",
                       "--device", device, "--precision", precision, "--channels-last", "--no-progress",
                       "--sample-every", "2000", "--checkpoint-every", "2000"]
    if recipe:
        cmd += ["--recipe", recipe]
    for s in sets + ([f"ema={ema}"] if ema else []):
        cmd += ["--set", s]
    if init_from is not None and (init_from / "training_state.safetensors").exists():
        cmd += ["--init-from", str(init_from)]
    elif init_from is not None:
        # a card without training_state.safetensors has no discriminator: continuing it with a fresh one
        # made every CIFAR-10 continuation on the CPU worse (docs/training.md, 2026-12-06, critic_warmup
        # included), and on a GPU the budget retrains the CPU's steps many times over: start afresh
        print(f"{name}: {init_from} has no training_state.safetensors (no discriminator): trained from scratch",
              flush=True)
    return cmd


def eval_command(folder: Path, data: str, device: str, n: int) -> list[str]:
    return zoo_cmd() + ["eval", str(folder), "--data", data, "--protocol", "fid50k-train", "--device", device,
                        "--write"] + ([] if n == 50_000 else ["-n", str(n)])


def run(cmd: list[str], log: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    print("$", shlex.join(cmd), flush=True)
    with open(log, "a") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    return rc, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="the CIFAR-10 folder (JPEG zip or python tarball)")
    ap.add_argument("--out", required=True, type=Path, help="folders, runs, logs and summary.json go here")
    ap.add_argument("--budget-s", type=float, default=480, help="wall seconds for everything (training + eval)")
    ap.add_argument("--eval-s", type=float, default=150, help="seconds reserved for the three evaluations")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--weights", nargs="+", type=float, default=None,
                    help="share of the training time per model (default: 1 dcgan, 2 wgan-gp, 2 sngan)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="bf16", choices=["bf16", "fp32"], help="training precision")
    ap.add_argument("--ema", type=float, default=None, help="EMA decay of the generator (e.g. 0.999)")
    ap.add_argument("--init-from-cards", action="store_true", help="continue from cards/zoo/<name>")
    ap.add_argument("--eval-samples", type=int, default=50_000)
    args = ap.parse_args()

    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("no CUDA device here: pass --device cpu for a dry run")
    t_start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "log.txt"
    default_weights = {"dcgan.cifar10": 1.0, "wgan-gp.cifar10": 2.0, "sngan.cifar10": 2.0}
    weights = args.weights or [default_weights[m] for m in args.models]
    if len(weights) != len(args.models):
        sys.exit("--weights needs one number per model")
    train_s = max(args.budget_s - args.eval_s, 30.0)
    summary: dict[str, dict] = {}
    for name, w in zip(args.models, weights):
        share = train_s * w / sum(weights)
        # the process start, data loading and export take time outside the loop's budget
        minutes = max((share - 25.0) / 60.0, 0.2)
        init = ROOT / "cards/zoo" / name.replace(".", "-") if args.init_from_cards else None
        rc, secs = run(train_command(name, args.data, args.out, minutes, args.device, args.ema, init,
                                     args.precision), log)
        summary[name] = {"train_rc": rc, "train_s": round(secs, 1)}
    for name in args.models:
        folder = args.out / name.replace(".", "-")
        if summary[name]["train_rc"] != 0 or not (folder / "config.json").exists():
            continue
        rc, secs = run(eval_command(folder, args.data, args.device, args.eval_samples), log)
        cfg = json.loads((folder / "config.json").read_text())
        m = cfg.get("metrics", {})
        key = "fid50k_train" if args.eval_samples == 50_000 else next(
            (k for k in m if k.startswith("fid") and k.endswith("_train")), "")
        summary[name].update(eval_rc=rc, eval_s=round(secs, 1), steps=cfg["training"]["steps"],
                             fid=m.get(key), key=key, baseline=m.get(f"{key}_real_baseline"),
                             published=PUBLISHED_FID[name])
    summary["_"] = {"wall_s": round(time.perf_counter() - t_start, 1), "device": args.device,
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "argv": sys.argv[1:]}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'model':18s} {'steps':>7s} {'train s':>8s} {'FID':>8s} {'baseline':>8s} {'published':>9s}")
    for name in args.models:
        s = summary[name]
        fid = f"{s['fid']:.2f}" if s.get("fid") is not None else "-"
        base = f"{s['baseline']:.2f}" if s.get("baseline") is not None else "-"
        print(f"{name:18s} {s.get('steps', '-')!s:>7s} {s['train_s']:8.0f} {fid:>8s} {base:>8s} "
              f"{s.get('published') or '-'!s:>9s}")
    print(f"wall {summary['_']['wall_s']} s; {args.out}/summary.json")


if __name__ == "__main__":
    main()
