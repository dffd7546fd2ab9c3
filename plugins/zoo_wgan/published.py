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
        protocols={'fid': 'classifier.mnist features (128-d), 10k samples vs MNIST test', 'kid': 'classifier.mnist features (128-d), 10k samples vs MNIST test'},
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
        protocols={'fid': 'classifier.mnist features (128-d), 10k samples vs MNIST test', 'kid': 'classifier.mnist features (128-d), 10k samples vs MNIST test'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.9], 'gp_lambda': 10.0, 'loss': 'wasserstein-gp', 'lr_d': 0.0001, 'lr_g': 0.0001, 'n_critic': 5, 'optimizer': 'adam', 'source': 'Gulrajani et al. 2017 code (gan_cifar.py): Adam 1e-4, betas (0.5, 0.9), lambda 10, n_critic 5'},
    ),
    zoo.Weights(
        name="wgan-gp.cifar10",
        repo_id="zoo/wgan-gp-cifar10",
        revision="e2353d93450069e3e26e2d84ed9b129aa8142e73",
        sha256="4f44d33d4841a795e413396f875e19e691889fbd065d930b4f82e4d61802a356",
        size=4280924,
        config={'bn_eps': 0.8, 'critic_norm': 'none', 'image_size': 32, 'nc': 3, 'ndf': 64, 'net': 'dcgan', 'ngf': 64, 'nz': 100},
        license="mit",
        dataset="cifar10",
        metrics={'fid50k_train': 25.9689, 'fid50k_train_real_baseline': 3.1239, 'fid': 29.6067, 'kid': 0.01704, 'fid_real_baseline': 5.1937, 'kid_real_baseline': 5.29e-06},
        protocols={'fid50k_train': 'inception.fid features (bf16), 50k samples vs the statistics of the 50k CIFAR-10 train images (JPEG q75 copy): the published protocol', 'fid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)', 'kid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.9], 'ema': 0.999, 'gp_lambda': 10.0, 'loss': 'wasserstein-gp', 'lr_d': 0.0001, 'lr_g': 0.0001, 'n_critic': 5, 'optimizer': 'adam', 'source': 'Gulrajani et al. 2017 code (gan_cifar.py): Adam 1e-4, betas (0.5, 0.9), lambda 10, n_critic 5'},
        notes="7,314 steps (n_critic 5) from scratch on one H100 (405 s of training loop, bf16) with the "
        "published recipe, then 4,317 more on one CPU thread (`zoo train --init-from` the previous card, "
        "both Adams restarted), 23,369 more resumed from that run's checkpoints (bf16 + channels_last, one "
        "CPU thread) to 35,000 steps, 3,000 more from that card (`--init-from`, both Adams restarted) to "
        "38,000, and 12,000 more resumed from that run's checkpoint (Adams kept) to 50,000; the published "
        "generator is the EMA (decay 0.999, batch-norm statistics recomputed), chosen at 32,000 steps by a "
        "rule fixed before measuring (10,000 samples vs test: EMA 33.24, raw 33.56) and kept since by rules "
        "fixed before measuring (raw not measured again). The published protocol, fid50k_train (50,000 "
        "samples vs the statistics of the 50,000 training images, bf16 Inception, the project's JPEG q75 "
        "CIFAR-10 copy): 25.97 (27.05 at 43,000 steps, 28.18 at 38,000, 28.78 at 35,000, 29.48 at 32,000, "
        "33.63 at 24,000, 38.46 at 16,749, 46.92 at 11,631, 60.54 at 7,314), real-vs-real baseline 3.12; "
        "published WGAN-GP CNN FID 19.83 (pytorch-gan-collections, original images, 100k steps, other "
        "networks). Inception FID 29.61 on 10,000 samples against the test split (30.62 at 43,000 steps, "
        "31.84 at 38,000, 32.40 at 35,000, 33.24 at 32,000; real-vs-real baseline 5.2). CIFAR-like scenes "
        "with soft, smeared shapes; boats, horses, cars and birds among them."
    ),
]
