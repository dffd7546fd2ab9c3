"""Pins of the adain weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="adain.zoo",
        repo_id="zoo/adain-zoo",
        revision="481bb12c84623d866ce5f4eee374a73599203b13",
        sha256="07d09a7b2f117243a543816379bad8a11df39f4ae38332e862d36b94e5a4b763",
        size=4443956,
        config={'decoder_width': 1.0, 'depth': 3, 'encoder': 'vgg19_normalised', 'encoder_width': 1.0, 'pretrained_encoder': False},
        license="mit",
        dataset="photos + public-domain paintings",
        metrics={'content_loss_judge': 0.1221, 'style_loss_judge': 0.0665, 'palette_l1': 0.0497, 'ssim_to_content': 0.485},
        notes="A decoder trained for 5,474 steps on one CPU core over a random-weight VGG encoder cut at "
        "relu3_1: the painting's palette and a stroke texture on the photo's layout, with a 4-pixel grid "
        "pattern and darker, flatter faces. Not the paper's quality; see the card, and `zoo convert adain` for the "
        "published weights.",
    ),
]
