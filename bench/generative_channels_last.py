"""channels_last versus contiguous (NCHW) for the GAN generators' ``sample``.

Prints, from one run, the median wall time of ``G.sample(n, seed=0)`` for each
generator in both memory formats and the ratio channels_last / contiguous
(below 1: channels_last is faster). Baseline: the same generator, same
weights, contiguous. Random weights (speed does not depend on them).

    .venv/bin/python bench/generative_channels_last.py [--n 256] [--repeat 5] [--threads 0]
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time

import torch

import zoo

CASES = [
    ("dcgan 64px nc=3", "dcgan", {"image_size": 64, "nc": 3}),
    ("dcgan 32px nc=1", "dcgan", {"image_size": 32, "nc": 1}),
    ("sngan cnn 32px", "sngan", {"net": "cnn"}),
    ("sngan resnet 32px", "sngan", {"net": "resnet"}),
]


def _median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave the default)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or platform.machine()
    print(f"machine: {platform.node()} {name}; torch {torch.__version__}; threads {torch.get_num_threads()}; "
          f"n={args.n}, median of {args.repeat}")
    for label, arch, cfg in CASES:
        g = zoo.build(arch, **cfg).to(dev).eval()
        g_cl = copy.deepcopy(g).channels_last()

        def run(m):
            def f():
                m.sample(args.n, seed=0)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
            return f

        t_base = _median_time(run(g), args.repeat)
        t_cl = _median_time(run(g_cl), args.repeat)
        diff = float((g.sample(8, seed=1) - g_cl.sample(8, seed=1)).abs().max())
        print(f"{label:20s} contiguous {args.n / t_base:8.1f} img/s  channels_last {args.n / t_cl:8.1f} img/s  "
              f"ratio {t_cl / t_base:5.2f}  max|diff| {diff:.1e}")


if __name__ == "__main__":
    main()
