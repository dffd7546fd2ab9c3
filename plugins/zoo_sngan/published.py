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
        revision="e9e0d2a63c159172f3105bed2b9d6ac7c1ef2bee",
        sha256="6b8aa6fae3db6577655722020eca203139c699faa6b2eb4e1419f9825b725feb",
        size=15263748,
        config={'bn_eps': 1e-05, 'd_ch': None, 'g_ch': None, 'g_linear_bn': True, 'image_size': 32, 'nc': 3, 'net': 'cnn', 'nz': 128},
        license="mit",
        dataset="cifar10",
        metrics={'fid50k_train': 22.9442, 'fid50k_train_real_baseline': 3.1239, 'fid': 26.6009, 'kid': 0.01668, 'fid_real_baseline': 5.1937, 'kid_real_baseline': 5.2898e-06},
        protocols={'fid50k_train': 'inception.fid features (bf16), 50k samples vs the statistics of the 50k CIFAR-10 train images (JPEG q75 copy): the published protocol', 'fid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)', 'kid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)'},
        recipe={'batch_size': 64, 'betas': [0.5, 0.999], 'ema': 0.999, 'gp_lambda': 0.0, 'loss': 'hinge', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 1, 'optimizer': 'adam', 'source': 'Miyato et al. 2018, Table 1 setting C (alpha=0.0002, beta1=0.5, beta2=0.999, n_dis=1); w86763777/pytorch-gan-collections sngan_cifar10_cnn config'},
        notes="11,297 steps (n_dis 1) from scratch on one H100 (405 s of training loop, bf16) with Miyato et al.'s "
        "standard CNN and setting C plus an EMA of the generator (decay 0.999), then 11,439 more on one CPU "
        "thread (bf16 + channels_last; `zoo train --init-from` that card: its EMA generator and its "
        "discriminator, both Adams restarted; from 17,000 steps on resumed from that run's own checkpoint, "
        "everything kept) to 22,736 steps; published as the EMA (batch-norm statistics recomputed), by a rule "
        "fixed before measuring (2,000 samples vs the training statistics: EMA 36.48, raw 38.70). The published "
        "protocol, fid50k_train (50,000 samples vs the statistics of the 50,000 training images, bf16 Inception, "
        "the project's JPEG q75 CIFAR-10 copy): 22.94 (29.56 at 14,000 steps, 35.21 at 11,297), real-vs-real "
        "baseline 3.12; published SN-GAN CNN FID 17.81 (pytorch-gan-collections, original images, 100k steps at "
        "batch 128). Inception FID 26.60 on 10,000 samples against the test split (33.11 at 14,000 steps, 38.52 "
        "at 11,297; real-vs-real baseline 5.2). Birds, ships, horses, a car and trucks among blurred scenes; "
        "training_state holds the raw generator and the discriminator."
    ),
]
