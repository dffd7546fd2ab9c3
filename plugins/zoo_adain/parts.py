"""The pieces of AdaIN training under one name (``T`` in :mod:`zoo_adain.trainer` and
:mod:`zoo_adain.export`): :mod:`.data` (images), :mod:`.recipe` (settings, losses, encoder and
decoder set-up, the step) and :mod:`.runs` (a run's model and its export). :mod:`zoo_adain.train`
re-exports the same names beside its ``train`` and command line.
"""

from __future__ import annotations

from . import encoders as E  # noqa: F401  (the encoder candidates, as T.E)
from .data import (  # noqa: F401
    HELD_OUT_CONTENT, HELD_OUT_STYLES, SKIMAGE_CONTENT, IMAGE_SUFFIXES, skimage_image, resize_short, to_tensor,
    center_square, list_images, CropPool, _YIQ, rotate_hue, read_manifest, content_sources, _open_rgb,
    load_pools, read_gimp_pattern, tile_to, style_weights, PATTERN_SUFFIX,
)
from .recipe import (  # noqa: F401
    mean_std, adain, total_variation, image_terms, content_loss, style_loss, TrainConfig, ENCODER_KINDS, vgg16_hed_encoder,
    enc_features, encoder_state, build_encoder, calibration_images, new_decoder, conv_outputs,
    revive_dead_channels, calibrate_decoder, dead_channels, lr_at, warmup_step, train_step, feature_scales,
    loss_network, LOSS_NETWORKS, LOSS_NETWORK_DEPTH, TEACHER_TARGETS, bottleneck,
)
from .runs import (  # noqa: F401
    MODEL_CONFIG, vgg16_model_config, zoo_model_from, run_model, load_run, export_hub_folder, model_config, builder_config,
    same_decoder,
)
