"""The templates of ``zoo new-plugin NAME --task style-transfer``: a working stylizer plugin.

The package trains with ``zoo train NAME`` (its trainer component runs on the zoo's training mechanism, its
losses come through the loss hook), evaluates with ``zoo eval`` (the style-transfer judge), stylizes with
``zoo stylize --model`` (the stylize contract of docs/plugins.md), publishes with ``zoo push`` and shows in
the catalog with its own usage snippet (its card's "How to use"). :mod:`zoo.scaffold` writes it.
"""

from __future__ import annotations

from .style_train import TRAIN  # noqa: F401  (the templates, as before)


INIT = '''\
"""Registration of the {name} style-transfer architecture and its weights.

The zoo imports this module to list models (`zoo list`), so it must not import torch: the builder and the
trainer are named by import path and imported only when used.
"""

from __future__ import annotations

import zoo

SCHEMA = {{
    "width": zoo.Field("int", 16, min=4, help="channels of the first encoder layer (then 2x and 4x)"),
}}


@zoo.hookimpl
def register_architectures(register):
    register(
        zoo.Architecture(
            name="{name}",
            builder="{package}.model:build",
            schema=SCHEMA,
            default_tag="demo",
            task="style-transfer",
            paper="TODO: cite the paper this architecture comes from",
            reference_code="TODO: link the reference implementation",
            description="A small arbitrary style-transfer network written by `zoo new-plugin --task style-transfer`: "
                        "a fixed encoder, adaptive instance normalisation, a trained decoder.",
            # `zoo train {name}` runs this trainer through the zoo's training mechanism
            components={{"trainer": "{package}.train:Trainer"}},
            # settings the trainer reads (`zoo train {name} --set KEY=VALUE` overrides them); the losses are
            # registered loss names (zoo plugins lists them; register_losses below registers these two)
            recipes={{"default": {{"lr": 1e-3, "batch_size": 4, "crop": 64, "content_weight": 1.0,
                                  "style_weight": 10.0,
                                  "losses": {{"content": "{name}-content", "style": "{name}-style"}}}}}},
            default_recipe="default",
        )
    )


@zoo.hookimpl
def register_losses(register):
    # perceptual losses (one function each, kind="perceptual"), found by name through the zoo's loss hook;
    # any trainer may use them, and this trainer may use another plugin's (`--set 'losses={{...}}'`)
    register(zoo.Loss("{name}-content", kind="perceptual", fn="{package}.losses:content_loss",
                      description="fn(out_feat, target): MSE of the output's last features to the target"))
    register(zoo.Loss("{name}-style", kind="perceptual", fn="{package}.losses:style_loss",
                      description="fn(out_feats, style_feats): over the layers, MSE of channel means and stds"))


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


LOSSES = '''\
"""The {name} plugin's perceptual losses, registered through the zoo's loss hook (see __init__.py)."""

import torch.nn.functional as F

from .model import mean_std


def content_loss(out_feat, target):
    return F.mse_loss(out_feat, target)


def style_loss(out_feats, style_feats):
    total = out_feats[0].new_zeros(())
    for o, s in zip(out_feats, style_feats):
        om, os_ = mean_std(o)
        sm, ss = mean_std(s)
        total = total + F.mse_loss(om, sm) + F.mse_loss(os_, ss)
    return total
'''


MODEL = '''\
"""The {name} model: a fixed encoder, adaptive instance normalisation, a trained decoder. Only this module
imports torch.

stylize() follows the zoo's stylize contract (docs/plugins.md): paths, PIL images or tensors in; the same
kind out, at the content's size; alpha in [0, 1]; deterministic.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn


def mean_std(f, eps=1e-5):
    n, c = f.shape[:2]
    flat = f.reshape(n, c, -1)
    return flat.mean(2).view(n, c, 1, 1), (flat.var(2) + eps).sqrt().view(n, c, 1, 1)


def adaptive_norm(content, style):
    """Huang & Belongie's adaptive instance normalisation: the content's channel statistics set to the style's."""
    cm, cs = mean_std(content)
    sm, ss = mean_std(style)
    return (content - cm) / cs * ss + sm


class Encoder(nn.Module):
    """Three conv-ReLU layers (the second and third with stride 2); fixed (not trained)."""

    def __init__(self, width=16):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, width, 3, padding=1), nn.Conv2d(width, 2 * width, 3, 2, 1),
                                    nn.Conv2d(2 * width, 4 * width, 3, 2, 1)])

    def forward_features(self, x):
        feats = []
        for conv in self.convs:
            x = F.relu(conv(x))
            feats.append(x)
        return feats

    def forward(self, x):
        return self.forward_features(x)[-1]


