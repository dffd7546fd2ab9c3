"""Writing a trained generator as a Hub-repo folder: config.json, model.safetensors, README.md, samples.png.

config.json holds everything the card says (architecture, config, recipe,
training run, metrics, an optional ``published`` number with its source and
``notes``), so the card can be re-rendered after `zoo eval` adds or refreshes
metrics. The card is a :class:`zoo.card_writer.Card` (:func:`card_content`);
the architecture's paper and reference code come from its Architecture record.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import save_file

from ..cards.writer import Card, Citation, Metric, Result, SampleGrid, Training, generator_snippet, render, rows, write
from ..images import save_grid
from .data import KNOWN_SHA256

if TYPE_CHECKING:  # pragma: no cover
    from ..registry import Architecture

DATASET_INFO: dict[str, dict[str, str]] = {
    "mnist": {
        "title": "MNIST",
        "hub_id": "ylecun/mnist",
        "licence": "no licence stated on the original page; redistributors commonly cite CC BY-SA 3.0",
        "cite": "LeCun, Cortes & Burges, The MNIST database of handwritten digits, 1998.",
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "hub_id": "zalando-datasets/fashion_mnist",
        "licence": "MIT (Zalando SE)",
        "cite": "Xiao, Rasul & Vollgraf, Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine "
        "Learning Algorithms, arXiv:1708.07747, 2017.",
    },
    "cifar10": {
        "title": "CIFAR-10",
        "hub_id": "uoft-cs/cifar10",
        "licence": "no licence stated by the authors",
        "cite": "Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009.",
    },
}

# the raw generator and the discriminator of a run (prefixes generator. and discriminator.), beside the
# published generator, so that a later run continues from the folder (zoo train --init-from)
TRAINING_STATE_FILE = "training_state.safetensors"


def repo_name(arch: str, dataset: str) -> str:
    return f"{arch}-{dataset}"


def model_name(arch: str, dataset: str) -> str:
    return f"{arch}.{dataset}"


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in module.state_dict().items()}


def write_hub_folder(G: torch.nn.Module, out: Path, summary: dict[str, Any],
                     training_state: dict[str, torch.nn.Module] | None = None) -> Path:
    """Write ``out``/{model.safetensors, config.json, samples.png, README.md} for generator ``G``, and
    ``training_state.safetensors`` (each module of ``training_state`` under its name as a prefix) when given."""
    out.mkdir(parents=True, exist_ok=True)
    save_file(_cpu_state(G), str(out / "model.safetensors"), metadata={"format": "pt"})
    if training_state:
        both = {f"{name}.{k}": v for name, m in training_state.items() for k, v in _cpu_state(m).items()}
        save_file(both, str(out / TRAINING_STATE_FILE), metadata={"format": "pt"})
    config = {
        "architecture": summary["architecture"],
        "config": summary["config"],
        "recipe_name": summary.get("recipe_name", ""),
        "recipe": summary["recipe"],
        "dataset": summary["dataset"],
        "training": {k: v for k, v in summary.items() if k not in ("architecture", "config", "recipe", "recipe_name", "dataset")},
        "metrics": {},
    }
    if training_state:
        config["training_state"] = {"file": TRAINING_STATE_FILE, "modules": sorted(training_state)}
    old = out / "config.json"
    if old.exists():  # keep metrics measured before, if the weights are the same run's
        prev = json.loads(old.read_text())
        if prev.get("training", {}).get("steps") == config["training"]["steps"] and prev.get("config") == config["config"]:
            config["metrics"] = prev.get("metrics", {})
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    was = G.training
    G.eval()
    save_grid(G.sample(64, seed=0), out / "samples.png", nrow=8, scale=2)
    G.train(was)
    write(card_content(config), out)
    return out


def publish_raw_generator(out: Path) -> None:
    """Make a folder publish its raw generator instead of the EMA that training also kept (for a run where the
    EMA scored worse): ``model.safetensors`` becomes ``training_state``'s generator (which leaves that file, not to be
    published twice), config.json says
    ``"published_generator": "raw"`` and drops the metrics (they were the EMA's), the grid and card are
    re-written. Measure it again with `zoo eval FOLDER --write`."""
    from safetensors.torch import load_file

    from ..errors import ConfigError
    from ..loading import load_folder

    out = Path(out)
    state_file = out / TRAINING_STATE_FILE
    raw = ({k.removeprefix("generator."): v for k, v in load_file(str(state_file)).items()
            if k.startswith("generator.")} if state_file.is_file() else {})
    if not raw:
        raise ConfigError(f"{out}: no raw generator in {TRAINING_STATE_FILE}; nothing to publish instead of the EMA")
    save_file(raw, str(out / "model.safetensors"), metadata={"format": "pt"})
    rest = {k: v for k, v in load_file(str(state_file)).items() if not k.startswith("generator.")}
    save_file(rest, str(state_file), metadata={"format": "pt"})  # the raw generator is model.safetensors now
    config = json.loads((out / "config.json").read_text())
    config["published_generator"] = "raw"
    if config.get("training_state"):
        config["training_state"]["modules"] = sorted({k.split(".", 1)[0] for k in rest})
    config["metrics"] = {}
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_grid(load_folder(out).sample(64, seed=0), out / "samples.png", nrow=8, scale=2)
    write(card_content(config), out)


def slim_training_state(out: Path, dtype: str = "float16") -> int:
    """Shrink a folder's ``training_state`` before it is published: the raw generator is dropped (training
    continues from the published generator, as `zoo train --init-from` does when there is none) and the
    discriminator is stored in ``dtype`` (float16: about 3 significant digits, 2 bytes a number; training
    reads it back into float32). config.json records the dtype; the card is re-written. Every republished
    folder adds its files to the clone's history, so this keeps a continuable card at a third of the size.
    Returns the bytes saved."""
    from safetensors.torch import load_file

    from ..errors import ConfigError

    out = Path(out)
    state_file = out / TRAINING_STATE_FILE
    if not state_file.is_file():
        raise ConfigError(f"{out}: no {TRAINING_STATE_FILE} to slim")
    if dtype not in ("float16", "bfloat16", "float32"):
        raise ConfigError(f"slim_training_state: dtype {dtype!r} is not one of float16, bfloat16, float32")
    before = state_file.stat().st_size
    kept = {k: (v.to(getattr(torch, dtype)) if v.is_floating_point() else v).contiguous()
            for k, v in load_file(str(state_file)).items() if not k.startswith("generator.")}
    if not kept:
        raise ConfigError(f"{out}: {TRAINING_STATE_FILE} holds no discriminator; nothing worth keeping")
    save_file(kept, str(state_file), metadata={"format": "pt"})
    config = json.loads((out / "config.json").read_text())
    config["training_state"] = {**config.get("training_state", {"file": TRAINING_STATE_FILE}),
                                "modules": sorted({k.split(".", 1)[0] for k in kept}), "dtype": dtype}
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    write(card_content(config), out)
    return before - state_file.stat().st_size


def _clean_command(command: str, steps: int | None = None, lr_decay_end: int | None = None) -> str:
    """The training command without the options that do not change the weights; a run stopped by
    ``--minutes`` is given as the ``--steps`` it reached (the time budget depends on the machine).
    ``steps``: where the weights are; it replaces the command's ``--steps``. ``lr_decay_end``: where a
    linear learning-rate decay reaches zero; given as ``--lr-decay-end`` when the command leaves it to
    ``--steps`` (which the replacement would move)."""

    try:
        words = shlex.split(command)
    except ValueError:
        return command
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--run-dir", "--sample-every", "--checkpoint-every", "--minutes"):
            skip = True
            continue
        if w == "--no-progress" or w.startswith(("--run-dir=", "--sample-every=", "--checkpoint-every=", "--minutes=")):
            continue
        out.append(w)
    if steps is not None:  # the steps the weights are at (a time budget may have stopped the run early)
        if "--steps" in out and out.index("--steps") + 1 < len(out):
            out[out.index("--steps") + 1] = str(steps)
        else:
            out = [w for w in out if not w.startswith("--steps=")] + ["--steps", str(steps)]
        if lr_decay_end is not None and not any(w.startswith("--lr-decay-end") for w in out):
            out += ["--lr-decay-end", str(lr_decay_end)]
    return shlex.join(out)


def _decay_end(training: Mapping[str, Any]) -> int | None:
    """The step where the run's linear learning-rate decay reaches zero (None: a constant rate)."""
    sched = training.get("lr_schedule") or {}
    return int(sched["lr_decay_end"]) if sched.get("lr_schedule") == "linear-decay" else None


