"""Writing a trained generator as a Hub-repo folder: config.json, model.safetensors, README.md, samples.png.

config.json holds everything the card says (architecture, config, recipe,
training run, metrics), so the card can be re-rendered after `zoo eval`
adds or refreshes metrics.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from .data import KNOWN_SHA256
from ..images import save_grid

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

PAPERS = {
    "gan": "Goodfellow et al., Generative Adversarial Nets, NeurIPS 2014.",
    "dcgan": "Radford, Metz & Chintala, Unsupervised Representation Learning with Deep Convolutional "
    "Generative Adversarial Networks, ICLR 2016.",
    "wgan": "Arjovsky, Chintala & Bottou, Wasserstein GAN, ICML 2017.",
    "wgan-gp": "Gulrajani et al., Improved Training of Wasserstein GANs, NeurIPS 2017.",
    "sngan": "Miyato et al., Spectral Normalization for Generative Adversarial Networks, ICLR 2018.",
}


def repo_name(arch: str, dataset: str) -> str:
    return f"{arch}-{dataset}"


def model_name(arch: str, dataset: str) -> str:
    return f"{arch}.{dataset}"


def write_hub_folder(G: torch.nn.Module, out: Path, summary: dict[str, Any]) -> Path:
    """Write ``out``/{model.safetensors, config.json, samples.png, README.md} for generator ``G``."""
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in G.state_dict().items()}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architecture": summary["architecture"],
        "config": summary["config"],
        "recipe_name": summary.get("recipe_name", ""),
        "recipe": summary["recipe"],
        "dataset": summary["dataset"],
        "training": {k: v for k, v in summary.items() if k not in ("architecture", "config", "recipe", "recipe_name", "dataset")},
        "metrics": {},
    }
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
    (out / "README.md").write_text(render_card(config))
    return out


def _clean_command(command: str) -> str:
    """The training command without the options that do not change the weights."""

    try:
        words = shlex.split(command)
    except ValueError:
        return command
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--run-dir", "--sample-every", "--checkpoint-every"):
            skip = True
            continue
        if w == "--no-progress" or w.startswith(("--run-dir=", "--sample-every=", "--checkpoint-every=")):
            continue
        out.append(w)
    return shlex.join(out)


def _fmt(v: float) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _notes_text(notes: str | list[str] | None) -> str:
    """A "Notes" section from config.json's optional ``notes`` (a string or a list of paragraphs)."""
    if not notes:
        return ""
    paras = [notes] if isinstance(notes, str) else list(notes)
    return "## Notes\n\n" + "\n\n".join(p.strip() for p in paras) + "\n\n"


