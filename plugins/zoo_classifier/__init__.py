"""Registration of the small CNN classifiers whose features stand in for Inception in the
zoo's FID and KID (no torch imported here).

The model code lives beside the metrics that use it (zoo.metrics.classifier); this
plugin makes the trained extractors ordinary zoo models with their own cards, so
`zoo.load("classifier.mnist")` and `zoo card classifier.mnist` work like any other.
"""

from __future__ import annotations

import zoo

SCHEMA = {
    "channels": zoo.Field("int", 1, min=1, help="image channels the classifier takes"),
    "num_classes": zoo.Field("int", 10, min=2, help="classes of its head"),
    "width": zoo.Field("int", 32, min=1, help="channels of the first convolutions"),
    "feature_dim": zoo.Field("int", 128, min=1, help="size of the penultimate (feature) layer"),
}


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="classifier",
            builder="zoo.metrics.classifier:build",
            schema=SCHEMA,
            default_tag="mnist",
            task="image-classification",
            paper="Heusel et al. 2017 (FID); Binkowski et al. 2018 (KID): a domain classifier's "
            "features in place of Inception-v3, as in the MNIST FID literature",
            reference_code="zoo/metrics/classifier.py",
            description="conv-BN-ReLU x5 with pooling, fc to a 128-d feature layer, fc to the classes; "
            "takes images in [0, 1] at any size (resized to 32x32).",
        )
    )


@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
