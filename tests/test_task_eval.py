"""`zoo eval` by task: the style-transfer judge, classifier accuracy, a plugin's evaluator; every figure with
its protocol, compared with the card's only under the same protocol (real data, tiny sizes)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo
from zoo.cli_train import eval as eval_cmd
from zoo.cli_train import train
from zoo.errors import DataError

DATA = os.environ.get("ZOO_DATA_DIR")
needs_data = pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: ../shared/data is needed")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _invoke(cmd, *args: str):
    return CliRunner().invoke(cmd, [str(a) for a in args])


@needs_data
def test_zoo_eval_scores_a_style_model_with_the_judge_and_compares_only_like_with_like(tmp_path):
    data = Path(DATA) / "style-transfer"
    out = tmp_path / "adain-tiny"
    res = _invoke(train, "adain", "--data", data, "--out", out, "--run-dir", tmp_path / "run", "--steps", "2",
                  "--set", "resize=48", "--set", "crop=32", "--set", "batch_size=2", "--set", "decoder_width=0.0625",
                  "--set", 'skimage_content=["camera"]', "--threads", "1", "--no-progress")
    assert res.exit_code == 0, res.output
    res = _invoke(eval_cmd, out, "--data", data, "--set", "size=48", "--write")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "evaluator style-judge (plugin adain)" in res.output and "9 held-out pairs" in res.output
    assert "[vgg16.hed-bsds500 judge, 9 held-out pairs at 48 px]" in res.output
    assert "reference: colour transfer" in res.output
    config = json.loads((out / "config.json").read_text())
    metrics = config["metrics"]
    assert metrics["protocols"]["style_loss_judge"] == "vgg16.hed-bsds500 judge, 9 held-out pairs at 48 px"
    assert metrics["protocol_info"]["network"] == "vgg16.hed-bsds500" and metrics["protocol_info"]["n_samples"] == 9
    # the photo itself keeps the layout perfectly and carries the most style loss: the judge sees both
    ref = metrics["references"]
    assert ref["content image"]["ssim_to_content"] == 1.0
    assert ref["content image"]["style_loss_judge"] > ref["colour transfer"]["style_loss_judge"]
    assert 0 < metrics["style_loss_judge"] and 0 <= metrics["ssim_to_content"] < 1
    # the card was re-written by the card writer with the figures and their protocols
    from zoo.cards import check_card

    card = (out / "README.md").read_text()
    assert check_card(card) == [] and "9 held-out pairs at 48 px" in card
    # the same protocol again: compared, and it matches
    res = _invoke(eval_cmd, out, "--data", data, "--set", "size=48")
    assert res.exit_code == 0 and "matches the card within 5%" in res.output, res.output
    # another protocol (another size): printed, not compared, exit 0
    res = _invoke(eval_cmd, out, "--data", data, "--set", "size=40")
    assert res.exit_code == 0 and "not compared with the card (another protocol)" in res.output, res.output
    assert "DIFFERS" not in res.output
    # a card figure that differs under the same protocol: exit 1
    metrics["style_loss_judge"] = metrics["style_loss_judge"] * 2
    config["metrics"] = metrics
    (out / "config.json").write_text(json.dumps(config))
    res = _invoke(eval_cmd, out, "--data", data, "--set", "size=48")
    assert res.exit_code == 1 and "DIFFERS from the card (same protocol): style_loss_judge" in res.output


@needs_data
def test_zoo_eval_gives_a_classifier_its_accuracy_under_the_cards_protocol():
    res = _invoke(eval_cmd, "classifier.mnist", "--data", Path(DATA) / "mnist")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "evaluator accuracy (plugin zoo)" in res.output
    assert "[top-1 on the 10,000 MNIST test images]" in res.output
    assert "matches the card within 5% (accuracy, same protocol)" in res.output
    res = _invoke(eval_cmd, "classifier.mnist", "--data", Path(DATA) / "mnist", "-n", "500")
    assert res.exit_code == 0 and "top-1 on the first 500 MNIST test images" in res.output
    assert "not compared with the card (another protocol)" in res.output


PLUGIN = '''
import zoo

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="denoise", builder="fakeplug_denoise_fns:build", schema={}, default_tag="demo",
                              paper="a test", reference_code="tests", task="image-denoising"))

@zoo.hookimpl
def register_evaluators(register):
    register(zoo.Evaluator("psnr", "image-denoising", "fakeplug_denoise_fns:psnr", metrics=("psnr",)))
    register(zoo.Evaluator("no-protocol", "image-denoising", "fakeplug_denoise_fns:bare"))
'''

FNS = '''
import json
import math

import torch
from torch import nn
from zoo.training import load_dataset
from pathlib import Path


class Blur(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = nn.Parameter(torch.full((1, 1, 3, 3), 1 / 9))

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.k, padding=1)


def build():
    return Blur()


def psnr(model, job):
    x = load_dataset("mnist", Path(job.data) / "mnist", "test").images[: job.n_samples or 100].float() / 255
    noisy = (x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(job.seed))).clamp(0, 1)
    with torch.no_grad():
        mse = float(((model(noisy) - x) ** 2).mean())
    how = f"PSNR on {len(x)} MNIST test digits with noise sigma 0.1 (seed {job.seed})"
    return {"psnr": 10 * math.log10(1 / mse), "protocols": {"psnr": how}, "protocol": how}


def bare(model, job):
    return {"psnr": 1.0}
'''


@needs_data
def test_a_plugin_registers_an_evaluator_and_zoo_eval_dispatches_to_it(fake_plugins, tmp_path):
    from safetensors.torch import save_file

    site = fake_plugins({"denoise": PLUGIN})
    (site / "fakeplug_denoise_fns.py").write_text(FNS)
    folder = tmp_path / "denoise-demo"
    folder.mkdir()
    save_file({"k": torch.full((1, 1, 3, 3), 1 / 9)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"architecture": "denoise", "config": {}}))
    from zoo.plugins import get_host

    assert get_host().registry.evaluators["psnr"].plugin == "denoise"
    assert "evaluator:psnr" in get_host().plugins["denoise"].provides
    res = _invoke(eval_cmd, folder, "--data", DATA, "-n", "50")
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "evaluator no-protocol" not in res.output and "evaluator psnr (plugin denoise)" in res.output
    assert "[PSNR on 50 MNIST test digits with noise sigma 0.1 (seed 0)]" in res.output
    # an evaluator that returns figures without their protocol is refused
    res = _invoke(eval_cmd, folder, "--data", DATA, "--evaluator", "no-protocol")
    assert res.exit_code != 0 and "without their protocol" in str(res.exception)


def test_evaluator_records_are_checked():
    with pytest.raises(zoo.InvalidRecordError, match="import path"):
        zoo.Evaluator("x", "style-transfer", "not a path")
    with pytest.raises(zoo.InvalidRecordError, match="task"):
        zoo.Evaluator("x", "Style Transfer", "a.b:c")


def test_zoo_info_says_what_trains_and_what_evaluates_each_architecture():
    from zoo.cli import cli

    out = CliRunner().invoke(cli, ["info", "adain"]).output
    assert "trainer      : zoo_adain.trainer:AdaINTrainer (zoo train adain)" in out
    assert "evaluators   : style-judge (plugin adain)" in out
    out = CliRunner().invoke(cli, ["info", "dcgan"]).output
    assert "the adversarial trainer" in out and "fid-kid (plugin zoo)" in out
    assert "accuracy (plugin zoo)" in CliRunner().invoke(cli, ["info", "classifier"]).output


@needs_data
def test_the_judges_pairs_can_take_other_paintings_to_tell_underfitting_from_poor_generalisation():
    from zoo_adain import evaluate as J

    contents, styles = J.held_out_set(Path(DATA) / "style-transfer", 32)
    assert list(styles) == list(J.HELD_OUT_STYLES) and list(contents) == list(J.SKIMAGE_HELD_OUT)
    contents, styles = J.held_out_set(Path(DATA) / "style-transfer", 32, style_names=("starry_night", "wave"))
    assert list(styles) == ["starry_night", "wave"] and all(s.shape == (1, 3, 32, 32) for s in styles.values())
    with pytest.raises(DataError, match="no_such_painting"):
        J.held_out_set(Path(DATA) / "style-transfer", 32, style_names=("no_such_painting",))
