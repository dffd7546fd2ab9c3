"""zoo.fastconv against the plain layers, on the default ``adain``'s own layers, in one run.

For each chain of layers that ``zoo_adain`` runs as one group (a resolution's convolutions, ending at a
pooling or starting at an upsampling) and each image side N, three ways of computing the same numbers:

- ``plain``: the modules as training runs them (``ReflectionPad2d``, ``Conv2d``, ``ReLU``, ``MaxPool2d``,
  ``Upsample``), under ``torch.inference_mode()``;
- ``fused``: zoo.fastconv on the whole image (zero-padded conv with the ring recomputed, ReLU fused into
  oneDNN's convolution, upsampling folded into a transposed conv, pooling without indices);
- ``banded``: the same kernels in bands of rows (``run_banded``), so that a band's activations stay in cache.

bf16 and channels_last (what ``stylize`` runs on a CPU with native bf16), medians of --repeat rounds, the
three interleaved in each round (the machine is shared: interleaving spreads its noise over all).
Printed as times and ratios to ``plain``, with the machine's description; the last line per N is what
``zoo_adain.fastpath.forward_chain`` runs (each group banded where ``bands_pay`` says so, else fused).

    python bench/bench_fastconv.py [--sizes 512,1024] [--repeat 5] [--threads 1] [--model adain]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "plugins")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="512,1024")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", default="adain")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import zoo
    from zoo import fastconv as fc
    from zoo.machine import describe
    from zoo_adain import fastpath as am

    m = zoo.load(args.model).to(torch.bfloat16).to(memory_format=torch.channels_last).eval()
    enc_mods = [m.encoder.preprocess, *(x for st in m.encoder.stages for x in st.children())]
    dec_mods = [x for st in m.decoder.stages for x in st.children()]
    print(describe(), f"| {torch.get_num_threads()} thread(s), bf16, channels_last, median of {args.repeat}")
    print(f"{'N':>5} {'group':34s} {'plain ms':>9} {'fused ms':>9} {'banded ms':>10} {'fused/plain':>12} "
          f"{'banded/plain':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        x = torch.rand(1, 3, n, n).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
        totals = [0.0, 0.0, 0.0]
        chosen = 0.0
        for mods, start in ((enc_mods, x), (dec_mods, None)):
            groups = am.band_groups(mods)
            with torch.inference_mode():
                h = start if start is not None else m.encoder(x)
                for group, ops in groups:
                    plain = torch.nn.Sequential(*group)
                    ways = {
                        "plain": lambda h=h, plain=plain: _plain_forward(plain, h),
                        "fused": lambda h=h, group=group: am.run_stage_fast(group, h),
                        "banded": lambda h=h, ops=ops: fc.run_banded(ops, h),
                    }
                    times: dict[str, list[float]] = {k: [] for k in ways}
                    for f in ways.values():
                        f()  # warm-up
                    for _ in range(args.repeat):
                        for k, f in ways.items():
                            t0 = time.perf_counter()
                            f()
                            times[k].append(time.perf_counter() - t0)
                    med = [statistics.median(times[k]) * 1000 for k in ("plain", "fused", "banded")]
                    totals = [a + b for a, b in zip(totals, med)]
                    chosen += med[2] if am.bands_pay(ops, h) else med[1]
                    name = ",".join(o.kind for o in ops) + f" {tuple(h.shape[1:])}"
                    print(f"{n:5d} {name:34s} {med[0]:9.1f} {med[1]:9.1f} {med[2]:10.1f} {med[1] / med[0]:12.2f} "
                          f"{med[2] / med[0]:13.2f}")
                    h = plain(h)
        print(f"{n:5d} {'all groups':34s} {totals[0]:9.1f} {totals[1]:9.1f} {totals[2]:10.1f} "
              f"{totals[1] / totals[0]:12.2f} {totals[2] / totals[0]:13.2f}")
        print(f"{n:5d} {'as forward_chain runs them':34s} {totals[0]:9.1f} {chosen:9.1f} {'':10s} "
              f"{chosen / totals[0]:12.2f}   (banded where bands_pay)")


def _plain_forward(seq: torch.nn.Sequential, h: torch.Tensor) -> torch.Tensor:
    """The modules' own forwards (nn.Sequential's), bypassing the fast paths zoo_adain's modules take."""
    for mod in seq:
        if hasattr(mod, "pad") and hasattr(mod, "conv"):
            h = mod.conv(mod.pad(h))
            h = torch.relu_(h) if hasattr(mod, "relu") else h
        else:
            h = mod(h)
    return h


if __name__ == "__main__":
    main()
