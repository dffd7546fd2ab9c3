"""Host speed, as ratios against named baselines, measured in one run.

(a) `zoo list` (a fresh process) over `python -c "import timm; timm.list_models()"`;
(b) a warm `zoo.load(NAME)` over the floor: construct the module, safetensors
    load_file, load_state_dict (torch already imported, file in the page cache);
(c) a warm `zoo.load(NAME)` over `timm.create_model(..., pretrained=True,
    pretrained_cfg_overlay=dict(file=...))` loading a local safetensors file of
    about the same size (the timm model whose parameter count is closest).

Each figure is a median of several runs. Usage:
    HF_HUB_OFFLINE=1 python bench/bench_host.py [--name dcgan.mnist] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="dcgan.mnist")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    zoo_bin = str(Path(sys.executable).with_name("zoo"))

    # (a) listing, each in a fresh process
    t_zoo_list = median_time(lambda: subprocess.run([zoo_bin, "list"], check=True, capture_output=True), args.repeat)
    t_timm_list = median_time(
        lambda: subprocess.run([sys.executable, "-c", "import timm; timm.list_models()"], check=True, capture_output=True),
        args.repeat,
    )

    import timm
    from safetensors.torch import load_file, save_file

    import zoo
    from zoo.repos.hub import find_file
    from zoo.machine import describe
    from zoo.loading import import_builder

    info = zoo.model_info(args.name)
    w = info.weights
    path = find_file(w.repo_id, w.filename, w.revision, sha256=w.sha256).path
    builder = import_builder(info.architecture)
    config = info.architecture.validate_config(dict(w.config))

    def floor() -> None:
        m = builder(**config)
        m.load_state_dict(load_file(str(path)))
        m.eval()

    zoo.load(args.name)  # warm: plugins loaded, file verified and in the page cache
    floor()
    t_floor = median_time(floor, args.repeat)
    t_zoo = median_time(lambda: zoo.load(args.name), args.repeat)

    # (c) timm with a local file of about the same size
    n_params = sum(t.numel() for t in load_file(str(path)).values())
    candidates = ["test_resnet.r160_in1k", "test_efficientnet.r160_in1k", "test_vit.r160_in1k",
                  "lcnet_035", "lcnet_050", "mobilenetv3_small_050", "resnet10t"]
    sizes = {}
    for c in candidates:
        try:
            sizes[c] = sum(p.numel() for p in timm.create_model(c, pretrained=False).parameters())
        except Exception:
            continue
    timm_name = min(sizes, key=lambda c: abs(sizes[c] - n_params))
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "timm.safetensors"
        save_file({k: v.contiguous() for k, v in timm.create_model(timm_name).state_dict().items()}, str(f))

        def timm_load() -> None:
            timm.create_model(timm_name, pretrained=True, pretrained_cfg_overlay=dict(file=str(f))).eval()

        timm_load()
        t_timm = median_time(timm_load, args.repeat)
        timm_bytes = f.stat().st_size

    print(f"machine: {describe()}")
    print(f"medians of {args.repeat} runs")
    print(f"(a) zoo list {t_zoo_list*1e3:.0f} ms / timm.list_models() {t_timm_list*1e3:.0f} ms "
          f"= {t_zoo_list / t_timm_list:.3f}  (target <= 0.25)")
    print(f"(b) zoo.load({args.name!r}) {t_zoo*1e3:.2f} ms / floor (construct + load_file + load_state_dict) "
          f"{t_floor*1e3:.2f} ms = {t_zoo / t_floor:.3f}  (target <= 1.15)")
    print(f"(c) zoo.load {t_zoo*1e3:.2f} ms ({w.size/1e6:.1f} MB, {n_params/1e6:.2f} M params) / "
          f"timm.create_model({timm_name!r}, file=...) {t_timm*1e3:.2f} ms ({timm_bytes/1e6:.1f} MB, "
          f"{sizes[timm_name]/1e6:.2f} M params) = {t_zoo / t_timm:.3f}")


if __name__ == "__main__":
    main()
