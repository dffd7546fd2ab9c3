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
        revision="276fc9aa2d5787cc2c9d84b9a5b01edb9b23e0c3",
        sha256="685179f489e5994ac2b3ec4c9d4d07ff46294dfff2e03c43e8c7bc4775dbcc35",
        size=15263748,
        config={'bn_eps': 1e-05, 'd_ch': None, 'g_ch': None, 'g_linear_bn': True, 'image_size': 32, 'nc': 3, 'net': 'cnn', 'nz': 128},
        license="mit",
        dataset="cifar10",
        metrics={'fid': 131.3229, 'kid': 0.116617, 'fid_real_baseline': 5.1937, 'kid_real_baseline': 5.2898e-06},
        protocols={'fid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)', 'kid': 'inception.fid features, 10k samples vs CIFAR-10 test (JPEG q75 copy)'},
        recipe={'batch_size': 64, 'betas': [0.0, 0.9], 'gp_lambda': 0.0, 'loss': 'hinge', 'lr_d': 0.0002, 'lr_g': 0.0002, 'n_critic': 5, 'optimizer': 'adam', 'source': 'Miyato et al. 2018, standard CNN with the n_dis=5 optimiser of its ResNet experiments (alpha=0.0002, beta1=0, beta2=0.9); hinge loss'},
        notes="1,400 steps (n_dis 5) on a 2-core CPU (the published run is 100k on a GPU): Inception FID 131.3 on 10,000 samples against the test split of the project's JPEG q75 CIFAR-10 copy (real-vs-real baseline 5.2); published SN-GAN CNN FID 17.81 (pytorch-gan-collections, 50k samples vs train). Far from converged: CIFAR-like colours and rough layouts under a checkerboard texture.",
    ),
]
