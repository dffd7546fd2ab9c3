"""The templates of ``zoo new-plugin NAME`` (an image generator): registration, model, weights maker,
tests and README. :mod:`zoo.scaffold` writes them.
"""

from __future__ import annotations


INIT = '''\
"""Registration of the {name} architecture and its weights.

The zoo imports this module to list models (`zoo list`), so it must not import
torch: the builder is named by import path and imported only when building.
"""

from __future__ import annotations

import zoo

SCHEMA = {{
    "latent_dim": zoo.Field("int", 16, min=1, help="size of the latent vector z ~ N(0, I)"),
    "width": zoo.Field("int", 32, min=1, help="channels of the last hidden layer"),
    "channels": zoo.Field("int", 1, choices=(1, 3), help="image channels"),
    "image_size": zoo.Field("int", 16, choices=(16, 32, 64), help="output height and width"),
}}


@zoo.hookimpl
def register_architectures(register):
    register(
        zoo.Architecture(
            name="{name}",
            builder="{package}.model:build",
            schema=SCHEMA,
            default_tag="demo",
            task="image-generation",
            paper="TODO: cite the paper this architecture comes from",
            reference_code="TODO: link the reference implementation",
            description="A small transposed-convolution generator written by `zoo new-plugin`.",
            # To train it with `zoo train`, name the network it is trained against (same config as the
            # builder; returns raw scores of shape (n,)) and a default recipe:
            # components={{"discriminator": "{package}.model:build_discriminator"}},
            # default_recipe="paper",
        )
    )


# Losses, recipes and commands come through hooks too (docs/plugins.md). Uncomment and edit:
#
# @zoo.hookimpl
# def register_losses(register):
#     # d(real_scores, fake_scores) and g(fake_scores) return a scalar to minimise; named by import path
#     register(zoo.Loss("{name}-loss", d="{package}.losses:d_loss", g="{package}.losses:g_loss",
#                       paper="TODO: the paper of the loss"))
#
#
# @zoo.hookimpl
# def register_recipes(register):
#     # for this architecture or any other installed one; `zoo train {name} --recipe paper`
#     register(zoo.TrainingRecipe("{name}", "paper", {{
#         "loss": "bce-nonsaturating", "optimizer": "adam", "lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 64,
#     }}))
#
#
# @zoo.hookimpl
# def register_commands(register):
#     # a click command in {package}/cli.py, imported only when `zoo {name}-hello` runs (import torch inside it)
#     register(zoo.Command("{name}-hello", "{package}.cli:hello", help="One line for `zoo --help`."))


@zoo.hookimpl
def register_weights(register):
    # Pins printed by `python -m {package}.make_weights` and by `zoo push`.
    register(
        zoo.Weights(
            name="{name}.demo",
            repo_id="{repo_id}",
            revision="{revision}",
            sha256="{sha256}",
            size={size},
            config={config!r},
            license="mit",
            dataset="none",
            notes="untrained: the seeded initialisation written by `zoo new-plugin`",
        )
    )
'''


MODEL = '''\
"""The {name} model. Only this module imports torch."""

from __future__ import annotations

from torch import nn

from zoo.generative import ImageGenerator


class Generator(ImageGenerator):
    """z (n, latent_dim) -> images (n, channels, image_size, image_size) in [-1, 1].

    ImageGenerator gives it sample(n, seed=...) returning images in [0, 1].
    """

    def __init__(self, latent_dim: int = 16, width: int = 32, channels: int = 1, image_size: int = 16):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = latent_dim, channels, image_size
        self.start = image_size // 4
        self.project = nn.Linear(latent_dim, 2 * width * self.start * self.start)
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * width),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z):
        x = self.project(z.flatten(1)).view(z.shape[0], -1, self.start, self.start)
        return self.net(x)


def build(latent_dim: int = 16, width: int = 32, channels: int = 1, image_size: int = 16) -> Generator:
    """The architecture's builder: its arguments are the config keys of the schema."""
    return Generator(latent_dim, width, channels, image_size)
'''


