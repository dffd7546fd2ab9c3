"""The stylize contract (zoo.stylizing): `zoo stylize` calls a model written to the docs with only what it
takes, refuses an option it does not take by name, and the kit checks the contract beyond tensors."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import zoo
from zoo.stylizing import accepted_options, call_stylize

MODEL = '''
import numpy as np
import torch
from PIL import Image
from torch import nn


def _tensor(x):
    if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
        with Image.open(x) as im:
            x = im.convert("RGB")
    if isinstance(x, Image.Image):
        return torch.from_numpy(np.asarray(x.convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None], "pil"
    return (x[None] if x.dim() == 3 else x), ("3d" if x.dim() == 3 else "4d")


class Tint(nn.Module):
    """Moves the content's channel means toward the style's by alpha * strength (docs' contract only)."""

    def __init__(self, strength=1.0):
        super().__init__()
        self.strength = nn.Parameter(torch.tensor(float(strength)))

    @torch.no_grad()
    def stylize(self, content, style, *, alpha=1.0):
        c, kind = _tensor(content)
        s, _ = _tensor(style)
        shift = (s.mean((2, 3), keepdim=True) - c.mean((2, 3), keepdim=True)) * alpha * self.strength
        out = (c + shift).clamp(0, 1)
        if kind == "pil":
            return Image.fromarray((out[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8"))
        return out[0] if kind == "3d" else out


def build(strength=1.0):
    return Tint(strength)
'''

PLUGIN = '''
import zoo

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="tint", builder="fakeplug_tintmodel:build",
                              schema={"strength": zoo.Field("float", 1.0)}, default_tag="demo",
                              paper="a test", reference_code="tests", task="style-transfer"))
'''


@pytest.fixture
def tint(fake_plugins, tmp_path):
    import json

    from safetensors.torch import save_file

    site = fake_plugins({"tint": PLUGIN})
    (site / "fakeplug_tintmodel.py").write_text(MODEL)
    folder = tmp_path / "tint-demo"
    folder.mkdir()
    save_file({"strength": torch.tensor(1.0)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"architecture": "tint", "config": {"strength": 1.0}}))
    return folder


def _images(tmp_path):
    g = torch.Generator().manual_seed(0)
    paths = []
    for name in ("c.png", "s.png"):
        a = (torch.rand(20, 30, 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(a).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    return paths


def test_zoo_stylize_calls_a_model_written_to_the_docs(tint, tmp_path):
    from zoo.cli import cli

    c, s = _images(tmp_path)
    res = CliRunner().invoke(cli, ["stylize", c, s, "--model", str(tint), "-o", str(tmp_path / "out.png"),
                                   "--alpha", "0.5"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert Image.open(tmp_path / "out.png").size == (30, 20)
    # an option the model does not take is refused by name, not passed to crash it with a TypeError
    res = CliRunner().invoke(cli, ["stylize", c, s, "--model", str(tint), "-o", str(tmp_path / "o2.png"),
                                   "--preserve-color"])
    assert res.exit_code != 0 and "preserve_color (--preserve-color)" in res.output and "['alpha']" in res.output
    assert "TypeError" not in res.output


def test_the_kit_checks_the_contract_beyond_tensors(tint):
    from zoo import testing

    model = zoo.load(str(tint))
    assert accepted_options(model) == {"content", "style", "alpha"}
    testing._check_stylizer("tint", model)  # passes: tensors, PIL, paths, alpha, determinism
    model.stylize = lambda content, style, *, alpha=1.0: torch.rand(1, 3, 64, 48)  # random, ignores PIL
    with pytest.raises(testing.ConformanceError, match="different outputs for the same inputs"):
        testing._check_stylizer("tint", model)


def test_call_stylize_refuses_a_model_without_alpha():
    class NoAlpha:
        def stylize(self, content, style):
            return content

    with pytest.raises(zoo.ConfigError, match="takes no alpha"):
        call_stylize(NoAlpha(), torch.rand(3, 4, 4), torch.rand(3, 4, 4))


def test_adain_gets_every_cli_option_it_takes():
    class Recorder:
        def stylize(self, content, style, *, alpha=1.0, **options):
            return (alpha, options)

    assert accepted_options(Recorder()) is None
    assert call_stylize(Recorder(), 1, 2, alpha=0.5, size=64) == (0.5, {"size": 64})