def _constant_rate_key(recipe: Mapping[str, Any], key: str) -> bool:
    """A recipe's decay keys, which say nothing under a constant learning rate (kept out of the card's table)."""
    return key in ("lr_schedule", "lr_decay_start", "lr_decay_end") and recipe.get("lr_schedule", "constant") == "constant"


def _architecture(name: str) -> Architecture | None:
    from ..plugins import get_host

    return get_host().registry.architectures.get(name)


def card_content(config: dict[str, Any]) -> Card:
    """What the card of a folder's config.json says (rendered by zoo.card_writer)."""
    arch, ds = config["architecture"], config["dataset"]
    record = _architecture(arch)
    info = DATASET_INFO.get(ds, {"title": ds, "hub_id": ds, "licence": "see the dataset", "cite": ""})
    tr = config["training"]
    rec = config["recipe"]
    name = model_name(arch, ds)
    metrics: dict[str, Any] = config.get("metrics", {}) or {}
    size = tr.get("image_size")
    cfg = config["config"]
    channels = cfg.get("nc", cfg.get("channels", ""))
    citation = (Citation.of(record, info["cite"]) if record is not None
                else Citation(arch, "", (info["cite"],) if info["cite"] else ()))

    summary = (
        f"A {arch.upper()} generator trained by the zoo on {info['title']} at {size}x{size} pixels, "
        f"{channels} channel(s), built from the `{arch}` architecture with config "
        f"`{json.dumps(cfg, sort_keys=True)}`. "
        + (f"`model.safetensors` holds the generator{_which_generator(config)} in float32; `{config['training_state']['file']}` holds the state training continues from "
           f"({', '.join(config['training_state']['modules'])}, under those prefixes"
           + (f", stored in {config['training_state']['dtype']}" if config["training_state"].get("dtype", "float32") != "float32" else "")
           + ("; the generator there is the raw, not averaged, one" if "generator" in config["training_state"]["modules"]
              else "; no raw generator: training continues from the published one")
           + "): `zoo train ... --init-from` reads it."
           if config.get("training_state") else
           "This repository holds the generator only (float32 safetensors); the discriminator was used for "
           "training and is not published.")
    )
    resized = (f", resized to {size}x{size} (bilinear, antialiased)" if size and ds != "cifar10" else "")
    training_data = (
        f"{info['title']}, train split ({info['licence']}). Images scaled to [-1, 1]{resized}.\n"
        f"{tr.get('dataset_note', '')}".rstrip()
        + "\n\n" + rows([(n, f"`{h}`") for n, h in tr.get("dataset_files", {}).items()], ("file", "sha256"))
    )
    training = Training(
        f"Trained with the zoo's training loop (`zoo.training`), recipe `{config.get('recipe_name', '')}`:\n\n"
        + rows([(k, v) for k, v in rec.items() if v not in (None, "") and not _constant_rate_key(rec, k)],
               ("setting", "value")),
        command=_clean_command(tr.get("command", ""), tr.get("steps"), _decay_end(tr)),
        command_note="Command (reproduces these weights on the same machine and thread count; `--data` is the "
        "folder with the dataset files):",
        details=(
            f"Seed {tr.get('seed')}, {tr.get('steps')} generator steps (each with {rec.get('n_critic', 1)} "
            f"discriminator step(s)) at a global batch of {tr.get('global_batch')}, wall time "
            f"{tr.get('wall_time_s')} s on {tr.get('machine')}, {tr.get('world_size', 1)} process(es) (a machine "
            "shared with other jobs: the wall time is an upper bound). Final logged losses: "
            f"{json.dumps(tr.get('final_losses', {}))}."
        ),
    )
    notes = config.get("notes")
    return Card(
        name=name,
        title=name,
        summary=summary,
        architecture=arch,
        sample_grid=SampleGrid("samples.png", f'64 samples, `zoo.load("{name}").sample(64, seed=0)`.'),
        license="mit",
        tags=tuple(dict.fromkeys(("gan", arch, "image-generation", "unconditional-image-generation", ds, "zoo"))),
        datasets=(info["hub_id"],),
        pipeline_tag="unconditional-image-generation",
        intended_use=(
            f"Research and teaching: a small, reproducible baseline for the {arch} recipe on {info['title']}, "
            "unconditional sampling, and a reference point for metrics and mode-collapse studies. Not for "
            "producing data that is passed off as real."
        ),
        how_to_use=generator_snippet(name),
        training_data=training_data,
        training=training,
        evaluation=_evaluation_text(name, info, metrics, config.get("published")),
        results=_results(metrics, config.get("published"), info),
        notes=tuple([notes] if isinstance(notes, str) else list(notes or ())),
        limitations=(
            f"Trained briefly {_where_trained(tr)}: not state of the art, and some samples are malformed; look at "
            f"the grid before relying on it. {_comparability_text(metrics, info)}"
        ),
        citation=citation,
    )


