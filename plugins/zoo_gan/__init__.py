"""Registration of the gan architecture (no torch imported here)."""

from __future__ import annotations

import zoo

PAPER = (
    "Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville, Bengio. "
    "Generative Adversarial Nets. NeurIPS 2014. https://arxiv.org/abs/1406.2661"
)

SCHEMA = {
    "nz": zoo.Field("int", 100, min=1, help="latent size; the latent is (n, nz) ~ N(0, I)"),
    "nc": zoo.Field("int", 1, min=1, help="image channels"),
    "image_size": zoo.Field("int", 28, min=4, help="image height and width (flattened into the MLP)"),
    "bn_eps": zoo.Field(
        "float",
        1e-5,
        min=0.0,
        help="generator batch-norm eps; the reference's BatchNorm1d(n, 0.8) sets 0.8 (eps, not momentum), "
        "which its converted checkpoints need; trained here, 0.8 partly mode-collapsed (no 0s or 6s) and 1e-5 did not",
    ),
}

RECIPES = {
    # eriklindernoren/PyTorch-GAN implementations/gan/gan.py defaults
    "reference": {
        "source": "eriklindernoren/PyTorch-GAN implementations/gan/gan.py (argparse defaults)",
        "loss": "bce-nonsaturating",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.5, 0.999),
        "batch_size": 64,
        "n_critic": 1,
        "epochs": 200,
        "image_range": (-1.0, 1.0),
    },
}


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="gan",
            builder="zoo_gan.model:build",
            components={"discriminator": "zoo_gan.model:build_discriminator"},
            schema=SCHEMA,
            default_tag="mnist",
            paper=PAPER,
            reference_code="https://github.com/eriklindernoren/PyTorch-GAN/blob/master/implementations/gan/gan.py",
            description=(
                "MLP generator (nz-128-256-512-1024-784, LeakyReLU 0.2, batch norm, tanh) and "
                "discriminator (784-512-256-1) in eriklindernoren/PyTorch-GAN's layout (nn.Sequential "
                "'model'). Its BatchNorm1d(n, 0.8) sets eps=0.8, not momentum; the zoo defaults to the "
                "textbook eps=1e-5 (config bn_eps; 0.8 mode-collapsed in training here) and converts the "
                "reference's checkpoints with bn_eps=0.8 so that they give the same outputs. "
                "The discriminator returns logits of shape (N,); the reference's "
                "final Sigmoid goes into the loss."
            ),
            converters={"eriklindernoren": "zoo_gan.convert:from_eriklindernoren"},
            recipes=RECIPES,
            default_recipe="reference",
        )
    )


# The losses of Goodfellow et al. (section 3): the generic math lives in zoo.training.losses; the names are this
# plugin's. D and the critics return logits, so both are written with softplus (BCE-with-logits).
@zoo.hookimpl
def register_losses(register):  # type: ignore[no-untyped-def]
    register(zoo.Loss(
        name="bce-nonsaturating",
        d="zoo.training.losses:bce_d",
        g="zoo.training.losses:bce_g_nonsaturating",
        paper=PAPER + " (section 3: the generator maximises log D(G(z)))",
        description="-log D(x) - log(1 - D(G(z))) for D; -log D(G(z)) for G (the non-saturating loss)",
        aliases=("nonsaturating", "non-saturating", "bce", "ns"),
    ))
    register(zoo.Loss(
        name="bce-minimax",
        d="zoo.training.losses:bce_d",
        g="zoo.training.losses:bce_g_minimax",
        paper=PAPER + " (equation 1)",
        description="the minimax game: G minimises log(1 - D(G(z)))",
        aliases=("minimax", "bce-minmax"),
    ))

@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
