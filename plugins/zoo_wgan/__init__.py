"""Registration of the wgan and wgan-gp architectures (no torch imported here)."""

from __future__ import annotations

import zoo

WGAN_PAPER = "Arjovsky, Chintala, Bottou. Wasserstein GAN. ICML 2017. https://arxiv.org/abs/1701.07875"
GP_PAPER = (
    "Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved Training of Wasserstein GANs. "
    "NeurIPS 2017. https://arxiv.org/abs/1704.00028"
)


def _schema(gp: bool) -> dict[str, zoo.Field]:
    s = {
        "net": zoo.Field("str", "dcgan", choices=("dcgan", "mlp"), help="DCGAN networks (32/64 px) or the MLP"),
        "nz": zoo.Field("int", 100, min=1, help="latent size"),
        "ngf": zoo.Field("int", 64, min=1, help="DCGAN generator width (net=dcgan)"),
        "ndf": zoo.Field("int", 64, min=1, help="DCGAN critic width (net=dcgan)"),
        "nc": zoo.Field("int", 3, min=1, help="image channels"),
        "image_size": zoo.Field("int", 64, min=4, help="32 or 64 for net=dcgan; any (e.g. 28) for net=mlp"),
        "bn_eps": zoo.Field("float", 0.8, min=0.0, help="MLP generator batch-norm eps (net=mlp), as zoo_gan"),
    }
    if gp:
        s["critic_norm"] = zoo.Field(
            "str", "none", choices=("none", "layer"), help="DCGAN critic normalisation: no batch norm with GP"
        )
    return s


WGAN_RECIPES = {
    # Arjovsky et al. 2017, Algorithm 1 defaults
    "paper": {
        "source": "Arjovsky et al. 2017, Algorithm 1 (alpha=0.00005, c=0.01, m=64, n_critic=5)",
        "loss": "wasserstein",
        "optimizer": "rmsprop",
        "lr_g": 5e-5,
        "lr_d": 5e-5,
        "clip_value": 0.01,
        "n_critic": 5,
        "batch_size": 64,
        "image_range": (-1.0, 1.0),
    },
}

GP_RECIPES = {
    # gulrajani/improved_wgan_training gan_cifar.py / gan_mnist.py, and issue 3: beta1 0.5
    "reference": {
        "source": "Gulrajani et al. 2017 code (gan_cifar.py): Adam 1e-4, betas (0.5, 0.9), lambda 10, n_critic 5",
        "loss": "wasserstein-gp",
        "gp_lambda": 10.0,
        "optimizer": "adam",
        "lr_g": 1e-4,
        "lr_d": 1e-4,
        "betas": (0.5, 0.9),
        "n_critic": 5,
        "batch_size": 64,
        "image_range": (-1.0, 1.0),
    },
    # the paper's Algorithm 1 defaults differ from its code in beta1
    "paper": {
        "source": "Gulrajani et al. 2017, Algorithm 1 (lambda=10, n_critic=5, alpha=0.0001, beta1=0, beta2=0.9)",
        "loss": "wasserstein-gp",
        "gp_lambda": 10.0,
        "optimizer": "adam",
        "lr_g": 1e-4,
        "lr_d": 1e-4,
        "betas": (0.0, 0.9),
        "n_critic": 5,
        "batch_size": 64,
        "image_range": (-1.0, 1.0),
    },
}

CONVERTERS = {
    "eriklindernoren": "zoo_wgan.convert:from_eriklindernoren",
    "pytorch-examples": "zoo_wgan.convert:from_pytorch_examples",
}


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="wgan",
            builder="zoo_wgan.model:build",
            components={"discriminator": "zoo_wgan.model:build_critic"},
            schema=_schema(gp=False),
            default_tag="mnist",
            paper=WGAN_PAPER,
            reference_code="https://github.com/eriklindernoren/PyTorch-GAN/blob/master/implementations/wgan/wgan.py",
            description=(
                "WGAN with weight clipping. net='dcgan': pytorch/examples DCGAN generator and a critic "
                "with batch norm and no sigmoid (32/64 px); net='mlp': eriklindernoren's MLPs (28 px). "
                "The critic returns scores of shape (N,)."
            ),
            converters=CONVERTERS,
            recipes=WGAN_RECIPES,
            default_recipe="paper",
        )
    )
    register(
        zoo.Architecture(
            name="wgan-gp",
            builder="zoo_wgan.model:build",
            components={"discriminator": "zoo_wgan.model:build_critic"},
            schema=_schema(gp=True),
            default_tag="mnist",
            paper=GP_PAPER,
            reference_code="https://github.com/eriklindernoren/PyTorch-GAN/blob/master/implementations/wgan_gp/wgan_gp.py",
            description=(
                "WGAN with gradient penalty. Networks as 'wgan', but the DCGAN critic has no batch norm "
                "(critic_norm 'none', as the authors' gan_cifar.py; or 'layer': layer norm, the paper's "
                "suggestion), since the penalty is per sample. Default recipe: the authors' code "
                "(betas 0.5/0.9, as issue 3 asks); recipe 'paper' has Algorithm 1's beta1=0."
            ),
            converters=CONVERTERS,
            recipes=GP_RECIPES,
            default_recipe="reference",
        )
    )


@zoo.hookimpl
def register_losses(register):  # type: ignore[no-untyped-def]
    register(zoo.Loss(
        name="wasserstein",
        d="zoo.training.losses:wasserstein_d",
        g="zoo.training.losses:wasserstein_g",
        paper=WGAN_PAPER,
        description="critic E[f(G(z))] - E[f(x)], generator -E[f(G(z))]; weight clipping from the recipe's clip",
        aliases=("wgan", "wasserstein-clip"),
    ))
    register(zoo.Loss(
        name="wasserstein-gp",
        d="zoo.training.losses:wasserstein_d",
        g="zoo.training.losses:wasserstein_g",
        gradient_penalty=True,
        paper=GP_PAPER,
        description="the Wasserstein loss plus gp_lambda * E[(||grad f(x_hat)||_2 - 1)^2] on interpolates",
        aliases=("wgan-gp",),
    ))

@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