def _which_generator(config: dict[str, Any]) -> str:
    """What the published generator is, when training kept an EMA of its weights."""
    ema = config["recipe"].get("ema")
    if not ema:
        return ""
    if config.get("published_generator") == "raw":
        return (f" (the raw one: training also kept an exponential moving average of its weights, decay {ema}, "
                "which scored worse; see the notes)")
    return f" (the exponential moving average of its weights, decay {ema})"


def _where_trained(training: dict[str, Any]) -> str:
    """"on a CPU" or "on one GPU, NAME", from the machine line of the training summary."""
    machine = str(training.get("machine", ""))
    gpu = machine.split(", GPU ", 1)[1].strip() if ", GPU " in machine else ""
    if gpu:
        return f"on one GPU ({gpu}, {float(training.get('wall_time_s') or 0):,.0f} s of training)"
    return "on a CPU"


def render_card(config: dict[str, Any]) -> str:
    """The model card (Hugging Face format) for a folder's config.json."""
    return render(card_content(config))


def _results(metrics: dict[str, Any], published: dict[str, Any] | None, info: dict[str, str]) -> tuple[Result, ...]:
    """The model-index: what was measured here (with the protocol in each metric's name) and, when config.json
    has ``published``, the published number with its source (the Hub's field for that)."""
    if not metrics:
        return ()
    proto = metrics.get("protocol", "")
    measured = []
    for key, label in (("fid", "FID"), ("kid", "KID"), ("fid_real_baseline", "FID"), ("kid_real_baseline", "KID")):
        if key not in metrics:
            continue
        what = (
            f"{label} of {info['title']} train vs test (real-vs-real baseline), {proto}"
            if "baseline" in key
            else f"{label} of {metrics.get('n_samples')} generated samples vs {info['title']} test, {proto}"
        )
        measured.append(Metric(label.lower(), float(metrics[key]), what))
    out = [Result("unconditional-image-generation", info["title"], info["hub_id"],
                  str(metrics.get("reference_split", "test")), tuple(measured),
                  task_name="Unconditional image generation")]
    train_keys = train_protocol_keys(metrics)
    if train_keys:
        out.insert(0, Result("unconditional-image-generation", info["title"], info["hub_id"], "train", tuple(
            Metric(key, float(metrics[key]), str(metrics.get(f"{key}_protocol", ""))) for key in train_keys),
            task_name="Unconditional image generation"))
    if published:
        quoted = tuple(Metric(key, float(published[key]), f"published {key.upper()}, {published.get('protocol', '')}")
                       for key in ("fid", "kid", "is") if key in published)
        out.append(Result("unconditional-image-generation", info["title"], info["hub_id"],
                          str(published.get("split", "train")), quoted, source_name=str(published["source"]),
                          source_url=published.get("url") or None, protocol=str(published.get("protocol", ""))))
    return tuple(r for r in out if r.metrics)


