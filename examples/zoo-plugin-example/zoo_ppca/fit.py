"""Fit probabilistic PCA to Fashion-MNIST and write the Hub-repo folder.

    python -m zoo_ppca.fit --data /path/to/fashion-mnist hub/zoo-examples/ppca-fashion-mnist

--data is a folder with the four standard IDX files (train-images-idx3-ubyte.gz,
...), as distributed by Zalando. The fit is closed-form maximum likelihood
(Tipping & Bishop 1999, eq. 7-8): the mean image, the top-k eigenvectors U_k and
eigenvalues L_k of the training covariance, noise_var = the mean of the
discarded eigenvalues, W = U_k (L_k - noise_var I)^(1/2). Deterministic: the
same files give the same bytes, up to the platform's LAPACK.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path

import numpy as np

# sha256 of the official Fashion-MNIST files (github.com/zalandoresearch/fashion-mnist)
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "test": ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
}


def read_images(folder: Path, split: str) -> np.ndarray:
    """(n, 784) float64 in [0, 1] from an IDX file, after checking its sha256."""
    name, sha = FILES[split]
    raw = (folder / name).read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha:
        raise SystemExit(f"{folder / name}: sha256 {actual} is not the official {sha}")
    data = gzip.decompress(raw)
    magic, n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in range(0, 16, 4))
    if magic != 2051:
        raise SystemExit(f"{folder / name} is not an IDX image file")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols).astype(np.float64) / 255.0


def fit(x: np.ndarray, k: int) -> dict[str, np.ndarray]:
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / len(x)
    evals, evecs = np.linalg.eigh(cov)  # ascending
    evals, evecs = evals[::-1], evecs[:, ::-1]
    noise_var = evals[k:].mean()
    # fix each component's sign (largest entry positive) so the bytes do not depend on LAPACK's choice
    u = evecs[:, :k] * np.sign(evecs[np.abs(evecs[:, :k]).argmax(0), range(k)])
    weight = u * np.sqrt(np.maximum(evals[:k] - noise_var, 0.0))
    return {"weight": weight, "mean": mean, "noise_var": np.array(noise_var), "basis": u}


def evaluate(params: dict[str, np.ndarray], x: np.ndarray) -> dict[str, float]:
    """Reconstruction of held-out images from their k-dimensional projection."""
    xc = x - params["mean"]
    recon = xc @ params["basis"] @ params["basis"].T
    err = ((xc - recon) ** 2).sum()
    return {"test_explained_variance": float(1.0 - err / (xc**2).sum()),
            "test_mse": float(err / xc.size)}


CARD = """\
---
license: mit
library_name: zoo
tags: [image-generation, ppca, pca, fashion-mnist, zoo-plugin-example]
datasets: [fashion_mnist]
model-index:
- name: ppca.fashion-mnist
  results:
  - task: {type: unconditional-image-generation}
    dataset: {name: Fashion-MNIST, type: fashion_mnist, split: test}
    metrics:
    - {type: explained_variance, value: %(test_explained_variance).4f, name: "fraction of the test set's variance kept by projecting onto the %(k)d components (zoo_ppca.fit.evaluate)"}
    - {type: mse, value: %(test_mse).6f, name: "mean squared error per pixel (pixels in [0, 1]) of that projection on the 10,000 test images"}
---
# ppca.fashion-mnist

## Model description
Probabilistic PCA (Tipping & Bishop 1999) with k = %(k)d components, fitted to the
60,000 Fashion-MNIST training images (28x28, grey). It is the example third-party
plugin of the zoo: a small architecture in its own package (`zoo-plugin-example`),
registered through the `zoo.plugins` entry point. `sample()` returns the noise-free
mean image `W z + mean` for z ~ N(0, I), clamped to [0, 1]; the isotropic noise
variance (%(noise_var).3g) is kept in the `noise_var` buffer and used by
`log_likelihood()`.

## Intended use
Showing how to publish an architecture for the zoo; a linear baseline for
Fashion-MNIST generation. Not for anything that needs sharp images.

## How to use
```python
import zoo
G = zoo.load("ppca.fashion-mnist")
images = G.sample(16, seed=0)  # (16, 1, 28, 28) in [0, 1]
```

## Training data
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence, Zalando SE): the
official `train-images-idx3-ubyte.gz`, sha256 %(train_sha)s.

## Training procedure
Closed-form maximum likelihood, no iterations:
`python -m zoo_ppca.fit --data <fashion-mnist folder> hub/zoo-examples/ppca-fashion-mnist`
(mean image; eigendecomposition of the training covariance in float64;
noise variance = mean of the %(rest)d discarded eigenvalues; W = U_k (L_k - noise_var)^(1/2);
stored as float32).

## Evaluation
On the 10,000 official test images (`t10k-images-idx3-ubyte.gz`, sha256 %(test_sha)s):
projecting onto the %(k)d components keeps %(pct).1f%% of the test variance; the
reconstruction's mean squared error is %(test_mse).5f per pixel. Sample quality
(FID) was not measured: a linear model's samples are blurry.

## Limitations
Blurry, averaged-looking samples; a linear Gaussian model cannot represent the
data's multi-modal structure. Grey 28x28 only.

## Citation
```bibtex
@article{tipping1999ppca,
  title={Probabilistic Principal Component Analysis},
  author={Tipping, Michael E. and Bishop, Christopher M.},
  journal={Journal of the Royal Statistical Society: Series B},
  volume={61}, number={3}, pages={611--622}, year={1999}
}
```
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the Hub-repo folder to write")
    parser.add_argument("--data", type=Path, required=True, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("-k", type=int, default=32, help="number of components")
    args = parser.parse_args(argv)

    import torch
    from safetensors.torch import save_file

    train, test = read_images(args.data, "train"), read_images(args.data, "test")
    params = fit(train, args.k)
    metrics = evaluate(params, test)
    args.out.mkdir(parents=True, exist_ok=True)
    state = {k: torch.from_numpy(np.array(params[k], order="C")).float() for k in ("weight", "mean", "noise_var")}
    save_file(state, str(args.out / "model.safetensors"))
    config = {"latent_dim": args.k, "channels": 1, "image_size": 28}
    (args.out / "config.json").write_text(json.dumps({"architecture": "ppca", "config": config}, indent=2) + "\n")
    (args.out / "README.md").write_text(CARD % {
        **metrics, "k": args.k, "rest": 784 - args.k, "noise_var": float(params["noise_var"]),
        "pct": 100 * metrics["test_explained_variance"], "train_sha": FILES["train"][1], "test_sha": FILES["test"][1],
    })
    from zoo.hub import sha256_file
    from zoo.publish import folder_revision

    w = args.out / "model.safetensors"
    print(json.dumps({"revision": folder_revision(args.out), "sha256": sha256_file(w), "size": w.stat().st_size,
                      "metrics": metrics}, indent=2))


if __name__ == "__main__":
    main()
