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
(`zoo train --minutes`: checkpoint, export). `--parallel` trains the three at once, each for the whole
training budget: small 32 px GANs issue many small kernels, so three processes can share one GPU (one H100,
2026-12-06, 405 s of loop each, bf16, channels_last, EMA 0.999: DCGAN 33,026 steps, WGAN-GP 7,314, SN-GAN
11,297; run by run they would have shared those seconds; one alone was not timed).
`--eval-samples 0` trains only, for a machine that cannot hold the FID Inception beside the data (this
workplace's device takes 64 MiB of files a call: the JPEG CIFAR-10 zip is 59 MiB, inception.fid 83 MiB), and
the folders are evaluated where the Inception is (`zoo eval FOLDER --data ...`).
Prints a table and writes OUT/summary.json. Runs on the CPU too
with --device cpu (for a dry run with tiny budgets), where it is slow.
"""

from __future__ import annotations

import argparse
import json
import os
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


def run_all(commands: dict[str, list[str]], out: Path) -> dict[str, tuple[int, float]]:
    """Run the commands at once, each logging to OUT/train-<name>.log; their exit codes and wall seconds."""
    t0 = time.perf_counter()
    procs, files, done = {}, [], {}
    for name, cmd in commands.items():
        print("$", shlex.join(cmd), flush=True)
        f = open(out / f"train-{name}.log", "a")
        files.append(f)
        procs[name] = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    while len(done) < len(procs):
        for name, p in procs.items():
            if name not in done and p.poll() is not None:
                done[name] = (p.returncode, time.perf_counter() - t0)
                print(f"{name}: exit {p.returncode} after {done[name][1]:.0f} s", flush=True)
        time.sleep(1.0)
    for f in files:
        f.close()
    return {name: done[name] for name in commands}


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
    ap.add_argument("--parallel", action="store_true",
                    help="train the models at once, each for the whole training budget")
    ap.add_argument("--init-from-cards", action="store_true", help="continue from cards/zoo/<name>")
    ap.add_argument("--eval-samples", type=int, default=50_000,
                    help="samples for the FID against the training split; 0: train only (evaluate elsewhere)")
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
    commands = {}
    for name, w in zip(args.models, weights):
        # --parallel: every model trains for the whole budget at once (small GANs issue many small kernels, so
        # three processes can share one GPU), else the budget is split in proportion to --weights
        share = train_s if args.parallel else train_s * w / sum(weights)
        # the process start, data loading and export take time outside the loop's budget
        minutes = max((share - 25.0) / 60.0, 0.2)
        init = ROOT / "cards/zoo" / name.replace(".", "-") if args.init_from_cards else None
        commands[name] = train_command(name, args.data, args.out, minutes, args.device, args.ema, init,
                                       args.precision)
        if args.parallel:
            commands[name] += ["--threads", str(max(1, (os.cpu_count() or 3) // len(args.models)))]
    if args.parallel:
        for name, (rc, secs) in run_all(commands, args.out).items():
            summary[name] = {"train_rc": rc, "train_s": round(secs, 1)}
    else:
        for name, cmd in commands.items():
            rc, secs = run(cmd, log)
            summary[name] = {"train_rc": rc, "train_s": round(secs, 1)}
    for name in args.models:
        cfg_path = args.out / name.replace(".", "-") / "config.json"
        if cfg_path.exists():
            summary[name]["steps"] = json.loads(cfg_path.read_text())["training"]["steps"]
    for name in args.models if args.eval_samples else []:
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
