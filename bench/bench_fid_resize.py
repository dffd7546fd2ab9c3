"""The FID Inception's input resize: the zoo's TF1 bilinear resize (zoo_inception.model.resize_like_tf1)
against torch-fidelity's (interpolate_bilinear_2d_like_tensorflow1x, the one torchmetrics' FID runs), on
the same images in one process, with a check that the two agree bit for bit.

    python bench/bench_fid_resize.py [--size 32] [--batch 250] [--repeat 7] [--threads 1]

Each CIFAR-10 image is resized from 32 x 32 to 299 x 299 before the network; before the zoo's own was
rewritten, the resize took about an eighth of the bf16 feature extraction's time on one thread (a profile
in the seventeenth session; docs/training.md, "FID feature extraction speed"). The two are called in
turn, alternating which goes first; the medians are printed with their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.machine import describe as machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=32, help="input side (CIFAR-10: 32)")
    ap.add_argument("--batch", type=int, default=250, help="images a call (fid50k-train's batch: 250)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    from zoo_inception.model import INPUT_SIZE, resize_like_tf1

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (args.batch, 3, args.size, args.size), generator=g).float()

    def fidelity(t: torch.Tensor) -> torch.Tensor:
        return interpolate_bilinear_2d_like_tensorflow1x(t, size=(INPUT_SIZE, INPUT_SIZE), align_corners=False)

    def zoo_resize(t: torch.Tensor) -> torch.Tensor:
        return resize_like_tf1(t, INPUT_SIZE)

    paths = {"torch-fidelity": fidelity, "zoo": zoo_resize}
    same = torch.equal(fidelity(x), zoo_resize(x))
    times: dict[str, list[float]] = {k: [] for k in paths}
    for r in range(args.repeat):
        for k in (list(paths) if r % 2 == 0 else list(reversed(paths))):
            t0 = time.perf_counter()
            paths[k](x)
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"machine: {machine()}; {args.threads} thread(s); {args.batch} images {args.size}->{INPUT_SIZE}, "
          f"median of {args.repeat}")
    for k, v in med.items():
        print(f"  {k:15s} {v * 1000:8.1f} ms")
    print(f"torch-fidelity / zoo: {med['torch-fidelity'] / med['zoo']:.2f}x; bit-exact: {same}")
    if not same:
        sys.exit("the zoo's resize no longer agrees with torch-fidelity's bit for bit")


if __name__ == "__main__":
    main()
