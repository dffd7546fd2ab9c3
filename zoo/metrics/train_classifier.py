"""Train the metrics' feature extractor and write its Hub-repo folder.

    python -m zoo.metrics.train_classifier --dataset mnist --data DIR --out cards/zoo/classifier-mnist
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click
import torch

from ..training.data import load_dataset, resolve_data_dir
from ..training.export import DATASET_INFO
from .classifier import save_classifier, train_classifier


def render_classifier_card(dataset: str, cfg: dict, acc: float, res: dict, files: dict, command: str, machine: str) -> str:
    info = DATASET_INFO[dataset]
    name = f"classifier.{dataset}"
    rows = "\n".join(f"| {n} | `{h}` |" for n, h in files.items())
    return f"""---
license: mit
library_name: zoo
tags:
- image-classification
- feature-extractor
- fid
- {dataset}
- zoo
datasets:
- {info['hub_id']}
model-index:
- name: {name}
  results:
  - task:
      type: image-classification
      name: Image classification
    dataset:
      name: {info['title']}
      type: {info['hub_id']}
      split: test
    metrics:
    - type: accuracy
      value: {acc:.4f}
      name: top-1 accuracy on the 10,000 test images, 32x32, measured after training
---

# {name}

## Model description

A small CNN (conv w-w, pool, conv 2w-2w, pool, conv 4w, 2x2 average pool, fc 128, fc 10, w = {cfg['config']['width']};
batch norm and ReLU) trained by the zoo on {info['title']} at 32x32. Its 128-d penultimate layer is
the feature extractor of the zoo's FID and KID on {info['title']} (`zoo eval`), standing in for
Inception-v3, whose weights cannot be downloaded where the zoo's weights were trained. Config
`{json.dumps(cfg["config"], sort_keys=True)}`.

## Intended use

Feature extractor for FID/KID of generators trained on {info['title']}; a digit/garment classifier
for tests. Metrics computed with it compare only with metrics computed with the same file.

## How to use

```python
from zoo.metrics.classifier import load_classifier
clf = load_classifier("cards/zoo/classifier-{dataset}")   # or zoo.load("{name}") once registered
logits = clf(images)            # images: float (n, 1, H, W) in [0, 1]
features = clf.features(images)  # (n, 128), what FID and KID use
```

## Training data

{info['title']} train split, 60,000 images resized to 32x32 (bilinear, antialiased)
({info['licence']}).

| file | sha256 |
|---|---|
{rows}

## Training procedure

Adam with a one-cycle schedule (peak lr 3e-3), batch 128, {res['epochs']} epochs, random shifts of up
to 2 px, seed {res['seed']}. Wall time {res['wall_time_s']:.0f} s on {machine}. Command:

```
{command}
```

## Evaluation

Top-1 accuracy on the {info['title']} test split (10,000 images): **{acc * 100:.2f}%**.

## Limitations

A small network trained briefly; its features capture what separates the ten classes and
little about texture, so FID/KID computed with it are less sensitive to fine detail than
Inception FID, and never comparable with published Inception numbers.

## Citation

```
{info['cite']}
```
"""


@click.command()
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist", "cifar10"]), required=True)
@click.option("--data", required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--epochs", default=2, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--width", default=16, show_default=True, help="channels of the first conv layers")
@click.option("--threads", type=int, default=None)
def main(dataset: str, data: str, out: str, epochs: int, seed: int, width: int, threads: int | None) -> None:
    from ..training.run import machine_description

    if threads:
        torch.set_num_threads(threads)
    root = resolve_data_dir(data, dataset)
    train = load_dataset(dataset, root, "train").resized(32)
    test = load_dataset(dataset, root, "test").resized(32)
    model, res = train_classifier(train.images, train.labels, test.images, test.labels, epochs=epochs, seed=seed, width=width)
    command = "python -m zoo.metrics.train_classifier " + shlex.join(sys.argv[1:])
    cfg = {"architecture": "classifier", "config": res.config, "dataset": dataset, "test_accuracy": res.test_accuracy,
           "training": {"epochs": epochs, "seed": seed, "wall_time_s": round(res.wall_time_s, 1),
                        "command": command, "machine": machine_description(), "dataset_files": train.files}}
    save_classifier(model, Path(out), cfg)
    card = render_classifier_card(dataset, cfg, res.test_accuracy, {"epochs": epochs, "seed": seed,
                                  "wall_time_s": res.wall_time_s}, {**train.files, **test.files}, command,
                                  machine_description())
    (Path(out) / "README.md").write_text(card)
    click.echo(f"test accuracy {res.test_accuracy:.4f}; wrote {out}")


if __name__ == "__main__":
    main()
