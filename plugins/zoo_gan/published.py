"""Pins of the gan weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="gan.mnist",
        repo_id="zoo/gan-mnist",
        revision="ba517fc5e7566dc4b95533c5a16331fde05b0fbe",
        sha256="d3346a5136a8edc42c75e8beff02e461a2ec38d6ee8cbc85b077c8e898c1e947",
        size=6056572,
        config={'bn_eps': 0.8, 'image_size': 28, 'nc': 1, 'nz': 100},
        license="mit",
        dataset="mnist",
        metrics={'fid': 71.6471, 'kid': 6.7089, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'bce-nonsaturating', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'eriklindernoren/PyTorch-GAN implementations/gan/gan.py (argparse defaults)'},
    ),
]
