"""FID feature-extraction throughput: the zoo's Inception (fp32; bf16 + channels_last) against
pytorch-fid's InceptionV3([3]) and torch-fidelity's FeatureExtractorInceptionV3 (the network
torchmetrics' FID uses), in one process on the same images, and the FID each path gives.

    python bench/bench_fid.py --data-root ../shared/data -n 1000 [--threads 1]

Neither baseline's own weight download is reachable here, so both are loaded with the zoo's
converted tensors (inception.fid, from the TensorFlow 2015-12-05 graph, which is also what
pytorch-fid's pt_inception-2015-12-05 file and torch-fidelity's file hold): the comparison is of the
code paths. pytorch-fid's loading is given the zoo's state dict (its module names are the zoo's, plus
a zero 2048->1008 fc that the pool3 features do not use); before timing, its network is checked
against the zoo's fp32 on the same prepared 299x299 input (the mapping must agree to ~1e-4
relative). In the timed run each baseline runs as its users run it: pytorch-fid on [0, 1] floats
with its own resize (F.interpolate, half-pixel) and scaling, torch-fidelity on uint8 with its
TF1-style resize; so pytorch-fid's FID differs from the zoo's by its resize, not by its weights.

The paths are timed batch by batch in turn (rotating order) after one warm-up batch each, so that a
change of load on a shared machine falls on all of them alike. Prints the machine, images/s per
path, the ratios against pytorch-fid and torch-fidelity, and FID(test[:n] vs train[:n]) per path
with its relative difference from the zoo's fp32 (a path used for the zoo's figures must stay
within 0.5%).

Needs the metrics extra (torchmetrics, torch-fidelity) and pytorch-fid, a bench-only dependency:
    pip install --no-deps -c constraints.txt pytorch-fid
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zoo.machine import describe as machine  # noqa: E402

PYTORCH_FID_INSTALL = "pip install --no-deps -c constraints.txt pytorch-fid  (pinned there; its deps are the zoo's)"


def fid_of(a: torch.Tensor, b: torch.Tensor) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance

    from zoo.metrics.features import Precomputed

    m = FrechetInceptionDistance(feature=Precomputed(a.shape[1]))
    m.update(a.double(), real=True)
    m.update(b.double(), real=False)
    return float(m.compute())


def rel_feature_diff(f: torch.Tensor, ref: torch.Tensor) -> tuple[float, float]:
    """(median, max) over images of ||f - ref|| / ||ref||."""
    r = (f - ref).norm(dim=1) / ref.norm(dim=1)
    return float(r.median()), float(r.max())


def build_pytorch_fid(state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """pytorch-fid's InceptionV3([3]) (use_fid_inception=True) with ``state`` where its download would be.

    fid_inception_v3() loads the pt_inception-2015-12-05 file strictly into a torchvision Inception3
    whose Mixed blocks are replaced by the FID ones; that file's names are torchvision's, which the
    zoo's inception.fid follows, so the zoo's tensors load under the same names (a strict load: a
    missing or extra name fails), with a zero fc for the logits the pool3 features do not use.
    """
    import pytorch_fid.inception as pfi

    full = dict(state)
    full["fc.weight"] = torch.zeros(1008, 2048)
    full["fc.bias"] = torch.zeros(1008)
    with mock.patch.object(pfi, "load_state_dict_from_url", lambda *a, **k: full):
        net = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    return net.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", required=True, help="folder with cifar10-jpeg-q75/ (or the CIFAR-10 files)")
    ap.add_argument("-n", type=int, default=1000, help="images per split")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    try:
        import pytorch_fid  # noqa: F401
    except ImportError:
        sys.exit(f"bench_fid.py compares with pytorch-fid, which is not installed: {PYTORCH_FID_INSTALL}")
    from importlib.metadata import version

    from safetensors.torch import load_file
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from tqdm import tqdm

    import zoo
    from zoo.loading import weights_path
    from zoo.training.data import load_dataset, resolve_data_dir

    root = resolve_data_dir(args.data_root, "cifar10")
    test = load_dataset("cifar10", root, "test").images[: args.n]
    train = load_dataset("cifar10", root, "train").images[: args.n]
    both = torch.cat([test, train])

    ours32 = zoo.load("inception.fid").eval()
    ours32.precision = "fp32"
    ours16 = copy.deepcopy(ours32).to(memory_format=torch.channels_last)  # its own copy: fp32 stays NCHW
    ours16.precision = "bf16"
    state = load_file(str(weights_path(zoo.model_info("inception.fid").weights)))

    fstate = dict(state)
    fstate["fc.weight"] = torch.zeros(1008, 2048)  # not in the zoo's file; unused for pool3 features
    fstate["fc.bias"] = torch.zeros(1008)
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(fstate, f"{tmp}/w.pth")
        fidelity = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=f"{tmp}/w.pth")
    fidelity.eval()
    pfid = build_pytorch_fid(state)

    print(f"machine: {machine()}")
    print(f"pytorch-fid {version('pytorch-fid')}, torch-fidelity {version('torch-fidelity')}, "
          f"torchmetrics {version('torchmetrics')}; {len(both)} CIFAR-10 images (test[:{args.n}] + train[:{args.n}], "
          f"uint8 32x32 -> 299x299), batch {args.batch}")

    # the mapping: pytorch-fid's network on the zoo's prepared input (its resize and scaling off)
    few = both[:8]
    with torch.inference_mode():
        x = ours32.prepare(few)
        ref = ours32.features(x).double()
        pfid.resize_input, pfid.normalize_input = False, False
        theirs = pfid(x)[0].flatten(1).double()
        pfid.resize_input, pfid.normalize_input = True, True
    scale = float(ref.abs().max())
    med, worst = rel_feature_diff(theirs, ref)
    maxabs = float((theirs - ref).abs().max())
    ok = maxabs / scale <= 1e-4
    print(f"weights check, pytorch-fid InceptionV3([3]) with the zoo's tensors vs zoo fp32, same prepared input, "
          f"{len(few)} images: max |diff| {maxabs:.3g} = {maxabs / scale:.2e} of the largest feature; "
          f"per-image ||diff||/||f|| median {med:.2e}, max {worst:.2e}  {'OK (<= 1e-4)' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit("the zoo's tensors do not reproduce the zoo's features in pytorch-fid's network: mapping wrong")

    def run_pfid(imgs: torch.Tensor) -> torch.Tensor:
        return pfid(imgs.float() / 255)[0].flatten(1)  # as its users feed it: [0, 1] floats, any size

    paths = {
        "zoo inception.fid fp32": ours32,
        "zoo inception.fid bf16 + channels_last": ours16,
        "torch-fidelity FeatureExtractorInceptionV3": lambda imgs: fidelity(imgs)[0],
        "pytorch-fid InceptionV3([3])": run_pfid,
    }
    labels = list(paths)
    feats: dict[str, list[torch.Tensor]] = {k: [] for k in labels}
    secs = dict.fromkeys(labels, 0.0)
    starts = list(range(0, len(both), args.batch))
    with torch.inference_mode():
        for fn in paths.values():  # warm-up, untimed
            fn(both[: args.batch])
        bar = tqdm(total=len(both) * len(labels), unit="img", desc="features, all paths", file=sys.stderr,
                   mininterval=0)
        for j, i in enumerate(starts):
            chunk = both[i : i + args.batch]
            for k in range(len(labels)):
                label = labels[(j + k) % len(labels)]
                t0 = time.perf_counter()
                out = paths[label](chunk)
                secs[label] += time.perf_counter() - t0
                feats[label].append(out.double())
                bar.set_postfix_str(label, refresh=False)
                bar.update(len(chunk))
        bar.close()
    f = {k: torch.cat(v) for k, v in feats.items()}
    rate = {k: len(both) / secs[k] for k in labels}
    fid = {k: fid_of(f[k][: args.n], f[k][args.n :]) for k in labels}
    ref_label = labels[0]
    print(f"\n{'path':44s} {'img/s':>7s} {'vs pytorch-fid':>15s} {'vs torch-fidelity':>18s} "
          f"{'FID':>9s} {'vs zoo fp32':>12s} {'feature diff (median, max rel.)':>32s}")
    for k in labels:
        med, worst = rel_feature_diff(f[k], f[ref_label])
        rel = (fid[k] - fid[ref_label]) / fid[ref_label] * 100
        print(f"{k:44s} {rate[k]:7.2f} {rate[k] / rate[labels[3]]:14.2f}x {rate[k] / rate[labels[2]]:17.2f}x "
              f"{fid[k]:9.4f} {rel:+11.3f}% {med:15.2e} {worst:15.2e}")
    print(f"\nFID(test[:{args.n}] vs train[:{args.n}]); 'vs zoo fp32' is (FID - FID_fp32) / FID_fp32; "
          "the feature difference is per image ||f - f_fp32|| / ||f_fp32||.")
    for k in labels[1:]:
        rel = abs(fid[k] - fid[ref_label]) / fid[ref_label] * 100
        note = "  (its own resize and scaling: not the TF graph's input)" if k == labels[3] else ""
        print(f"  {k:44s} FID {'within' if rel <= 0.5 else 'OUTSIDE'} 0.5% of the zoo's fp32 ({rel:.3f}%){note}")


if __name__ == "__main__":
    main()
