"""Registration of the dcgan architecture (no torch imported here)."""

from __future__ import annotations

import zoo

PAPER = (
    "Radford, Metz, Chintala. Unsupervised Representation Learning with Deep Convolutional "
    "Generative Adversarial Networks. ICLR 2016. https://arxiv.org/abs/1511.06434"
)

SCHEMA = {
    "nz": zoo.Field("int", 100, min=1, help="latent size; the latent is (n, nz, 1, 1) ~ N(0, I)"),
    "ngf": zoo.Field("int", 64, min=1, help="generator width (channels of its last hidden layer)"),
    "ndf": zoo.Field("int", 64, min=1, help="discriminator width (channels of its first layer)"),
    "nc": zoo.Field("int", 3, min=1, help="image channels: 1 for MNIST, 3 for RGB"),
    "image_size": zoo.Field("int", 64, choices=(32, 64), help="output height and width in pixels"),
}

# The paper's recipe (section 4, "Details of adversarial training"): Adam, lr 0.0002,
# beta1 0.5 (beta2 left at 0.999), mini-batch 128, weights N(0, 0.02), LeakyReLU slope
# 0.2, images scaled to [-1, 1]; the loss is the non-saturating GAN loss (the generator
# maximises log D(G(z))), as pytorch/examples dcgan/main.py implements it with BCELoss.
RECIPES = {
    "paper": {
        "source": "Radford et al. 2016, section 4; pytorch/examples dcgan/main.py",
        "loss": "bce-nonsaturating",
        "optimizer": "adam",
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": (0.5, 0.999),
        "batch_size": 128,
        "n_critic": 1,
        "init": "normal-0.02",
        "image_range": (-1.0, 1.0),
    },
}


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="dcgan",
            builder="zoo_dcgan.model:build",
            components={"discriminator": "zoo_dcgan.model:build_discriminator"},
            schema=SCHEMA,
            default_tag="mnist",
            paper=PAPER,
            reference_code="https://github.com/pytorch/examples/blob/main/dcgan/main.py",
            description=(
                "DCGAN generator and discriminator in the layer order and parameter names of "
                "pytorch/examples dcgan (nn.Sequential 'main'), so its state dicts load unchanged. "
                "32 px drops the first stage. The discriminator returns logits of shape (N,) "
                "(the reference's parameter-free final Sigmoid is applied by the loss or by "
                "Discriminator.probability)."
            ),
            converters={"pytorch-examples": "zoo_dcgan.convert:from_pytorch_examples"},
            recipes=RECIPES,
            default_recipe="paper",
        )
    )


@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
