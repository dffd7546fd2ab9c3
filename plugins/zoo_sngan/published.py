"""Pins of the sngan weights published from cards/ (checked by tests/test_cards.py; see zoo.publish)."""

from __future__ import annotations

import zoo

PUBLISHED = [
    zoo.Weights(
        name="sngan.mnist",
        repo_id="zoo/sngan-mnist",
        revision="7bff6030f255f3742f0e4df7523b6a5e7da084c1",
        sha256="7367f8c590c982d71df184844360324f51f8e96553f69878c0be7d5f7e5fa115",
        size=1752260,
        config={'bn_eps': 1e-05, 'd_ch': 128, 'g_ch': 128, 'g_linear_bn': True, 'image_size': 32, 'nc': 1, 'net': 'cnn', 'nz': 128},
        license="mit",
        dataset="mnist",
        metrics={'fid': 13.9721, 'kid': 1.5457, 'fid_real_baseline': 0.1699, 'kid_real_baseline': -0.0033},
        protocols={'fid': 'classifier.mnist features (128-d), 10k samples vs MNIST test', 'kid': 'classifier.mnist features (128-d), 10k samples vs MNIST test'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'hinge', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Miyato et al. 2018, Table 1 setting C (alpha=0.0002, beta1=0.5, beta2=0.999, n_dis=1); w86763777/pytorch-gan-collections sngan_cifar10_cnn config'},
    ),
    zoo.Weights(
        name="sngan.fashion-mnist",
        repo_id="zoo/sngan-fashion-mnist",
        revision="12287a1f1219bd77f4e9c9bbe5298e1490bd19a9",
        sha256="378cf66e61d3ad1264a8dcc94eca4a16b55f0154081844673ae3177c849f9045",
        size=1752260,
        config={'bn_eps': 1e-05, 'd_ch': 128, 'g_ch': 128, 'g_linear_bn': True, 'image_size': 32, 'nc': 1, 'net': 'cnn', 'nz': 128},
        license="mit",
        dataset="fashion-mnist",
        metrics={'fid': 17.0146, 'kid': 0.9444, 'fid_real_baseline': 0.0491, 'kid_real_baseline': -0.0072},
        protocols={'fid': 'classifier.fashion-mnist features (128-d), 10k samples vs Fashion-MNIST test', 'kid': 'classifier.fashion-mnist features (128-d), 10k samples vs Fashion-MNIST test'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'gp_lambda': 0.0, 'loss': 'hinge', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Miyato et al. 2018, Table 1 setting C (alpha=0.0002, beta1=0.5, beta2=0.999, n_dis=1); w86763777/pytorch-gan-collections sngan_cifar10_cnn config'},
    ),
    zoo.Weights(
        name="sngan.cifar10",
        repo_id="zoo/sngan-cifar10",
        revision="f233f4a7c2ae23d2ddee808ab8900318b62dc54e",
        sha256="e932bad1e57f870a7fae282717ce9c6cb90743546bfc6c496ddc2e38ed41ef03",
        size=15263748,
        config={'bn_eps': 1e-05, 'd_ch': None, 'g_ch': None, 'g_linear_bn': True, 'image_size': 32, 'nc': 3, 'net': 'cnn', 'nz': 128},
        license="mit",
        dataset="cifar10",
        metrics={'fid50k_train': 22.1, 'fid50k_train_real_baseline': 3.1239, 'fid': 25.8349, 'kid': 0.01616, 'fid_real_baseline': 5.1937, 'kid_real_baseline': 5.29e-06},
        protocols={'fid50k_train': 'inception.fid features (bf16), 50k samples vs the statistics of the 50k CIFAR-10 train images (JPEG q75 copy): the published protocol', 'fid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)', 'kid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'ema': 0.999, 'gp_lambda': 0.0, 'loss': 'hinge', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Miyato et al. 2018, Table 1 setting C (alpha=0.0002, beta1=0.5, beta2=0.999, n_dis=1); w86763777/pytorch-gan-collections sngan_cifar10_cnn config'},
        notes="11,297 steps (n_dis 1) from scratch on one H100 (405 s of training loop, bf16) with Miyato et "
        "al.'s standard CNN and setting C plus an EMA of the generator (decay 0.999), then 12,703 more on "
        "one CPU thread (bf16 + channels_last; `zoo train --init-from` the card, in three stretches, the "
        "last on a fresh machine) to 24,000 steps; published as the EMA (batch-norm statistics recomputed), "
        "by a rule fixed before measuring. The published protocol, fid50k_train (50,000 samples vs the "
        "statistics of the 50,000 training images, bf16 Inception, the project's JPEG q75 CIFAR-10 copy): "
        "22.10 (22.94 at 22,736 steps, 29.56 at 14,000, 35.21 at 11,297), real-vs-real baseline 3.12; "
        "published SN-GAN CNN FID 17.81 (pytorch-gan-collections, original images, 100k steps at batch 128). "
        "Inception FID 25.83 on 10,000 samples against the test split (26.60 at 22,736 steps; real-vs-real "
        "baseline 5.2). Birds, ships, horses, a deer and trucks among blurred scenes; training_state holds "
        "the discriminator in float16."
    ),
]
