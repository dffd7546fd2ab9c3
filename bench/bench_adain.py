"""AdaIN stylization speed: the zoo against a plain eager baseline, in one run.

The baseline is written here the way naoto0804/pytorch-AdaIN's test.py runs a
transfer: nn.Sequential VGG (cut after relu4_1, ``vgg[:31]``) and decoder in
float32, contiguous tensors, ``torch.no_grad()``, the content and the style both
encoded on every call, the AdaIN op as in its function.py, one content at a time
(test.py loops over a content folder). It gets the same weights (mapped back to
naoto0804's key layout by ``zoo_adain.convert.to_naoto0804``) and the same inputs.

The zoo's side is ``model.stylize(content, style, style_size=None)``, which uses
inference_mode, channels_last, bf16 where the CPU has native bf16 (precision="auto")
and computes the style's statistics once per batch. Cases:

  512x512, one content     the main figure (target: zoo >= 1.5x faster)
  256x256, one content
  batch of 8 contents, one style (zoo: one call with an (8, 3, H, W) batch; baseline:
                           test.py's loop, re-encoding the style for each content)
  512x512 with the style's statistics cached (StyleStats passed as style), reported
                           apart: it is not the same work as the baseline's

Each time is the median of --repeat runs, zoo and baseline interleaved (the machine
is shared; interleaving spreads the noise over both). Output agreement is printed:
the zoo in fp32 against the baseline, and bf16 against fp32 (max abs difference,
fraction of the output range, PSNR of the [0, 1]-clamped images).

Weights: --weights FOLDER (config.json + model.safetensors, e.g. cards/zoo/adain-zoo),
or, if absent, the full-size model with fixed random weights (seed 0, He-initialised,
the last decoder layer rescaled so that its output spreads over [0, 1]) (speed does not depend on
the values; agreement figures are more telling with trained weights).

    python bench/bench_adain.py [--weights DIR] [--repeat 5] [--threads N] [--batch-size-px 256]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import nn


def machine() -> str:
    from zoo.machine import describe
    from zoo_adain.stylize import bf16_native

    return f"{describe()}, native bf16: {bf16_native()}, load avg {os.getloadavg()[0]:.1f}"


# ------------------------------------------------------------------ the baseline
def _pc(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3)), nn.ReLU()]


def baseline_nets() -> tuple[nn.Sequential, nn.Sequential]:
    """naoto0804's net.vgg (to relu4_1, i.e. vgg[:31]) and net.decoder, as nn.Sequential."""
    pool = lambda: nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)  # noqa: E731
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    vgg = [nn.Conv2d(3, 3, (1, 1)), *_pc(3, 64), *_pc(64, 64), pool(), *_pc(64, 128), *_pc(128, 128), pool()]
    vgg += [*_pc(128, 256), *_pc(256, 256), *_pc(256, 256), *_pc(256, 256), pool(), *_pc(256, 512)]
    dec = [*_pc(512, 256), up(), *_pc(256, 256), *_pc(256, 256), *_pc(256, 256), *_pc(256, 128), up()]
    dec += [*_pc(128, 128), *_pc(128, 64), up(), *_pc(64, 64), nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(64, 3, (3, 3))]
    return nn.Sequential(*vgg), nn.Sequential(*dec)


def calc_mean_std(feat: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    n, c = feat.size()[:2]
    var = feat.view(n, c, -1).var(dim=2) + eps
    return feat.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)


def baseline_transfer(vgg: nn.Module, dec: nn.Module, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    cf, sf = vgg(content), vgg(style)
    size = cf.size()
    sm, ss = calc_mean_std(sf)
    cm, cs = calc_mean_std(cf)
    feat = (cf - cm.expand(size)) / cs.expand(size) * ss.expand(size) + sm.expand(size)
    feat = feat * alpha + cf * (1 - alpha)
    return dec(feat)


# ------------------------------------------------------------------ helpers
def load_model(weights: str | None):  # type: ignore[no-untyped-def]
    import zoo

    if weights:
        from zoo_adain.cli import load_model as load_folder

        model = load_folder(weights)
        depth = getattr(model.encoder, "depth", 4)
        if depth != 4:
            sys.exit(f"{weights} has AdaIN at relu{depth}_1; the baseline is naoto0804's relu4_1 network: "
                     "give depth-4 weights (e.g. adain.paper converted with `zoo convert adain`) or none")
        return model, f"trained weights from {weights}"
    torch.manual_seed(0)
    m = zoo.build("adain").eval()
    with torch.no_grad():  # He init so features carry the input; the output spread over [0, 1]
        for conv in (mod for mod in m.modules() if isinstance(mod, nn.Conv2d)):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            conv.bias.zero_()
        last = m.decoder.stages[-1].conv1_1.conv
        y = m(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64))
        last.weight.mul_(0.2 / y.std())
        last.bias.fill_(0.5)
    return m, "fixed random weights (seed 0), no trained weights given"


