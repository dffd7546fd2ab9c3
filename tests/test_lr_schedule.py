"""The run-level learning-rate schedule (zoo.training.schedule): its rates, its survival of a resume, how a
recipe and `zoo train` name it, and its refusal for a trainer that sets its own rate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from training_tiny import TinyD, TinyG, tiny_images
from zoo.errors import ConfigError
from zoo.training import LoopConfig, Recipe, Trainer, recipe_from_mapping, run_loop, train_gan
from zoo.training.schedule import LRSchedule, apply_lr_schedule

torch.set_num_threads(1)
DATA = Path(os.environ.get("ZOO_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data")


def test_linear_decay_is_pytorch_gan_collections_lambda_lr():
    """From step 0 to the run's steps it is LambdaLR(lambda step: 1 - step / total_steps), stepped after
    each update as that code does; with a later start it holds the base rate until then."""
    total = 7
    p = torch.nn.Parameter(torch.zeros(2))
    ref_opt = torch.optim.Adam([p], lr=2e-4)
    ref = torch.optim.lr_scheduler.LambdaLR(ref_opt, lambda step: 1 - step / total)
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=2e-4)
    sched = LRSchedule.from_settings({"lr_schedule": "linear-decay"}, total)
    assert sched == LRSchedule("linear-decay", 0, total)
    for step in range(total):
        assert apply_lr_schedule([opt], sched, step) == pytest.approx(ref_opt.param_groups[0]["lr"], rel=1e-12)
        ref_opt.step()
        ref.step()
    late = LRSchedule("linear-decay", 10, 14)
    assert [late.factor(s) for s in (0, 9, 10, 12, 14, 20)] == [1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    assert LRSchedule.from_settings({}, 5) is None and LRSchedule.from_settings({"lr_schedule": "constant"}, 5) is None


def test_bad_schedules_say_what_to_do():
    with pytest.raises(ConfigError, match="one of"):
        LRSchedule("cosine")
    with pytest.raises(ConfigError, match="lr-decay-end"):
        LRSchedule.from_settings({"lr_schedule": "linear-decay", "lr_decay_start": 50}, 40)
    with pytest.raises(ConfigError, match="lr_schedule"):
        recipe_from_mapping({"lr_schedule": "step"})


def test_a_recipe_names_its_schedule():
    """The sngan `resnet` recipe's "lr_schedule": "linear-decay" (Miyato et al.'s decay) is read now."""
    from zoo.plugins import get_host
    from zoo.training.recipes import architecture_recipe

    recipe = architecture_recipe(get_host().registry.architectures["sngan"], "resnet")
    assert recipe.lr_schedule == "linear-decay"
    assert LRSchedule.from_settings(recipe.to_dict(), 1000) == LRSchedule("linear-decay", 0, 1000)
    assert Recipe().lr_schedule == "constant"


def _trained(tmp_path: Path, name: str, steps: int, stops: tuple[int, ...] = ()) -> tuple[TinyG, list[dict]]:
    """TinyG trained to ``steps`` under a decay from step 2 to 8, stopped and resumed at each of ``stops``."""
    imgs, recipe = tiny_images(), Recipe(batch_size=16, lr_g=1e-3, lr_d=1e-3)
    sched = LRSchedule("linear-decay", 2, 8)
    G = None
    for stop in (*stops, steps):
        torch.manual_seed(0)
        G, D = TinyG(), TinyD()
        train_gan(G, D, imgs, recipe, LoopConfig(steps=stop, seed=1, run_dir=tmp_path / name, progress=False,
                                                 log_every=1, lr_schedule=sched))
    log = [json.loads(line) for line in (tmp_path / name / "log.jsonl").read_text().splitlines()]
    return G, log


def test_the_schedule_survives_a_resume_bit_for_bit(tmp_path):
    G1, log1 = _trained(tmp_path, "once", 10)
    G2, log2 = _trained(tmp_path, "resumed", 10, stops=(3, 6))
    for k, v in G1.state_dict().items():
        assert torch.equal(v, G2.state_dict()[k]), k
    lrs = [rec["lr"] for rec in log1]
    assert lrs == [rec["lr"] for rec in log2]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-3, 1e-3 * 5 / 6, 1e-3 * 4 / 6, 1e-3 / 2, 1e-3 / 3, 1e-3 / 6, 0, 0])
    # the checkpoint's optimisers carry the base rate, so a later run without a schedule gets it back
    state = torch.load(tmp_path / "once" / "checkpoint.pt", weights_only=True)
    assert state["opt_g"]["param_groups"][0]["base_lr"] == 1e-3 and state["opt_g"]["param_groups"][0]["lr"] == 0
    torch.manual_seed(0)
    G, D = TinyG(), TinyD()
    from zoo.training.loop import AdversarialTrainer

    trainer = AdversarialTrainer(G, D, tiny_images(), Recipe(batch_size=16, lr_g=1e-3, lr_d=1e-3),
                                 LoopConfig(steps=12, seed=1, run_dir=tmp_path / "once", progress=False))
    run_loop(trainer, trainer.cfg, start_step=0)
    assert trainer.opt_g.param_groups[0]["lr"] == 1e-3


class _OwnRate(Trainer):
    owns_learning_rate = True

    def step(self, ctx):  # pragma: no cover (never reached)
        return {}


def test_a_trainer_with_its_own_decay_refuses_a_run_schedule():
    with pytest.raises(ConfigError, match="sets its own learning rate"):
        run_loop(_OwnRate(), LoopConfig(steps=2, progress=False, lr_schedule=LRSchedule("linear-decay", 0, 2)))


@pytest.mark.skipif(not (DATA / "mnist").exists(), reason="the real MNIST files are needed (ZOO_DATA_DIR)")
def test_zoo_train_decays_and_the_card_reproduces_it(tmp_path):
    from zoo.cli_train import train

    out, run = tmp_path / "out", tmp_path / "run"
    args = ["dcgan", "--data", str(DATA / "mnist"), "--dataset", "mnist", "--set", "ngf=4", "--set", "ndf=4",
            "--set", "nz=8", "--set", "batch_size=8", "--out", str(out), "--steps", "6", "--run-dir", str(run),
            "--lr-decay-start", "2", "--no-progress", "--threads", "1"]
    res = CliRunner().invoke(train, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 6 and log[-1]["lr"] == pytest.approx(2e-4 / 4)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["training"]["lr_schedule"] == {"lr_schedule": "linear-decay", "lr_decay_start": 2, "lr_decay_end": 6}
    assert cfg["recipe"]["lr_decay_end"] == 6
    readme = (out / "README.md").read_text()
    assert "| lr_schedule | linear-decay |" in readme
    from zoo.training.export import _clean_command

    # a run that a time budget stopped early keeps its decay's end in the card's command
    command = _clean_command(cfg["training"]["command"], 4, 6)
    assert "--lr-decay-start 2" in command and "--steps 4" in command and command.endswith("--lr-decay-end 6")
    before = (run / "log.jsonl").read_text()
    bad = CliRunner().invoke(train, [*args[:-5], "--lr-decay-end", "1", "--lr-decay-start", "3"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError) and "lr-decay-end" in str(bad.exception)
    assert (run / "log.jsonl").read_text() == before  # refused before a step was trained


def test_a_constant_rate_card_keeps_the_decay_keys_out_of_its_table():
    from zoo.training.export import card_content

    cfg = json.loads((Path(__file__).resolve().parents[1] / "cards/zoo/wgan-gp-cifar10/config.json").read_text())
    assert cfg["recipe"]["lr_schedule"] == "constant"
    table = card_content(cfg).training.text
    assert "| lr_g |" in table and "lr_schedule" not in table and "lr_decay" not in table
    decayed = {**cfg, "recipe": {**cfg["recipe"], "lr_schedule": "linear-decay", "lr_decay_end": 100}}
    table = card_content(decayed).training.text
    assert "| lr_schedule | linear-decay |" in table and "| lr_decay_end | 100 |" in table
