"""Class coverage of the published generators: which digits (or garments) they draw, and how often.

Each generator's card folder in cards/zoo (written by `zoo train`) draws
``--n`` samples with ``sample(n, seed=0)`` (the latents of the card's FID);
the zoo's own classifier for that dataset (``classifier.mnist``, 99.33% test
accuracy; ``classifier.fashion-mnist``, 89.09%) labels them, and the table gives
the share of each class, the number of classes with at least ``--min-share``
of the samples, and the classifier's mean confidence. The test split,
labelled by the same classifier, is the reference row. A mode-collapsed
generator shows up as missing or over-represented classes; low confidence
means many samples the classifier cannot place (malformed digits).

    python bench/class_coverage.py --data-root $ZOO_DATA_DIR [--n 10000] [--json out/coverage.json]

No timing here: nothing in this script is a speed claim.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from zoo.metrics.classifier import default_classifier_dir, load_classifier
from zoo.metrics.evaluate import dataset_of, load_generator_folder
from zoo.training.data import load_dataset, resolve_data_dir

ROOT = Path(__file__).resolve().parent.parent


@torch.inference_mode()
def label(classifier: torch.nn.Module, images: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted classes and their softmax confidence for images in [0, 1]."""
    preds, confs = [], []
    for i in range(0, len(images), batch):
        p = classifier(images[i : i + batch]).softmax(1)
        c, k = p.max(1)
        preds.append(k)
        confs.append(c)
    return torch.cat(preds), torch.cat(confs)


def row(name: str, preds: torch.Tensor, confs: torch.Tensor, n_classes: int, min_share: float) -> dict:
    shares = torch.bincount(preds, minlength=n_classes).float() / len(preds)
    return {
        "name": name,
        "shares": [round(float(s), 4) for s in shares],
        "classes_covered": int((shares >= min_share).sum()),
        "min_share": round(float(shares.min()), 4),
        "max_share": round(float(shares.max()), 4),
        "mean_confidence": round(float(confs.mean()), 4),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", required=True, help="folder with mnist/ and fashion-mnist/ (ZOO_DATA_DIR)")
    p.add_argument("--cards", default=str(ROOT / "cards" / "zoo"))
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--min-share", type=float, default=0.02, help="a class counts as covered at this share or more")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    rows: dict[str, list[dict]] = {}
    folders = sorted(f for f in Path(a.cards).iterdir() if (f / "samples.png").exists() and (f / "config.json").exists())
    by_dataset: dict[str, list[Path]] = {}
    for f in folders:
        by_dataset.setdefault(dataset_of(json.loads((f / "config.json").read_text())), []).append(f)
    for dataset, fs in by_dataset.items():
        clf = load_classifier(default_classifier_dir(dataset))
        test = load_dataset(dataset, resolve_data_dir(a.data_root, dataset), "test")  # uint8 images
        out = [row(f"{dataset} test split (real)", *label(clf, test.images.float() / 255.0), 10, a.min_share)]
        for f in fs:
            G, _ = load_generator_folder(f)
            out.append(row(f.name, *label(clf, G.sample(a.n, seed=0)), 10, a.min_share))
        rows[dataset] = out
        print(f"\n## {dataset}: share of {a.n} samples per class (classifier.{dataset}); covered = share >= {a.min_share:.0%}\n")
        print("| generator | " + " | ".join(str(k) for k in range(10)) + " | covered | mean confidence |")
        print("|---|" + "---|" * 10 + "---|---|")
        for r in out:
            print(f"| {r['name']} | " + " | ".join(f"{s * 100:.1f}" for s in r["shares"])
                  + f" | {r['classes_covered']}/10 | {r['mean_confidence']:.3f} |")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
