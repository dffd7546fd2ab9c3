"""Pins of the adain weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="adain.zoo",
        repo_id="zoo/adain-zoo",
        revision="85282712c43874719dc754db6b5cc9870d84df5a",
        sha256="876d1da8956becd79e7c862e46f55b9d48764607c0a2c09269312ab33e839bbe",
        size=28047876,
        config={'decoder_width': 1.0, 'encoder': 'vgg19_normalised', 'encoder_width': 1.0, 'pretrained_encoder': False},
        license="mit",
        dataset="photos + public-domain paintings",
        metrics={'content_loss_judge': 0.1753, 'style_loss_judge': 0.1017, 'palette_l1': 0.0556, 'ssim_to_content': 0.255},
        notes="A decoder trained for 4,210 steps on 2 CPU cores over a random-weight VGG encoder: it carries "
        "a painting's palette and texture, but keeps only the strongest outlines of the photo. Not the paper's "
        "quality; see the card, and adain.paper via `zoo convert` for the published weights.",
    ),
]
