"""Registration of the ppca architecture and its weights (no torch imported here).

The zoo finds this module through the entry point in pyproject.toml:

    [project.entry-points."zoo.plugins"]
    ppca = "zoo_ppca"
"""

from __future__ import annotations

import zoo

PAPER = (
    "Tipping, Bishop. Probabilistic Principal Component Analysis. Journal of the Royal Statistical "
    "Society B 61(3), 1999. https://doi.org/10.1111/1467-9868.00196"
)

SCHEMA = {
    "latent_dim": zoo.Field("int", 32, min=1, help="number of principal components k (the latent size)"),
    "channels": zoo.Field("int", 1, choices=(1, 3), help="image channels"),
    "image_size": zoo.Field("int", 28, min=1, help="image height and width"),
}


@zoo.hookimpl
def register_architectures(register):
    register(
        zoo.Architecture(
            name="ppca",
            builder="zoo_ppca.model:build",
            schema=SCHEMA,
            default_tag="fashion-mnist",
            task="image-generation",
            paper=PAPER,
            reference_code="https://github.com/scikit-learn/scikit-learn/blob/main/sklearn/decomposition/_pca.py",
            description=(
                "Probabilistic PCA: x = W z + mean + noise, z ~ N(0, I_k). Fitted in closed form "
                "(maximum likelihood, eigendecomposition of the sample covariance); sample() returns "
                "the noise-free mean image W z + mean, clamped to [0, 1]."
            ),
        )
    )


@zoo.hookimpl
def register_weights(register):
    # pins printed by `python -m zoo_ppca.fit` (and by `zoo push`)
    register(
        zoo.Weights(
            name="ppca.fashion-mnist",
            repo_id="zoo-examples/ppca-fashion-mnist",
            revision="14c0da4c64c4d45352f7a281aed4f4e179f31e3a",
            sha256="515f64f5d70dfbaef530dd55b60aa8934bc60e3f2a0950a1e2a78b11fcbf5220",
            size=103700,
            config={"latent_dim": 32, "channels": 1, "image_size": 28},
            license="mit",
            dataset="fashion-mnist",
            metrics={"test_explained_variance": 0.8252, "test_mse": 0.015142},
        )
    )