def render_card(config: dict[str, Any]) -> str:
    """The model card (Hugging Face format) for a folder's config.json."""
    arch, ds = config["architecture"], config["dataset"]
    info = DATASET_INFO.get(ds, {"title": ds, "hub_id": ds, "licence": "see the dataset", "cite": ""})
    tr = config["training"]
    rec = config["recipe"]
    name = model_name(arch, ds)
    metrics: dict[str, Any] = config.get("metrics", {}) or {}
    size = tr.get("image_size")

    lines = ["---", "license: mit", "library_name: zoo", "tags:"]
    for t in ("gan", arch, "image-generation", "unconditional-image-generation", ds, "zoo"):
        lines.append(f"- {t}")
    lines += ["datasets:", f"- {info['hub_id']}", "pipeline_tag: unconditional-image-generation"]
    if metrics:
        lines += [
            "model-index:",
            f"- name: {name}",
            "  results:",
            "  - task:",
            "      type: unconditional-image-generation",
            "      name: Unconditional image generation",
            "    dataset:",
            f"      name: {info['title']}",
            f"      type: {info['hub_id']}",
            f"      split: {metrics.get('reference_split', 'test')}",
            "    metrics:",
        ]
        proto = metrics.get("protocol", "")
        for key, label in (("fid", "FID"), ("kid", "KID"), ("fid_real_baseline", "FID"), ("kid_real_baseline", "KID")):
            if key not in metrics:
                continue
            base = "baseline" in key
            mtype = label.lower()
            what = (
                f"{label} of {info['title']} train vs test (real-vs-real baseline), {proto}"
                if base
                else f"{label} of {metrics.get('n_samples')} generated samples vs {info['title']} test, {proto}"
            )
            lines += [f"    - type: {mtype}", f"      value: {_fmt(float(metrics[key]))}", f"      name: {what!r}"]
        lines += _published_result(config.get("published"), info)
    lines.append("---")
    files = tr.get("dataset_files", {})
    file_rows = "\n".join(f"| {n} | `{h}` |" for n, h in files.items())
    cfg_json = json.dumps(config["config"], sort_keys=True)
    recipe_rows = "\n".join(f"| {k} | {v} |" for k, v in rec.items() if v not in (None, ""))

    body = f"""
# {name}

## Model description

A {arch.upper()} generator ({PAPERS.get(arch, arch)}) trained by the zoo on {info['title']} at
{size}x{size} pixels, {config['config'].get('nc', config['config'].get('channels', ''))} channel(s). Built from the
`{arch}` architecture with config `{cfg_json}`. This repository holds the generator only
(float32 safetensors); the discriminator was used for training and is not published.

![samples](samples.png)

`samples.png`: 64 samples, `zoo.load("{name}").sample(64, seed=0)`.

## Intended use

Research and teaching: a small, reproducible baseline for the {arch} recipe on {info['title']},
unconditional sampling, and a reference point for metrics and mode-collapse studies. Not for
producing data that is passed off as real.

## How to use

```python
import zoo

G = zoo.load("{name}")            # the generator, eval mode
images = G.sample(16, seed=0)     # float tensor in [0, 1], shape (16, C, H, W)
```

or `zoo sample {name} -n 64 --seed 0 -o grid.png`.

## Training data

{info['title']}, train split ({info['licence']}). Images scaled to [-1, 1]{', resized to ' + str(size) + 'x' + str(size) + ' (bilinear, antialiased)' if size and ds != 'cifar10' else ''}.
{tr.get('dataset_note', '')}

| file | sha256 |
|---|---|
{file_rows}

## Training procedure

Trained with the zoo's training loop (`zoo.training`), recipe `{config.get('recipe_name', '')}`:

| setting | value |
|---|---|
{recipe_rows}

Command (reproduces these weights on the same machine and thread count; `--data` is the folder
with the dataset files):

```
{_clean_command(tr.get('command', ''))}
```

Seed {tr.get('seed')}, {tr.get('steps')} generator steps (each with {rec.get('n_critic', 1)} discriminator
step(s)) at a global batch of {tr.get('global_batch')}, wall time {tr.get('wall_time_s')} s on
{tr.get('machine')}, {tr.get('world_size', 1)} process(es) (a machine shared with other jobs: the
wall time is an upper bound). Final logged losses: {json.dumps(tr.get('final_losses', {}))}.

## Evaluation

{_evaluation_text(name, info, metrics, config.get('published'))}

{_notes_text(config.get("notes"))}## Limitations

Trained briefly on a CPU: not state of the art, and some samples are malformed; look at the
grid before relying on it. {_comparability_text(metrics, info)}

## Citation

```
{PAPERS.get(arch, arch)}
{info['cite']}
```
"""
    return "\n".join(lines) + "\n" + body.lstrip("\n")


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


def _published_result(published: dict[str, Any] | None, info: dict[str, str]) -> list[str]:
    """A model-index result quoting a published number, with its source (the Hub's field for that)."""
    if not published:
        return []
    lines = [
        "  - task:",
        "      type: unconditional-image-generation",
        "    dataset:",
        f"      name: {info['title']}",
        f"      type: {info['hub_id']}",
        f"      split: {published.get('split', 'train')}",
        "    source:",
        f"      name: {published['source']!r}",
    ]
    if published.get("url"):
        lines.append(f"      url: {published['url']}")
    lines.append("    metrics:")
    for key in ("fid", "kid", "is"):
        if key in published:
            lines += [f"    - type: {key}", f"      value: {_fmt(float(published[key]))}",
                      f"      name: {('published ' + key.upper() + ', ' + published.get('protocol', ''))!r}"]
    return lines


def _evaluation_text(name: str, info: dict[str, str], metrics: dict[str, Any],
                     published: dict[str, Any] | None = None) -> str:
    if not metrics:
        return "Not evaluated yet: run `zoo eval " + name + " --data DIR` to measure FID and KID."
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
    return (
        f"Measured with `{by_name}` (the same on the folder: "
        f"`{cmd or 'zoo eval FOLDER --data DIR'}`): {metrics.get('protocol', '')}.\n\n"
        f"| metric | this generator ({metrics.get('n_samples')} samples vs test) | real-vs-real baseline (train vs test) |\n"
        "|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Feature extractor: {metrics.get('extractor', '')}. KID is in the units of these features"
        f"{'' if _uses_inception(metrics) else ' (not Inception' + chr(39) + 's)'}, ± its standard deviation over "
        "the subsets. Lower is better; the baseline is the floor a perfect generator would reach with this "
        "sample count."
        + (f"\n\nPublished for this recipe: FID {float(published['fid']):.4g} ({published['source']}; "
           f"{published.get('protocol', '')})." if published and "fid" in published else "")
    )


__all__ = ["write_hub_folder", "render_card", "KNOWN_SHA256", "DATASET_INFO"]