MAKE_WEIGHTS = '''\
"""Write a Hub-repo folder for {name}: README.md (the card), config.json, model.safetensors.

    python -m {package}.make_weights hub/{repo_id} --seed 0

With --seed it saves the seeded, untrained model (the demo weights). Replace
`trained_model()` with your training (or load your checkpoint) to publish
real weights; then `zoo push hub/{repo_id} --repo {repo_id} ...` and paste the
printed pins into register_weights in {package}/__init__.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

CONFIG = {config!r}


def card(params: int, seed: int):
    """The model card, written through the zoo's one card writer (zoo.card_writer); edit its texts."""
    from zoo.card_writer import Card, Citation, Metric, Result, Training, generator_snippet

    return Card(
        name="{name}.demo",
        title="{name}.demo",
        summary=f"The {name} generator (`{{json.dumps(CONFIG)}}`) as `zoo new-plugin` wrote it.",
        license="mit",
        tags=("gan", "image-generation", "{name}"),
        intended_use="A starting point for a plugin author: these weights are the seeded, untrained "
        "initialisation, so the plugin's tests can load and sample it end to end.",
        how_to_use=generator_snippet("{name}.demo"),
        training_data="None: the weights are untrained.",
        training=Training(
            "torch.manual_seed, then the default initialisation; batch-norm statistics at their initial values.",
            command=f"python -m {package}.make_weights hub/{repo_id} --seed {{seed}}",
        ),
        evaluation="Not evaluated: the weights are untrained, so the samples are noise.",
        limitations="Produces noise until trained. Replace this card's texts when you publish trained weights.",
        citation=Citation(paper="TODO: the paper of the architecture."),
        results=(Result("unconditional-image-generation", "none", "none", "none",
                        (Metric("params", params, "number of parameters, counted by torch"),)),),
    )


def trained_model(seed: int):
    """The model to publish. Replace with your training loop or checkpoint loading."""
    import torch

    from {package}.model import build

    torch.manual_seed(seed)
    return build(**CONFIG).eval()


def write_folder(model, out: Path, *, seed: int = 0) -> Path:
    """Save ``model``'s weights, its config and the card into ``out``."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {{k: v.detach().contiguous() for k, v in model.state_dict().items()}}
    save_file(state, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps({{"architecture": "{name}", "config": CONFIG}}, indent=2) + "\\n")
    params = sum(p.numel() for p in model.parameters())
    from zoo.card_writer import write

    write(card(params, seed), out)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the Hub-repo folder to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = write_folder(trained_model(args.seed), args.out, seed=args.seed)
    from zoo.repos.hub import sha256_file
    from zoo.repos.publish import folder_revision

    weights = folder / "model.safetensors"
    print(f'revision="{{folder_revision(folder)}}", sha256="{{sha256_file(weights)}}", size={{weights.stat().st_size}}')


if __name__ == "__main__":
    main()
'''


TESTS = '''\
"""The zoo's conformance kit over this plugin (run: pytest)."""

from pathlib import Path

from zoo import testing

HUB = Path(__file__).resolve().parent.parent / "hub"


def test_registration_and_builders():
    testing.check_plugin("{name}", weights=False)


def test_the_weights_folder_is_publishable():
    report = testing.check_repo_folder(HUB / "{repo_id}")
    assert report.architecture == "{name}"


def test_weights_card_and_load_from_the_local_mirror():
    with testing.use_mirror(HUB):
        checked = testing.check_plugin("{name}")
    assert checked["weights"] == ["{name}.demo"]
'''


README = """\
# zoo-{name}

A plugin for the zoo model registry, written by `zoo new-plugin {name}`.

The zoo is not on a package index: install it first from where you got it (`pip install -e /path/to/zoo`,
or its wheel), then this package. pyproject.toml depends on `{requirement}`, the zoo this package was made
with; change it if your zoo lives elsewhere (`zoo-models @ git+https://HOST/ORG/zoo@COMMIT`).

    pip install -e .            # registers the entry point; `zoo list` now shows {name}
    pytest                      # the zoo's conformance kit (zoo.testing)
    zoo sample {name}.demo -o grid.png   # needs the weights: see below

Files: `{package}/__init__.py` registers (no torch there), `{package}/model.py`
builds, `{package}/make_weights.py` writes the Hub-repo folder `hub/{repo_id}`
(card, config.json, model.safetensors) that `zoo push` publishes.

Until the weights are on a Hub or mirror, point the zoo at the folder:
`ZOO_MIRRORS=$PWD/hub HF_HUB_OFFLINE=1 zoo sample {name}.demo -o grid.png`.

To publish trained weights: change `trained_model()` in make_weights.py, run
`python -m {package}.make_weights hub/{repo_id}`, then

    zoo push hub/{repo_id} --repo {repo_id} --mirror /path/to/mirror   # or --endpoint/--token for a Hub

and paste the revision, sha256 and size it prints into `register_weights`.
"""


DEFAULT_CONFIG = {"latent_dim": 16, "width": 32, "channels": 1, "image_size": 16}