def _uses_inception(metrics: dict[str, Any]) -> bool:
    return str(metrics.get("extractor", "")).startswith("zoo inception.fid")


def _comparability_text(metrics: dict[str, Any], info: dict[str, str]) -> str:
    if _uses_inception(metrics):
        return (
            "FID/KID here use the standard FID Inception (`inception.fid`), so they stand beside published "
            "Inception FIDs, with two differences stated in the protocol: the sample count and reference "
            f"split (published tables often use 50k samples against the train set), and the data "
            f"({info['title']} as held here; the project's CIFAR-10 copy is JPEG q75, which moves FID by itself: "
            "compare the real-vs-real baseline)."
        )
    return (
        f"FID/KID here use a small classifier trained by the zoo on {info['title']} as the feature "
        "extractor, not Inception, so they are comparable only with numbers computed by the same protocol "
        "(`zoo eval`), never with published Inception FIDs."
    )


def train_protocol_keys(metrics: dict[str, Any]) -> list[str]:
    """The FID figures measured against the whole train split's statistics (``fid50k_train`` is the published
    protocol; ``fid12_train_bf16`` and the like are the same computation at another sample count or
    precision), the published one first."""
    keys = [k for k in metrics if f"{k}_protocol" in metrics and k.startswith("fid") and "_train" in k]
    return sorted(keys, key=lambda k: (k != "fid50k_train", k))


