"""``zoo convert ARCH SRC... -o DIR``: upstream checkpoint(s) to a Hub-repo folder.

The lead adds the ``convert`` command object to the CLI group
(``main.add_command(convert)``); it only parses options and calls
:func:`zoo.convert.convert`.
"""

from __future__ import annotations

import json

import click

from ..errors import ConfigError, ZooError


def _parse_config(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--config must be a JSON object, e.g. '{{\"nc\": 1}}': {e}") from e
    if not isinstance(value, dict):
        raise ConfigError(f"--config must be a JSON object, e.g. '{{\"nc\": 1}}', got {type(value).__name__}")
    return value


@click.command("convert")
@click.argument("arch")
@click.argument("src", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="folder to write")
@click.option("--layout", default=None, help="upstream layout (needed when the architecture has several)")
@click.option("--config", "config_json", default=None, help="builder config as JSON, over what the file says")
@click.option("--license", "license_", default="other", show_default=True, help="licence for the card")
@click.option("--source-url", default="", help="where the upstream file came from, for the card")
@click.option("--name", default=None, help="arch.tag to register the weights under (for the card)")
@click.option("--force", is_flag=True, help="overwrite an existing model.safetensors in the folder")
def convert(arch, src, out_dir, layout, config_json, license_, source_url, name, force):  # type: ignore[no-untyped-def]
    """Convert upstream checkpoint SRC (one or more files) of ARCH into folder DIR.

    Pickled files are read only with torch.load(weights_only=True). DIR gets
    config.json, model.safetensors and a README.md card ready for a mirror.
    """
    from ..convert import convert as _convert

    try:
        result = _convert(
            arch,
            list(src),
            out_dir,
            layout=layout,
            config=_parse_config(config_json),
            license=license_,
            source_url=source_url,
            overwrite=force,
            name=name,
        )
    except ZooError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"wrote {result.out_dir}/model.safetensors ({result.size} bytes, sha256 {result.sha256})")
    click.echo(f"architecture {result.architecture}, layout {result.layout}, config {json.dumps(result.config, sort_keys=True)}")
