"""A tiny architecture for host tests: a plugin source and a Hub-repo folder of real weights.

The host tests use it so that they exercise the plugin, registry, Hub and
loading machinery on a model of a few hundred parameters.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

CARD = """\
---
license: mit
library_name: zoo
tags: [gan, test]
datasets: [none]
model-index:
- name: tiny.test
  results:
  - task: {type: unconditional-image-generation}
    dataset: {name: none, type: none, split: none}
    metrics:
    - {type: params, value: %(params)d, name: "number of parameters, counted by torch"}
---
# tiny.test

## Model description
A tiny linear generator used by the zoo's own tests.

## Intended use
Tests only.

## How to use
```python
import zoo
G = zoo.load("tiny.test")
```

## Training data
None: random weights.

## Training procedure
`torch.manual_seed(0)` then the default initialisation.

## Evaluation
Not evaluated.

## Limitations
Produces noise.

## Citation
None.
"""

MODEL_SOURCE = '''
import torch

class Tiny(torch.nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.latent_dim = 3
        self.net = torch.nn.Linear(3, width)
        self.register_buffer("scale", torch.ones(width))

    def forward(self, z):
        return torch.tanh(self.net(z) * self.scale)

def build(width=4):
    return Tiny(width)
'''


@dataclass(frozen=True)
class TinyRepo:
    folder: Path
    repo_id: str
    revision: str
    sha256: str
    size: int


def make_repo(root: Path, repo_id: str = "zoo-tests/tiny-test", width: int = 4) -> TinyRepo:
    import torch
    from safetensors.torch import save_file

    from zoo.hub import sha256_file
    from zoo.publish import folder_revision

    folder = root / repo_id
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    ns: dict = {}
    exec(MODEL_SOURCE, ns)
    model = ns["build"](width)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    params = sum(p.numel() for p in model.parameters())
    (folder / "README.md").write_text(CARD % {"params": params})
    (folder / "config.json").write_text(json.dumps({"architecture": "tiny", "config": {"width": width}}))
    weights = folder / "model.safetensors"
    return TinyRepo(folder, repo_id, folder_revision(folder), sha256_file(weights), weights.stat().st_size)


def plugin_source(repo: TinyRepo | None, *, arch: str = "tiny", tag: str = "test", width: int = 4,
                  model_module: str = "fakeplug_tiny_model") -> str:
    weights = ""
    if repo is not None:
        weights = f"""
        @zoo.hookimpl
        def register_weights(register):
            register(zoo.Weights(
                name="{arch}.{tag}", repo_id="{repo.repo_id}", revision="{repo.revision}",
                sha256="{repo.sha256}", size={repo.size}, config={{"width": {width}}},
                license="mit", dataset="none"))
        """
    return textwrap.dedent(f"""
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(
                name="{arch}", builder="{model_module}:build", default_tag="{tag}",
                schema={{"width": zoo.Field("int", 4, min=1)}},
                paper="none", reference_code="none"))
        """) + textwrap.dedent(weights)


def install_model_module(site: Path, name: str = "fakeplug_tiny_model") -> None:
    (site / f"{name}.py").write_text(MODEL_SOURCE)
