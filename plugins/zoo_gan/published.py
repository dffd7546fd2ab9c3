"""Pins of the gan weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="gan.mnist",
        repo_id="zoo/gan-mnist",
        revision="7cee80d6635788e7d3eb886e767ad8836afdee18",
        sha256="d711a6eb685735fee38397402a4c9c29d96909c103d243f95aaf2545507c8428",
        size=6056572,
        config={'bn_eps': 1e-05, 'image_size': 28, 'nc': 1, 'nz': 100},
        license="mit",
        dataset="mnist",
        metrics={'fid': 5.5178, 'kid': 0.745, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        protocols={'fid': 'classifier.mnist features (128-d), 10k samples vs MNIST test', 'kid': 'classifier.mnist features (128-d), 10k samples vs MNIST test'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'bce-nonsaturating', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'eriklindernoren/PyTorch-GAN implementations/gan/gan.py (argparse defaults)'},
    ),
]
