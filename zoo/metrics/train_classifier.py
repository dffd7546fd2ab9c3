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

from ..cards.writer import Card, Citation, Metric, Result, Training, render, rows, write
from ..training.data import load_dataset, resolve_data_dir
from ..training.export import DATASET_INFO
from .classifier import save_classifier, train_classifier


def classifier_card(dataset: str, cfg: dict, acc: float, res: dict, files: dict, command: str, machine: str) -> Card:
    """The card of a metrics classifier (rendered by zoo.card_writer)."""
    info = DATASET_INFO[dataset]
    name = f"classifier.{dataset}"
    how = (
        "```python\nimport zoo\nclf = zoo.load(\"" + name + "\")   # or zoo.metrics.classifier.load_classifier("
        f"\"cards/zoo/classifier-{dataset}\")\nlogits = clf(images)            # images: float (n, 1, H, W) in [0, 1]\n"
        "features = clf.features(images)  # (n, 128), what FID and KID use\n```"
    )
    return Card(
        name=name,
        title=name,
        summary=(
            f"A small CNN (conv w-w, pool, conv 2w-2w, pool, conv 4w, 2x2 average pool, fc 128, fc 10, "
            f"w = {cfg['config']['width']}; batch norm and ReLU) trained by the zoo on {info['title']} at 32x32. "
            f"Its 128-d penultimate layer is the feature extractor of the zoo's FID and KID on {info['title']} "
            "(`zoo eval`), standing in for Inception-v3, whose weights cannot be downloaded where the zoo's "
            f"weights were trained. Config `{json.dumps(cfg['config'], sort_keys=True)}`."
        ),
        license="mit",
        tags=("image-classification", "feature-extractor", "fid", dataset, "zoo"),
        datasets=(info["hub_id"],),
        intended_use=(
            f"Feature extractor for FID/KID of generators trained on {info['title']}; a digit/garment classifier "
            "for tests. Metrics computed with it compare only with metrics computed with the same file."
        ),
        how_to_use=how,
        training_data=(
            f"{info['title']} train split, 60,000 images resized to 32x32 (bilinear, antialiased) "
            f"({info['licence']}).\n\n" + rows([(n, f"`{h}`") for n, h in files.items()], ("file", "sha256"))
        ),
        training=Training(
            f"Adam with a one-cycle schedule (peak lr 3e-3), batch 128, {res['epochs']} epochs, random shifts of "
            f"up to 2 px, seed {res['seed']}. Wall time {res['wall_time_s']:.0f} s on {machine}.",
            command=command,
        ),
        evaluation=f"Top-1 accuracy on the {info['title']} test split (10,000 images): **{acc * 100:.2f}%**.",
        results=(Result("image-classification", info["title"], info["hub_id"], "test",
                        (Metric("accuracy", round(float(acc), 4),
                                "top-1 accuracy on the 10,000 test images, 32x32, measured after training"),),
                        task_name="Image classification"),),
        limitations=(
            "A small network trained briefly; its features capture what separates the ten classes and little "
            "about texture, so FID/KID computed with it are less sensitive to fine detail than Inception FID, "
            "and never comparable with published Inception numbers."
        ),
        citation=_citation(info["cite"]),
    )


def _citation(dataset_cite: str) -> Citation:
    """The classifier architecture's paper and reference code, from its Architecture record."""
    from ..plugins import get_host

    record = get_host().registry.architectures.get("classifier")
    if record is None:
        return Citation("the zoo's metrics classifier (its architecture is not registered here)", "",
                        (dataset_cite,))
    return Citation.of(record, dataset_cite)


def render_classifier_card(dataset: str, cfg: dict, acc: float, res: dict, files: dict, command: str,
                           machine: str) -> str:
    return render(classifier_card(dataset, cfg, acc, res, files, command, machine))


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
    write(classifier_card(dataset, cfg, res.test_accuracy, {"epochs": epochs, "seed": seed,
                          "wall_time_s": res.wall_time_s}, {**train.files, **test.files}, command,
                          machine_description()), Path(out))
    click.echo(f"test accuracy {res.test_accuracy:.4f}; wrote {out}")


if __name__ == "__main__":
    main()
