"""``zoo new-plugin NAME``: write a ready plugin package.

The package it writes (``zoo-NAME/``)::

    pyproject.toml            the "zoo.plugins" entry point NAME = "zoo_NAME"; hatchling
    README.md                 what to do next
    zoo_NAME/__init__.py      registration only: Architecture and Weights records, no torch; where
                              losses, recipes and commands go (commented register_* hooks)
    zoo_NAME/model.py         the model (a small image generator to start from) and build()
    zoo_NAME/make_weights.py  writes a Hub-repo folder (card, config.json, model.safetensors)
    hub/ORG/NAME-demo/        that folder, made now from the seeded untrained model
    tests/test_conformance.py the conformance kit (zoo.testing) over the plugin and the folder

The demo weights are the untrained model's seeded initialisation, pinned by
sha256 in the registration, so that the package's tests exercise the whole
path (find, check, load, sample) from the first run; the card says so. The
author replaces them with trained weights, ``zoo push``es the folder and
updates the pins that ``zoo push`` prints.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .errors import ZooError

_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Scaffold:
    root: Path  # the package folder
    name: str  # architecture and entry-point name
    package: str  # import package
    repo_id: str  # of the demo weights
    hub_folder: Path
    revision: str
    sha256: str
    size: int
    task: str = "image-generation"


def package_name(name: str) -> str:
    return "zoo_" + name.replace("-", "_")


PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "zoo-{name}"
version = "0.1.0"
description = "The {name} architecture for the zoo model registry"
requires-python = ">=3.11"
# the zoo is on no package index: this names the zoo this package was made with (see README.md, "Install")
dependencies = ["{requirement}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The one line that makes this a zoo plugin: the zoo finds it through this group.
[project.entry-points."zoo.plugins"]
{name} = "{package}"

[tool.hatch.metadata]
allow-direct-references = true  # the zoo dependency is a direct reference (a path or a git URL)

[tool.hatch.build.targets.wheel]
packages = ["{package}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

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
TASKS = ("image-generation", "style-transfer")
DISTRIBUTION = "zoo-models"


def zoo_requirement() -> str:
    """The dependency a plugin declares on the zoo, which is on no package index: a direct reference to where
    the running zoo was installed from (PEP 610's direct_url.json: a folder, a wheel or a VCS URL), else the
    distribution name and version (an index or a wheel house that has it)."""
    import json
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from . import __version__

        return f"{DISTRIBUTION}>={__version__}"
    text = dist.read_text("direct_url.json")
    if text:
        try:
            info = json.loads(text)
        except json.JSONDecodeError:
            info = {}
        url = info.get("url")
        vcs = info.get("vcs_info")
        if isinstance(url, str) and url:
            if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
                return f"{DISTRIBUTION} @ {vcs['vcs']}+{url}@{vcs['commit_id']}"
            return f"{DISTRIBUTION} @ {url}"
    return f"{DISTRIBUTION}>={dist.version}"


def _load_file_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def new_plugin(name: str, out_dir: str | Path = ".", *, org: str = "my-org", force: bool = False,
               task: str = "image-generation") -> Scaffold:
    """Write the package ``zoo-NAME`` into ``out_dir``: an image generator, or with ``task="style-transfer"``
    a stylizer that trains, evaluates, stylizes and publishes (:mod:`zoo.scaffold_style`); returns where and
    what it pinned."""
    if task not in TASKS:
        raise ZooError(f"--task {task!r}: `zoo new-plugin` writes one of {list(TASKS)}")
    if not isinstance(name, str) or not _NAME_RE.match(name) or "--" in name or name[-1] in "-_":
        raise ZooError(
            f"plugin name {name!r} must be lower case letters, digits, '-' or '_', starting with a letter, "
            "ending with a letter or digit, with no '--' (it becomes the architecture name, as in "
            "zoo.load('NAME.demo'), and part of the Hub repo id, which huggingface_hub checks)"
        )
    from .registry import repo_id_problem

    org_problem = repo_id_problem(f"{org}/x") if isinstance(org, str) else "must be text"
    if org_problem:
        raise ZooError(f"--org {org!r} is not a valid Hub organisation name: it {org_problem}")
    problem = repo_id_problem(f"{org}/{name}-demo")
    if problem:
        raise ZooError(f"the demo weights' repo id {org}/{name}-demo {problem}; choose another NAME or --org")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ZooError(f"-o {out} is a file, not a folder; give the folder in which to create zoo-{name}/")
    package = package_name(name)
    root = Path(out_dir) / f"zoo-{name}"
    if root.exists() and any(root.iterdir()) and not force:
        raise ZooError(f"{root} exists and is not empty; choose another -o folder or pass --force to overwrite")
    repo_id = f"{org}/{name}-demo"
    style = task == "style-transfer"
    if style:
        from . import scaffold_style as T
    config = T.DEFAULT_CONFIG if style else DEFAULT_CONFIG
    fmt = {"name": name, "package": package, "repo_id": repo_id, "config": config, "requirement": zoo_requirement()}
    (root / package).mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(**fmt))
    (root / "README.md").write_text((T.README if style else README).format(**fmt))
    (root / package / "model.py").write_text((T.MODEL if style else MODEL).format(**fmt))
    (root / package / "make_weights.py").write_text((T.MAKE_WEIGHTS if style else MAKE_WEIGHTS).format(**fmt))
    (root / "tests" / "test_conformance.py").write_text((T.TESTS if style else TESTS).format(**fmt))
    if style:
        (root / package / "train.py").write_text(T.TRAIN.format(**fmt))
        (root / package / "losses.py").write_text(T.LOSSES.format(**fmt))

    # The demo weights: build with the generated model module (the package is not installed yet).
    import torch

    from .repos.hub import sha256_file
    from .repos.publish import folder_revision

    model_mod = _load_file_module(root / package / "model.py", f"_zoo_scaffold_{package}_model")
    make = _load_file_module(root / package / "make_weights.py", f"_zoo_scaffold_{package}_make")
    torch.manual_seed(0)
    model = model_mod.build(**config).eval()
    hub_folder = make.write_folder(model, root / "hub" / repo_id, seed=0)
    weights = hub_folder / "model.safetensors"
    pins = {"revision": folder_revision(hub_folder), "sha256": sha256_file(weights), "size": weights.stat().st_size}
    (root / package / "__init__.py").write_text((T.INIT if style else INIT).format(**fmt, **pins))
    return Scaffold(root, name, package, repo_id, hub_folder, pins["revision"], pins["sha256"], pins["size"], task)


def describe(s: Scaffold) -> str:
    if s.task == "style-transfer":
        return textwrap.dedent(f"""\
            wrote {s.root}
              {s.package}/__init__.py   registration (no torch): the architecture, its trainer, the demo weights
              {s.package}/model.py      the stylizer and its builder (stylize follows the zoo's contract)
              {s.package}/train.py      the trainer component `zoo train {s.name}` runs
              {s.package}/losses.py     its perceptual losses, registered through the loss hook
              {s.package}/make_weights.py
              hub/{s.repo_id}/          card, config.json, model.safetensors (untrained demo weights)
              tests/test_conformance.py
            next (the zoo is on no index: install it first, see README.md):
              cd {s.root} && pip install -e . && pytest
              ZOO_MIRRORS=$PWD/hub HF_HUB_OFFLINE=1 zoo stylize photo.jpg painting.jpg --model {s.name}.demo -o out.png
              zoo train {s.name} --data DIR --out hub/{s.repo_id} --steps 2000 && zoo eval hub/{s.repo_id} --data DIR""")
    return textwrap.dedent(f"""\
        wrote {s.root}
          {s.package}/__init__.py   registration (no torch)
          {s.package}/model.py      the model and its builder
          {s.package}/make_weights.py
          hub/{s.repo_id}/          card, config.json, model.safetensors (untrained demo weights)
          tests/test_conformance.py
        next (the zoo is on no index: install it first, see README.md):
          cd {s.root} && pip install -e . && pytest
          zoo list {s.name}*
          ZOO_MIRRORS=$PWD/hub HF_HUB_OFFLINE=1 zoo sample {s.name}.demo -o grid.png""")
