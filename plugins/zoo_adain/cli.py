"""``zoo stylize CONTENT STYLE... -o OUT``: arbitrary style transfer from the command line.

The adain plugin registers this command through the zoo's ``register_commands``
hook (see ``zoo_adain/__init__.py``); the zoo imports this module only when
``zoo stylize`` runs. It only parses options and calls ``model.stylize`` (see
``zoo_adain.stylize`` for each option); torch is imported inside the command.

    zoo stylize photo.jpg starry_night.jpg -o out.png
    zoo stylize photo.jpg a.jpg b.jpg --style-weights 1,3 -o mix.png
    zoo stylize photo.jpg a.jpg b.jpg --mask sky.png -o regions.png
    zoo stylize photo.jpg a.jpg --preserve-color luminance --alpha 0.8 -o out.png
    zoo stylize photo.jpg a.jpg --model cards/zoo/adain-zoo -o out.png   # a Hub-repo folder
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo.errors import ConfigError, ZooError


def load_model(model: str, revision: str | None = None) -> Any:
    """A registered model name (``adain``, ``adain.vgg16``), or a Hub-repo folder holding
    config.json and model.safetensors (as ``zoo convert`` and training write them)."""
    folder = Path(model)
    if folder.is_dir():
        from zoo.loading import load_folder

        cfg_path, weights = folder / "config.json", folder / "model.safetensors"
        if not cfg_path.is_file() or not weights.is_file():
            raise ConfigError(f"{folder} is not a model folder: it needs config.json and model.safetensors")
        # the config goes through the architecture's schema and size bound; errors are typed and name the file
        return load_folder(folder)
    from zoo import load

    return load(model, revision=revision)


def _weights(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as e:
        raise click.BadParameter(f"give numbers separated by commas, e.g. 1,3 (got {text!r})") from e


def _size(text: str | None) -> int | tuple[int, int] | None:
    if not text:
        return None
    try:
        if "x" in text.lower():
            w, h = (int(v) for v in text.lower().split("x"))
            return (h, w)
        return int(text)
    except ValueError as e:
        raise click.BadParameter(f"give N (shorter side) or WxH, e.g. 512 or 640x480 (got {text!r})") from e


def _check_size_bound(size: int | tuple[int, int] | None) -> None:
    """--size within [limits] image_pixels, checked before the model is loaded."""
    from zoo.images import check_output_pixels

    if isinstance(size, tuple):
        check_output_pixels(*size, what="--size")
    elif isinstance(size, int) and size > 0:
        check_output_pixels(size, size, what=f"the smallest output --size {size} (the shorter side) gives")


@click.command("stylize")
@click.argument("content", type=click.Path(dir_okay=False))
@click.argument("style", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="output image (.png or .jpg)")
@click.option("--model", "model_name", default="adain", show_default=True,
              help="a style-transfer model: a name (adain, adain.vgg16; `zoo list` shows the others), a folder "
                   "with config.json and model.safetensors, or hf-hub:org/name@revision")
@click.option("--revision", default=None, help="weights revision (a commit sha); default the pinned one")
@click.option("--alpha", type=click.FloatRange(0.0, 1.0), default=1.0, show_default=True,
              help="content-style trade-off: 1 full style, 0 the content")
@click.option("--style-weights", default=None, help="interpolation weights, one per style, e.g. 1,3")
@click.option("--preserve-color", type=click.Choice(["coral", "luminance"]), default=None, is_flag=False,
              flag_value="coral", help="keep the content's colours: coral (default when given alone) or luminance")
@click.option("--mask", "masks", multiple=True, type=click.Path(dir_okay=False),
              help="spatial control: one mask per style, or one mask for two styles (white: first, black: second)")
@click.option("--size", default=None, help="output size: N (shorter side) or WxH; default the content's size")
@click.option("--style-size", type=int, default=512, show_default=True, help="style's shorter side; 0 keeps it")
@click.option("--max-pixels", type=int, default=None, help="most pixels processed at once (default 2048*2048)")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default="auto", show_default=True)
@click.option("--no-alpha", is_flag=True, help="drop the content's alpha channel (output RGB)")
@click.option("--resample", type=click.Choice(["zoo", "reference"]), default="zoo", show_default=True,
              help="reference: --size N and --style-size resize as naoto0804's test.py (PIL bilinear)")
@click.option("--wct-mix", type=click.FloatRange(0.0, 1.0), default=None,
              help="AdaIN models: the share of the whitening-colouring transform at the bottleneck (0: AdaIN, 1: WCT, "
              "which carries more of the painting's texture); default the model's own")
def stylize(content, style, output, model_name, revision, alpha, style_weights, preserve_color, masks, size,
            style_size, max_pixels, precision, no_alpha, resample, wct_mix):  # type: ignore[no-untyped-def]
    """Stylize CONTENT in the manner of STYLE (several STYLEs: interpolate, or regions with --mask)."""
    from zoo.images import DEFAULT_MAX_PIXELS, check_output_path, save_image

    try:
        check_output_path(output)  # before loading anything: an unwritable -o is said first, not after the work
        _check_size_bound(_size(size))  # and an output too large to allocate (issue 22)
        model = load_model(model_name, revision)
        if not hasattr(model, "stylize"):
            raise ConfigError(f"model {model_name!r} is not a style-transfer model (it has no stylize())")
        if wct_mix is not None:
            if not hasattr(model, "wct_mix"):
                raise ConfigError(f"--wct-mix: model {model_name!r} has no AdaIN bottleneck; leave the option out")
            model.wct_mix = float(wct_mix)
        # the stylize contract (zoo.stylizing, docs/plugins.md): alpha always, every other option only when
        # given on the command line; one the model's stylize() does not take is refused by name
        ctx = click.get_current_context()
        given = {p for p in ctx.params if ctx.get_parameter_source(p) is not click.core.ParameterSource.DEFAULT}
        options: dict[str, Any] = {}
        if "style_weights" in given:
            options["style_weights"] = _weights(style_weights)
        if "preserve_color" in given:
            options["preserve_color"] = preserve_color or False
        if "size" in given:
            options["size"] = _size(size)
        if "style_size" in given:
            options["style_size"] = style_size or None
        if "max_pixels" in given:
            options["max_pixels"] = max_pixels or DEFAULT_MAX_PIXELS
        if no_alpha:
            options["keep_alpha"] = False
        if "precision" in given:
            options["precision"] = precision
        if "resample" in given:
            options["resample"] = resample
        if len(masks) == 1 and len(style) == 2:
            options["mask"] = masks[0]
        elif masks:
            options["masks"] = list(masks)
        styles = list(style) if len(style) > 1 else style[0]
        from zoo.stylizing import call_stylize

        image = call_stylize(model, content, styles, alpha=alpha, **options)
        path = save_image(image, output)
    except ZooError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"wrote {path} ({image.width}x{image.height})")