def paired_medians(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    for fn in fns.values():  # warm-up (allocator, oneDNN primitive caches, converted copy)
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def agreement(a: torch.Tensor, b: torch.Tensor) -> str:
    """a against the reference b: max abs diff, as a fraction of b's range, PSNR of clamped images."""
    d = (a.float() - b.float()).abs().max().item()
    rng = (b.max() - b.min()).item()
    mse = ((a.clamp(0, 1) - b.clamp(0, 1)) ** 2).mean().item()
    psnr = float("inf") if mse == 0 else 10 * torch.log10(torch.tensor(1.0 / mse)).item()
    return f"max |diff| {d:.2e} ({100 * d / max(rng, 1e-12):.2f}% of range {rng:.3f}), PSNR {psnr:.1f} dB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="a folder with config.json and model.safetensors")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--batch-size-px", type=int, default=256, help="image size for the batch-of-8 case")
    ap.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--images", nargs=2, metavar=("CONTENT", "STYLE"), default=None,
                    help="real content and style images (resized to 512x512) for the agreement figures")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (on a GPU the 512x512 line is also given as fps)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from zoo_adain.convert import to_naoto0804
    from zoo_adain.model import StyleStats

    model, what = load_model(args.weights)
    vgg, dec = baseline_nets()
    v_sd, d_sd = to_naoto0804(model.state_dict())
    vgg.load_state_dict(v_sd)
    dec.load_state_dict(d_sd)
    vgg.eval()
    dec.eval()
    dev = torch.device(args.device)
    model.to(dev)
    vgg.to(dev)
    dec.to(dev)
    print(f"machine: {machine()}" + (f", device {torch.cuda.get_device_name(dev)}" if dev.type == "cuda" else ""))
    print(f"weights: {what}; zoo precision={args.precision}, channels_last; repeat {args.repeat}, medians")

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def base(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            y = torch.cat([baseline_transfer(vgg, dec, c[i : i + 1], s) for i in range(c.shape[0])])
        sync()
        return y

    def ours(c: torch.Tensor, s: object, precision: str = args.precision) -> torch.Tensor:
        y = model.stylize(c, s, style_size=None, precision=precision)
        sync()
        return y

    g = torch.Generator().manual_seed(0)
    rows = []
    cases = [("512x512, 1 content", 1, 512), ("256x256, 1 content", 1, 256)]
    if not args.skip_batch:
        cases.append((f"{args.batch_size_px}x{args.batch_size_px}, batch of 8, one style", 8, args.batch_size_px))
    for label, n, px in cases:
        c = torch.rand(n, 3, px, px, generator=g).to(dev)
        s = torch.rand(1, 3, px, px, generator=g).to(dev)
        t = paired_medians({"baseline": lambda: base(c, s), "zoo": lambda: ours(c, s)}, args.repeat)
        rows.append((label, t["baseline"], t["zoo"]))
        print(f"{label:<34} baseline {t['baseline']:7.3f} s   zoo {t['zoo']:7.3f} s   ratio {t['baseline'] / t['zoo']:.2f}x", flush=True)
        if px == 512 and n == 1:
            if dev.type == "cuda":
                print(f"  fps at 512x512: zoo {1 / t['zoo']:.1f}, baseline {1 / t['baseline']:.1f} "
                      "(the paper's README: 15 fps on a Pascal Titan X)")
            ca, sa = c, s
            if args.images:
                from zoo.images import load_image, resize

                ca, sa = (resize(load_image(p)[0], (512, 512)).to(dev) for p in args.images)
                print(f"  agreement on {args.images[0]} styled by {args.images[1]}:")
            ref = base(ca, sa)
            print(f"  agreement zoo fp32 vs baseline : {agreement(ours(ca, sa, 'fp32'), ref.clamp(0, 1))}")
            print(f"  agreement zoo bf16 vs zoo fp32 : {agreement(ours(ca, sa, 'bf16'), ours(ca, sa, 'fp32'))}")
            with torch.inference_mode():
                stats = model.style_stats(s)
            stats = StyleStats(stats.mean.clone(), stats.std.clone())
            tc = paired_medians({"baseline": lambda: base(c, s), "zoo": lambda: ours(c, stats)}, args.repeat)
            print(f"{'512x512, style statistics cached':<34} baseline {tc['baseline']:7.3f} s   zoo {tc['zoo']:7.3f} s   "
                  f"ratio {tc['baseline'] / tc['zoo']:.2f}x  (not the same work: the zoo skips the style's encoding)")
            t32 = paired_medians({"baseline": lambda: base(c, s), "zoo": lambda: ours(c, s, "fp32")}, args.repeat)
            print(f"{'512x512, zoo forced to fp32':<34} baseline {t32['baseline']:7.3f} s   zoo {t32['zoo']:7.3f} s   "
                  f"ratio {t32['baseline'] / t32['zoo']:.2f}x", flush=True)
    print("\nsummary (baseline / zoo): " + ", ".join(f"{label}: {b / z:.2f}x" for label, b, z in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
