"""Pins of the classifier weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="classifier.mnist",
        repo_id="zoo/classifier-mnist",
        revision="073f325a3d8c09415b32ad3e023b79695b6392b6",
        sha256="a10c80dc181f232530becb8759e83c5779fdb34136ee4098bcd3efe8a3b02732",
        size=280860,
        config={'channels': 1, 'feature_dim': 128, 'num_classes': 10, 'width': 16},
        license="mit",
        dataset="mnist",
        metrics={'accuracy': 0.9933},
        protocols={'accuracy': 'top-1 on the 10,000 MNIST test images'},
    ),
    zoo.Weights(
        name="classifier.fashion-mnist",
        repo_id="zoo/classifier-fashion-mnist",
        revision="da052729a279cec5e78c34b6fac5cbe05b89e860",
        sha256="4ca227af6b3d7e19c125a87451fd11c08c3e4f0041be9544123678e5c7e54703",
        size=280860,
        config={'channels': 1, 'feature_dim': 128, 'num_classes': 10, 'width': 16},
        license="mit",
        dataset="fashion-mnist",
        metrics={'accuracy': 0.8909},
        protocols={'accuracy': 'top-1 on the 10,000 Fashion-MNIST test images'},
    ),
]