class Decoder(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(4 * width, 2 * width, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * width, width, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(width, 3, 3, padding=1),
        )

    def forward(self, t):
        return self.net(t)


def _tensor(x):
    """(N, 3, H, W) float tensor in [0, 1] and how to give the result back."""
    if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
        with Image.open(x) as im:
            x = im.convert("RGB")
    if isinstance(x, Image.Image):
        a = np.asarray(x.convert("RGB"), dtype=np.float32) / 255.0
        return torch.from_numpy(a).permute(2, 0, 1)[None].contiguous(), "pil"
    if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4) or x.shape[-3] != 3:
        raise TypeError(f"give a path, a PIL image or an RGB tensor (3, H, W) / (N, 3, H, W), not {{type(x).__name__}}")
    return (x[None] if x.dim() == 3 else x).float(), ("3d" if x.dim() == 3 else "4d")


class Stylizer(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.encoder = Encoder(width)
        self.decoder = Decoder(width)

    def forward(self, content, style, alpha=1.0):
        """content, style: (N, 3, H, W) in [0, 1]; the raw (unclamped) output at the content's size."""
        fc, fs = self.encoder(content), self.encoder(style)
        t = alpha * adaptive_norm(fc, fs) + (1.0 - alpha) * fc
        out = self.decoder(t)
        if out.shape[-2:] != content.shape[-2:]:
            out = F.interpolate(out, size=content.shape[-2:], mode="bilinear", align_corners=False)
        return out

    def stylize(self, content, style, *, alpha=1.0):
        """``content`` in the manner of ``style``; the output is the same kind as ``content``."""
        c, kind = _tensor(content)
        s, _ = _tensor(style)
        param = next(self.parameters())
        was = self.training
        self.eval()
        try:
            with torch.inference_mode():
                y = self(c.to(param), s.to(param), float(alpha)).float().clamp(0, 1).cpu()
        finally:
            self.train(was)
        if kind == "pil":
            return Image.fromarray((y[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8"))
        return y[0] if kind == "3d" else y


def build(width=16):
    """The architecture's builder: its arguments are the config keys of the schema."""
    return Stylizer(width)
'''


MAKE_WEIGHTS = '''\
"""Write a Hub-repo folder for {name}: README.md (the card), config.json, model.safetensors.

    python -m {package}.make_weights hub/{repo_id} --seed 0     # the demo weights (untrained)
    zoo train {name} --data DIR --out hub/{repo_id} --steps 2000  # trained weights, the same folder layout

Then `zoo push hub/{repo_id} --repo {repo_id} ...` and paste the printed pins into register_weights in
{package}/__init__.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

CONFIG = {config!r}


def card(config: dict, params: int):
    """The model card, written through the zoo's one card writer (zoo.card_writer); edit its texts."""
    from zoo.card_writer import Card, Citation, Metric, Result, Training, stylizer_snippet

    training = config.get("training") or {{}}
    metrics = config.get("metrics") or {{}}
    protocols = metrics.get("protocols") or {{}}
    measured = [k for k in protocols if isinstance(metrics.get(k), (int, float))]
    results = (Result("image-to-image", "held-out photo x painting pairs", "zoo-style-heldout", "held-out",
                      tuple(Metric(k, float(metrics[k]), protocols[k]) for k in measured),
                      task_name="Style transfer"),) if measured else \\
        (Result("image-to-image", "none", "none", "none",
                (Metric("params", params, "number of parameters, counted by torch"),)),)
    evaluation = (f"{{metrics.get('protocol')}}: " + ", ".join(f"{{k}} {{float(metrics[k]):.4g}}" for k in measured)
                  if measured else "Not evaluated yet: `zoo eval FOLDER --data DIR` runs the style-transfer judge.")
    return Card(
        name="{name}.demo",
        title="{name}.demo",
        summary=f"The {name} stylizer (`{{json.dumps(config['config'])}}`).",
        license="mit",
        tags=("style-transfer", "image-to-image", "{name}"),
        pipeline_tag="image-to-image",
        intended_use="Arbitrary style transfer; a starting point for a plugin author.",
        how_to_use=stylizer_snippet("{name}.demo"),
        training_data=("None: the seeded, untrained initialisation." if not training else
                       f"The images of {{training.get('dataset')}} (style/ and content/)."),
        training=Training(
            "Trained by `zoo train {name}`." if training else "torch.manual_seed, then the default initialisation.",
            command=training.get("command") or "python -m {package}.make_weights hub/{repo_id} --seed 0",
            details=f"Steps: {{training.get('steps', 0)}}; final losses {{json.dumps(training.get('final_losses', {{}}))}}.",
        ),
        evaluation=evaluation,
        limitations="A tiny network: replace this card's texts when you publish trained weights.",
        citation=Citation(paper="TODO: the paper of the architecture."),
        results=results,
    )


def write_card(folder: Path, config: dict, params: int) -> Path:
    from zoo.card_writer import write

    return write(card(config, params), folder)


def rewrite_card(folder: Path) -> Path:
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    params = sum(v.numel() for v in load_file(str(folder / "model.safetensors")).values())
    return write_card(folder, config, params)


def trained_model(seed: int):
    """The demo model: seeded, untrained."""
    import torch

    from {package}.model import build

    torch.manual_seed(seed)
    return build(**CONFIG).eval()


def write_folder(model, out: Path, *, seed: int = 0, summary: dict | None = None) -> Path:
    """Save ``model``'s weights, its config and the card into ``out`` (`zoo train {name}` calls this too)."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {{k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}}
    save_file(state, str(out / "model.safetensors"))
    config = {{"architecture": "{name}", "config": dict(summary["config"]) if summary else CONFIG}}
    if summary:
        config["training"] = json.loads(json.dumps(summary, default=str))
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\\n")
    write_card(out, config, sum(p.numel() for p in model.parameters()))
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


README = """\
# zoo-{name}

A style-transfer plugin for the zoo model registry, written by `zoo new-plugin {name} --task style-transfer`.

## Install

The zoo is not on a package index: install it first from where you got it, then this package. The
dependency in pyproject.toml is `{requirement}` (the zoo this package was made with); change it if your
zoo lives elsewhere (a path, or `zoo-models @ git+https://HOST/ORG/zoo@COMMIT`).

    pip install -e /path/to/the/zoo      # a checkout of the zoo (or its wheel)
    pip install -e .                     # registers the entry point; `zoo list` now shows {name}
    pytest                               # the zoo's conformance kit (zoo.testing)

## Use, train, evaluate, publish

    ZOO_MIRRORS=$PWD/hub zoo stylize photo.jpg painting.jpg --model {name}.demo -o out.png
    zoo train {name} --data DIR --out hub/{repo_id} --steps 2000     # DIR/style (paintings), DIR/content (photos)
    zoo eval hub/{repo_id} --data DIR --write                         # the style-transfer judge; the card gets the figures
    zoo push hub/{repo_id} --repo {repo_id} --mirror /path/to/mirror  # or --endpoint/--token for a Hub

and paste the revision, sha256 and size `zoo push` prints into `register_weights`.

Files: `{package}/__init__.py` registers (no torch there), `{package}/model.py` builds (its `stylize` follows
the zoo's stylize contract), `{package}/train.py` is the trainer component `zoo train` runs,
`{package}/losses.py` holds its perceptual losses (registered through the loss hook),
`{package}/make_weights.py` writes the Hub-repo folder (card through the zoo's card writer).

To use another zoo model inside yours (a shared encoder, a judge), load it at run time with
`zoo.load("arch.tag")` in your code, or publish your weights with `includes={{"encoder": "arch.tag"}}` in
the Weights record so its tensors load under `encoder.` beside yours (docs/plugins.md, "Reusing another
zoo model").
"""


TESTS = '''\
"""The zoo's conformance kit over this plugin (run: pytest)."""

from pathlib import Path

from zoo import testing

HUB = Path(__file__).resolve().parent.parent / "hub"


def test_registration_and_builders():
    testing.check_plugin("{name}", weights=False)


def test_the_weights_folder_is_publishable():
    report = testing.check_repo_folder(HUB / "{repo_id}", needs_metrics=False)
    assert report.architecture == "{name}"


def test_weights_card_load_and_the_stylize_contract_from_the_local_mirror():
    with testing.use_mirror(HUB):
        checked = testing.check_plugin("{name}")
    assert checked["weights"] == ["{name}.demo"]
'''


DEFAULT_CONFIG = {"width": 16}
