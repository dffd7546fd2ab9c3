"""FID feature-extraction throughput: the zoo's Inception (fp32, bf16 + channels_last) against
torch-fidelity's default extractor (FeatureExtractorInceptionV3, the network torchmetrics' FID uses),
in one process on the same images, and the FID agreement of every path with fp32.

    python bench/bench_fid.py --data-root ../shared/data -n 1000

Loads torch-fidelity's network from the zoo's converted weights (its own download is not reachable
here): same tensors, so the comparison is of the code paths. Prints images/s per path, the ratio
against torch-fidelity's, and FID(test[:n], train[:n]) per path with its relative difference from
the zoo's fp32 (a faster path must stay within 0.5%).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.machine import describe as machine  # noqa: E402


def fid_of(a: torch.Tensor, b: torch.Tensor) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance

    from zoo.metrics.features import Precomputed

    m = FrechetInceptionDistance(feature=Precomputed(a.shape[1]))
    m.update(a.double(), real=True)
    m.update(b.double(), real=False)
    return float(m.compute())


def timed(fn, images: torch.Tensor, batch: int) -> tuple[torch.Tensor, float]:
    out = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            out.append(fn(images[i : i + batch]).double())
    return torch.cat(out), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", required=True, help="folder with cifar10-jpeg-q75/ (or the CIFAR-10 files)")
    ap.add_argument("-n", type=int, default=1000, help="images per split")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import zoo
    from zoo.training.data import load_dataset, resolve_data_dir

    root = resolve_data_dir(args.data_root, "cifar10")
    test = load_dataset("cifar10", root, "test").images[: args.n]
    train = load_dataset("cifar10", root, "train").images[: args.n]
    both = torch.cat([test, train])

    ours = zoo.load("inception.fid")
    w = zoo.model_info("inception.fid").weights
    from zoo.loading import weights_path

    from safetensors.torch import load_file
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    state = load_file(str(weights_path(w)))
    state["fc.weight"] = torch.zeros(1008, 2048)  # not in the zoo's file; unused for pool3 features
    state["fc.bias"] = torch.zeros(1008)
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(state, f"{tmp}/w.pth")
        fidelity = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=f"{tmp}/w.pth")

    def run_fidelity(x: torch.Tensor) -> torch.Tensor:
        return fidelity(x)[0]

    def run_ours(precision: str):
        model = ours.to(memory_format=torch.channels_last) if precision == "bf16" else ours

        def f(x: torch.Tensor) -> torch.Tensor:
            model.precision = precision
            return model(x)

        return f

    print(f"machine: {machine()}; torch {torch.__version__}; {torch.get_num_threads()} threads; "
          f"{len(both)} CIFAR-10 images (uint8 32x32 -> 299x299), batch {args.batch}")
    paths = [("torch-fidelity FeatureExtractorInceptionV3 (fp32)", run_fidelity),
             ("zoo inception.fid fp32", run_ours("fp32")),
             ("zoo inception.fid bf16 + channels_last", run_ours("bf16"))]
    # warm-up on one batch each, then one timed pass each over the same images
    for _, fn in paths:
        timed(fn, both[: args.batch], args.batch)
    results = []
    for label, fn in paths:
        feats, dt = timed(fn, both, args.batch)
        results.append((label, feats, dt))
    base_rate = len(both) / results[0][2]
    ref_fid = None
    for label, feats, dt in results:
        rate = len(both) / dt
        fid = fid_of(feats[: args.n], feats[args.n :])
        if label.startswith("zoo inception.fid fp32"):
            ref_fid = fid
        print(f"{label:48s} {rate:7.2f} img/s  ratio vs torch-fidelity {rate / base_rate:5.2f}x  "
              f"FID(test {args.n} vs train {args.n}) {fid:.4f}")
    print("agreement with the zoo's fp32 FID:")
    for label, feats, _ in results:
        fid = fid_of(feats[: args.n], feats[args.n :])
        rel = abs(fid - ref_fid) / ref_fid * 100
        maxdiff = float((feats - results[1][1]).abs().max())
        print(f"  {label:48s} FID rel. diff {rel:.3f}%  max |feature diff| {maxdiff:.3g}  "
              f"{'OK (<= 0.5%)' if rel <= 0.5 else 'OUTSIDE 0.5%'}")


if __name__ == "__main__":
    main()
