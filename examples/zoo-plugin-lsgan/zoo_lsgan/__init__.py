"""Registration of the lsgan plugin: an architecture, a loss, two recipes and a command.

No torch here: `zoo list` and `zoo --help` import this module. Everything is
named by import path and imported only when it is used:

- ``zoo_lsgan.model:build`` / ``build_discriminator``  the networks (``zoo.build``, ``zoo train``)
- ``zoo_lsgan.losses:d_loss`` / ``g_loss``             the least-squares loss (``zoo train``)
- ``zoo_lsgan.cli:interpolate``                        ``zoo lsgan-interpolate`` (when it runs)

The zoo finds this module through the entry point in pyproject.toml:

    [project.entry-points."zoo.plugins"]
    lsgan = "zoo_lsgan"
"""

from __future__ import annotations

import zoo

PAPER = (
    "Mao, Li, Xie, Lau, Wang, Smolley. Least Squares Generative Adversarial Networks. ICCV 2017. "
    "https://arxiv.org/abs/1611.04076"
)

SCHEMA = {
    "nz": zoo.Field("int", 64, min=1, help="latent size; the latent is (n, nz) ~ N(0, I)"),
    "ngf": zoo.Field("int", 32, min=1, help="generator width (channels of its last hidden layer)"),
    "ndf": zoo.Field("int", 32, min=1, help="discriminator width (channels of its first layer)"),
    "nc": zoo.Field("int", 1, min=1, help="image channels: 1 for MNIST, 3 for RGB"),
    "image_size": zoo.Field("int", 32, choices=(32,), help="output height and width in pixels"),
}


@zoo.hookimpl
def register_architectures(register):
    register(
        zoo.Architecture(
            name="lsgan",
            builder="zoo_lsgan.model:build",
            # what `zoo train` trains the generator against: same config as the builder, returns scores (n,)
            components={"discriminator": "zoo_lsgan.model:build_discriminator"},
            schema=SCHEMA,
            default_tag="mnist",
            task="image-generation",
            paper=PAPER,
            reference_code="https://github.com/eriklindernoren/PyTorch-GAN/blob/master/implementations/lsgan/lsgan.py",
            description=(
                "A small 32 px convolutional generator and discriminator trained with the least-squares loss "
                "(0-1 coding: a=0, b=1, c=1). The discriminator has no sigmoid: its raw output is regressed "
                "onto 1 for real and 0 for generated images."
            ),
            default_recipe="paper",  # registered below, through register_recipes
        )
    )


@zoo.hookimpl
def register_losses(register):
    register(
        zoo.Loss(
            name="least-squares",
            d="zoo_lsgan.losses:d_loss",
            g="zoo_lsgan.losses:g_loss",
            paper=PAPER,
            description="D: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]; G: 1/2 E[(D(G(z)) - 1)^2] (a=0, b=1, c=1)",
            aliases=("lsgan", "ls"),
        )
    )


@zoo.hookimpl
def register_recipes(register):
    # the settings of the reference implementation (argparse defaults of lsgan.py)
    register(zoo.TrainingRecipe("lsgan", "paper", {
        "source": "Mao et al. 2017 with eriklindernoren/PyTorch-GAN lsgan.py defaults: Adam 2e-4, betas (0.5, 0.999)",
        "loss": "least-squares",
        "optimizer": "adam",
        "lr": 2e-4,
        "betas": (0.5, 0.999),
        "batch_size": 64,
        "n_critic": 1,
    }))
    # a recipe for another plugin's architecture: the built-in dcgan, trained with this plugin's loss
    register(zoo.TrainingRecipe("dcgan", "least-squares", {
        "source": "the DCGAN paper's optimiser with the least-squares loss of Mao et al. 2017",
        "loss": "least-squares",
        "optimizer": "adam",
        "lr": 2e-4,
        "betas": (0.5, 0.999),
        "batch_size": 64,
    }))


@zoo.hookimpl
def register_commands(register):
    register(zoo.Command("lsgan-interpolate", "zoo_lsgan.cli:interpolate",
                         help="Write a strip of images along a line between two latents of a generator."))