def _train_protocol_text(name: str, metrics: dict[str, Any], published: dict[str, Any] | None) -> str:
    lines = []
    for key in train_protocol_keys(metrics):
        base = metrics.get(f"{key}_real_baseline")
        cmd = str(metrics.get(f"{key}_command", ""))
        if cmd.startswith("zoo eval "):
            words = shlex.split(cmd)
            cmd = shlex.join(["zoo", "eval", name, *words[3:]])
        pub = (f" | {published['fid']} ({published.get('source', '')})"
               if published and published.get("fid") is not None and key == "fid50k_train" else " | n/a")
        lines.append(
            f"| `{key}` | {float(metrics[key]):.4g} | "
            f"{f'{float(base):.4g}' if base is not None else 'not measured'}{pub} | `{cmd}` |")
    if not lines:
        return ""
    first = train_protocol_keys(metrics)[0]
    return (
        "**FID against the whole train split** (" + str(metrics.get(f"{first}_protocol", "")) + "). With 50,000 "
        "samples this is the published protocol, stored as `fid50k_train` (in fp32, or in bf16, which was checked "
        "to keep this FID within 0.04% of fp32's at 10,000 samples): the figure to compare with published tables, "
        "which used the original images where this copy is JPEG q75 (compare the real-vs-real baselines); any "
        "other key below is the same computation at another sample count, not comparable with them.\n\n"
        "| key | FID | real-vs-real baseline (test split vs the same train statistics) | published FID | command |\n"
        "|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
    )


def _evaluation_text(name: str, info: dict[str, str], metrics: dict[str, Any],
                     published: dict[str, Any] | None = None) -> str:
    if not metrics:
        return "Not evaluated yet: run `zoo eval " + name + " --data DIR` to measure FID and KID."
    head = _train_protocol_text(name, metrics, published)
    if "fid" not in metrics:
        return head.rstrip()
    rows = []
    for key, label in (("fid", "FID"), ("kid", "KID")):
        if key in metrics:
            base = metrics.get(f"{key}_real_baseline")
            std = metrics.get(f"{key}_std")
            bstd = metrics.get(f"{key}_std_real_baseline")
            rows.append(
                f"| {label} | {float(metrics[key]):.4g}{f' ± {float(std):.2g}' if std is not None else ''} | "
                f"{float(base) if base is not None else float('nan'):.4g}"
                f"{f' ± {float(bstd):.2g}' if bstd is not None else ''} |"
            )
    cmd = str(metrics.get("command", ""))
    by_name = f"zoo eval {name} --data DIR"
    if cmd.startswith("zoo eval "):  # the recorded command, with the registered name for the folder
        words = shlex.split(cmd)
        by_name = shlex.join(["zoo", "eval", name, *words[3:]])
    return head + (
        f"Measured with `{by_name}` (the same on the folder: "
        f"`{cmd or 'zoo eval FOLDER --data DIR'}`): {metrics.get('protocol', '')}.\n\n"
        f"| metric | this generator ({metrics.get('n_samples')} samples vs test) | real-vs-real baseline (train vs test) |\n"
        "|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Feature extractor: {metrics.get('extractor', '')}. KID is in the units of these features"
        f"{'' if _uses_inception(metrics) else ' (not Inception' + chr(39) + 's)'}, ± its standard deviation over "
        "the subsets. Lower is better; the baseline is the floor a perfect generator would reach with this "
        "sample count."
    )


__all__ = ["write_hub_folder", "render_card", "card_content", "KNOWN_SHA256", "DATASET_INFO"]
