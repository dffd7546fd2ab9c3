"""``zoo lsgan-interpolate MODEL -o strip.png``: the plugin's own command.

Registered through the zoo's ``register_commands`` hook; the zoo imports this
module only when the command runs. torch is imported inside the command body.
"""

from __future__ import annotations

import click


@click.command("lsgan-interpolate")
@click.argument("model")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the image to write (.png)")
@click.option("--steps", type=click.IntRange(2, 64), default=8, show_default=True, help="images in the strip")
@click.option("--seed-a", type=int, default=0, show_default=True, help="seed of the first latent")
@click.option("--seed-b", type=int, default=1, show_default=True, help="seed of the last latent")
def interpolate(model: str, output: str, steps: int, seed_a: int, seed_b: int) -> None:
    """Images of MODEL (a generator: a registered name, a Hub-repo folder or hf-hub:org/name) along the
    straight line between the latents drawn with SEED-A and SEED-B, side by side in one row."""
    import torch

    import zoo
    from zoo.generative import to_unit_range
    from zoo.images import save_grid

    G = zoo.load(model)
    if not hasattr(G, "latent"):
        raise click.ClickException(f"{model} is not a generator with latent(); lsgan-interpolate needs one")
    za = G.latent(1, torch.Generator().manual_seed(seed_a))
    zb = G.latent(1, torch.Generator().manual_seed(seed_b))
    t = torch.linspace(0.0, 1.0, steps).view(-1, *([1] * (za.dim() - 1)))
    z = (1 - t) * za + t * zb
    with torch.inference_mode():
        images = to_unit_range(G(z.to(next(G.parameters()).device)))  # forward gives [-1, 1]
    save_grid(images, output, nrow=steps)
    click.echo(f"wrote {output} ({steps} images from seed {seed_a} to seed {seed_b})")
