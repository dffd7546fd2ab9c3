"""Pins of the wgan weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="wgan.mnist",
        repo_id="zoo/wgan-mnist",
        revision="6da41d50c4a77fc3eb32e7e743c8caeef62ccf13",
        sha256="54da029ffcbeec799cfb3fb7eb37e2135a1634c2885dbba6bcc891edd4d7c35c",
        size=6056572,
        config={'bn_eps': 0.8, 'image_size': 28, 'nc': 1, 'ndf': 64, 'net': 'mlp', 'ngf': 64, 'nz': 100},
        license="mit",
        dataset="mnist",
        metrics={'fid': 15.1332, 'kid': 2.1119, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'clip': 0.01, 'gp_lambda': 0.0, 'loss': 'wasserstein', 'lr_d': 5e-05, 'lr_g': 5e-05, 'n_critic': 5, 'optimizer': 'rmsprop', 'source': 'Arjovsky et al. 2017, Algorithm 1 (alpha=0.00005, c=0.01, m=64, n_critic=5)'},
    ),
    zoo.Weights(
        name="wgan-gp.mnist",
        repo_id="zoo/wgan-gp-mnist",
        revision="688d3c5626a45d4adffc6f8473be803195f9241b",
        sha256="221471fa20f4b6af4675e84612955b9b77a7e5f19d793cb559e98e94f0c55949",
        size=6056572,
        config={'bn_eps': 0.8, 'critic_norm': 'none', 'image_size': 28, 'nc': 1, 'ndf': 64, 'net': 'mlp', 'ngf': 64, 'nz': 100},
        license="mit",
        dataset="mnist",
        metrics={'fid': 29.5564, 'kid': 4.0486, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        recipe={'batch_size': 64, 'betas': [0.5, 0.9], 'gp_lambda': 10.0, 'loss': 'wasserstein-gp', 'lr_d': 0.0001, 'lr_g': 0.0001, 'n_critic': 5, 'optimizer': 'adam', 'source': 'Gulrajani et al. 2017 code (gan_cifar.py): Adam 1e-4, betas (0.5, 0.9), lambda 10, n_critic 5'},
    ),
]
