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

from ..errors import ZooError
from .generator import DEFAULT_CONFIG, INIT, MAKE_WEIGHTS, MODEL, README, TESTS  # noqa: F401  (the templates, as before)


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
        from .. import __version__

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
    a stylizer that trains, evaluates, stylizes and publishes (:mod:`zoo.scaffold.style`); returns where and
    what it pinned."""
    if task not in TASKS:
        raise ZooError(f"--task {task!r}: `zoo new-plugin` writes one of {list(TASKS)}")
    if not isinstance(name, str) or not _NAME_RE.match(name) or "--" in name or name[-1] in "-_":
        raise ZooError(
            f"plugin name {name!r} must be lower case letters, digits, '-' or '_', starting with a letter, "
            "ending with a letter or digit, with no '--' (it becomes the architecture name, as in "
            "zoo.load('NAME.demo'), and part of the Hub repo id, which huggingface_hub checks)"
        )
    from ..registry import repo_id_problem

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
        from . import style as T
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

    from ..repos.hub import sha256_file
    from ..repos.publish import folder_revision

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
