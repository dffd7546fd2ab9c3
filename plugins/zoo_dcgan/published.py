"""Pins of the dcgan weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="dcgan.mnist",
        repo_id="zoo/dcgan-mnist",
        revision="532175290e990b46938c426a7119988938b5e251",
        sha256="ce623a12d732eb010d11b3942119f122fe46aa2790402b368dfade99c83d25f8",
        size=1481804,
        config={'image_size': 32, 'nc': 1, 'ndf': 32, 'ngf': 32, 'nz': 100},
        license="mit",
        dataset="mnist",
        metrics={'fid': 20.7389, 'kid': 2.3604, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        protocols={'fid': 'classifier.mnist features (128-d), 10k samples vs MNIST test', 'kid': 'classifier.mnist features (128-d), 10k samples vs MNIST test'},
        recipe={'batch_size': 128, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'bce-nonsaturating', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Radford et al. 2016, section 4; pytorch/examples dcgan/main.py'},
    ),
    zoo.Weights(
        name="dcgan.fashion-mnist",
        repo_id="zoo/dcgan-fashion-mnist",
        revision="351718ad3e17bf385aa8938e5ab2c022907af74e",
        sha256="c2eacca9767b5dc684cd03d9736663c31c291d96441b2df7964b58d90cf62ce7",
        size=1481804,
        config={'image_size': 32, 'nc': 1, 'ndf': 32, 'ngf': 32, 'nz': 100},
        license="mit",
        dataset="fashion-mnist",
        metrics={'fid': 19.7613, 'kid': 1.4548, 'fid_real_baseline': 0.0491, 'kid_real_baseline': -0.0072},
        protocols={'fid': 'classifier.fashion-mnist features (128-d), 10k samples vs Fashion-MNIST test', 'kid': 'classifier.fashion-mnist features (128-d), 10k samples vs Fashion-MNIST test'},
        recipe={'batch_size': 128, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'bce-nonsaturating', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Radford et al. 2016, section 4; pytorch/examples dcgan/main.py'},
    ),
    zoo.Weights(
        name="dcgan.cifar10",
        repo_id="zoo/dcgan-cifar10",
        revision="26bacf89daf9544996e2f018c7729812e8da6573",
        sha256="18d14f128dcd1a70a433e5336a260738a451d1d427de07061f76de2a884a171b",
        size=4280924,
        config={'image_size': 32, 'nc': 3, 'ndf': 64, 'ngf': 64, 'nz': 100},
        license="mit",
        dataset="cifar10",
        metrics={'fid50k_train': 28.4936, 'fid50k_train_real_baseline': 3.1239, 'fid': 32.3959, 'kid': 0.01998, 'fid_real_baseline': 5.1937, 'kid_real_baseline': 5.2898e-06},
        protocols={'fid50k_train': 'inception.fid features (bf16), 50k samples vs the statistics of the 50k CIFAR-10 train images (JPEG q75 copy): the published protocol', 'fid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)', 'kid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)'},
        recipe={'batch_size': 128, 'betas': [0.5, 0.999], 'ema': 0.999, 'gp_lambda': 0.0, 'loss': 'bce-nonsaturating', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Radford et al. 2016, section 4; pytorch/examples dcgan/main.py'},
        notes="33,026 steps from scratch on one H100 (405 s of training loop, bf16) with the published recipe and an "
        "EMA of the generator (decay 0.999; published as the EMA, its batch-norm statistics recomputed). The "
        "published protocol, fid50k_train (50,000 samples vs the statistics of the 50,000 training images, bf16 "
        "Inception, the project's JPEG q75 CIFAR-10 copy): 28.49, real-vs-real baseline 3.12; published DCGAN FID"
        " 42.72 (pytorch-gan-collections, original images). Inception FID 32.4 on 10,000 samples against the test"
        " split (real-vs-real baseline 5.2). CIFAR-like scenes with recognisable cars, horses, birds and ships "
        "among malformed ones."
    ),
]
