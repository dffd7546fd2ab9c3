"""Registration of the sngan architecture (no torch imported here)."""

from __future__ import annotations

import zoo

PAPER = (
    "Miyato, Kataoka, Koyama, Yoshida. Spectral Normalization for Generative Adversarial Networks. "
    "ICLR 2018. https://arxiv.org/abs/1802.05957"
)

SCHEMA = {
    "net": zoo.Field("str", "cnn", choices=("cnn", "resnet"), help="the standard CNN or the ResNet (paper Tables 3/4)"),
    "nz": zoo.Field("int", 128, min=1, help="latent size; z ~ N(0, I)"),
    "nc": zoo.Field("int", 3, min=1, help="image channels (1 for MNIST padded to 32 px)"),
    "image_size": zoo.Field("int", 32, choices=(32, 48), help="32; 48 (STL-10 size) for net 'cnn' only"),
    "g_ch": zoo.Field("int", None, min=8, help="generator width; default 512 (cnn) or 256 (resnet)"),
    "d_ch": zoo.Field("int", None, min=8, help="discriminator width; default 512 (cnn) or 128 (resnet)"),
    "bn_eps": zoo.Field("float", 1e-5, min=0.0, help="generator batch-norm eps (StudioGAN checkpoints: 1e-4)"),
    "g_linear_bn": zoo.Field(
        "bool", True, help="cnn: batch norm + ReLU after the first dense layer (False: StudioGAN's deep_conv)"
    ),
}

RECIPES = {
    # Table 1 setting C; the standard-CNN SN-GAN results use n_dis = 1
    "cnn": {
        "source": "Miyato et al. 2018, Table 1 setting C (alpha=0.0002, beta1=0.5, beta2=0.999, n_dis=1); "
        "w86763777/pytorch-gan-collections sngan_cifar10_cnn config",
        "loss": "hinge",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.5, 0.999),
        "n_critic": 1,
        "batch_size": 64,
        "image_range": (-1.0, 1.0),
    },
    # issue 10's SN-GAN CNN on CIFAR-10: hinge loss with n_dis 5; the optimiser of the paper's
    # n_dis-5 experiments (alpha 2e-4, beta1 0, beta2 0.9). The G batch stays the D batch (64).
    "cnn-ndis5": {
        "source": "Miyato et al. 2018, standard CNN with the n_dis=5 optimiser of its ResNet experiments "
        "(alpha=0.0002, beta1=0, beta2=0.9); hinge loss",
        "loss": "hinge",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.0, 0.9),
        "n_critic": 5,
        "batch_size": 64,
        "image_range": (-1.0, 1.0),
    },
    # the ResNet experiments: alpha 0.0002, beta1 0, beta2 0.9, n_dis 5, G batch 2x D batch, linear decay
    "resnet": {
        "source": "Miyato et al. 2018, ResNet experiments (alpha=0.0002, beta1=0, beta2=0.9, n_dis=5); "
        "pfnet-research/sngan_projection and w86763777 sngan_cifar10_res configs",
        "loss": "hinge",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.0, 0.9),
        "n_critic": 5,
        "batch_size": 64,
        "batch_size_g": 128,
        "lr_schedule": "linear-decay",
        "steps": 50000,
        "image_range": (-1.0, 1.0),
    },
}


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="sngan",
            builder="zoo_sngan.model:build",
            components={"discriminator": "zoo_sngan.model:build_discriminator"},
            schema=SCHEMA,
            default_tag="mnist",
            paper=PAPER,
            reference_code="https://github.com/w86763777/pytorch-gan-collections/blob/master/source/models/sngan.py",
            description=(
                "SN-GAN standard CNN and ResNet (32 px) with spectral norm on every discriminator layer "
                "(torch.nn.utils.parametrizations.spectral_norm; keys '.parametrizations.weight.original', "
                "'.0._u', '.0._v'). Module names follow w86763777/pytorch-gan-collections. The CNN "
                "discriminator widths follow the authors' code (64,128,128,256,256,512,512), not the "
                "paper's Table 3 (64,64,128,128,256,256,512). Hinge loss; use the recipe named after the "
                "net ('cnn': n_dis 1, 'resnet': n_dis 5). Discriminators return scores of shape (N,)."
            ),
            converters={
                "w86763777": "zoo_sngan.convert:from_w86763777",
                "studiogan-resnet": "zoo_sngan.convert:from_studiogan_resnet",
                "studiogan-deep-conv": "zoo_sngan.convert:from_studiogan_deep_conv",
            },
            recipes=RECIPES,
            default_recipe="cnn",
        )
    )


@zoo.hookimpl
def register_losses(register):  # type: ignore[no-untyped-def]
    register(zoo.Loss(
        name="hinge",
        d="zoo.training.losses:hinge_d",
        g="zoo.training.losses:wasserstein_g",
        paper=PAPER + " (the hinge version of the adversarial loss)",
        description="D: E[relu(1 - f(x))] + E[relu(1 + f(G(z)))]; G: -E[f(G(z))]",
    ))

@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
