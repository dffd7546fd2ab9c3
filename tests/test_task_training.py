"""Every task through the one training mechanism: `zoo train adain`, a third-party trainer component,
losses of any kind through the loss hook (real data from ../shared/data, tiny sizes, a few steps)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import zoo
from zoo.cli_train import train

DATA = os.environ.get("ZOO_DATA_DIR")
needs_data = pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: ../shared/data/style-transfer is needed")
CARDS = Path(__file__).resolve().parent.parent / "cards"

TINY = ["--set", "resize=48", "--set", "crop=32", "--set", "batch_size=2", "--set", "decoder_width=0.0625",
        "--set", 'skimage_content=["camera"]', "--threads", "1", "--no-progress"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _train(*args: str) -> str:
    res = CliRunner().invoke(train, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _style_data() -> Path:
    return Path(DATA) / "style-transfer"


@needs_data
def test_zoo_train_adain_writes_a_folder_zoo_loads_and_resumes_bit_identically(tmp_path):
    from safetensors.torch import load_file

    from zoo.cards import check_card

    data = str(_style_data())
    straight, split = tmp_path / "adain-a", tmp_path / "adain-b"
    _train("adain", "--data", data, "--out", str(straight), "--run-dir", str(tmp_path / "run-a"), "--steps", "4",
           "--checkpoint-every", "2", "--sample-every", "2", "--export-every", "2", *TINY)
    _train("adain", "--data", data, "--out", str(split), "--run-dir", str(tmp_path / "run-b"), "--steps", "2", *TINY)
    two_steps = (split / "model.safetensors").read_bytes()
    # --export-every 2: the 2-step point is the folder a 2-step run exports (and changed nothing, below)
    point = tmp_path / "run-a" / "exports" / "step_0000002"
    assert sorted(p.name for p in point.parent.iterdir()) == ["step_0000002"]
    assert (point / "model.safetensors").read_bytes() == two_steps
    assert json.loads((point / "config.json").read_text())["training"]["steps"] == 2
    out = _train("adain", "--data", data, "--out", str(split), "--run-dir", str(tmp_path / "run-b"), "--steps", "4",
                 *TINY)
    assert "4 steps" in out
    a, b = load_file(str(straight / "model.safetensors")), load_file(str(split / "model.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith("decoder.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)  # 4 steps = 2 + 2 after a resume, bit for bit
    assert (straight / "model.safetensors").read_bytes() == (split / "model.safetensors").read_bytes()
    # the host's mechanism wrote the run folder: checkpoint, log, sample grids
    run = tmp_path / "run-a"
    assert (run / "checkpoint.pt").is_file() and sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000002.png", "step_0000004.png"]
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 4 and {"content", "style", "loss"} <= set(log[-1])
    # the exported folder: a card from the card writer, a config zoo.load builds from, samples
    config = json.loads((straight / "config.json").read_text())
    assert config["architecture"] == "adain" and config["config"]["decoder_width"] == 0.0625
    assert config["training"]["losses"] == {"content": "adain-content", "style": "adain-style"}
    assert config["training"]["command"].startswith("zoo train adain")
    assert check_card((straight / "README.md").read_text(), needs_metrics=False) == []
    assert (straight / "samples.jpg").is_file()
    model = zoo.load(str(straight))
    y = model.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert y.shape == (1, 3, 32, 32) and torch.isfinite(y).all()


@needs_data
def test_init_from_the_published_card_continues_its_decoder_byte_for_byte(tmp_path):
    """The exported model.safetensors is the contract: today's adain.vgg16 card loads as the starting point,
    and zero further steps export the same bytes."""
    card = CARDS / "zoo" / "adain-vgg16"
    steps = json.loads((card / "config.json").read_text())["training"]["steps_done"]
    out = tmp_path / "adain-v"
    _train("adain", "--data", str(_style_data()), "--init-from", str(card), "--out", str(out), "--run-dir",
           str(tmp_path / "run"), "--steps", str(steps), "--set", "encoder=vgg16", "--set", "decoder_width=0.5",
           "--set", "resize=48", "--set", "crop=32", "--set", "batch_size=2", "--threads", "1", "--no-progress")
    assert (out / "model.safetensors").read_bytes() == (card / "model.safetensors").read_bytes()
    # the old --init-decoder spelling (a setting now) takes the same file
    from zoo_adain.trainer import decoder_state_of
    from safetensors.torch import load_file

    card_decoder = {k.removeprefix("decoder."): v for k, v in load_file(str(card / "model.safetensors")).items()}
    assert decoder_state_of(card / "model.safetensors").keys() == card_decoder.keys()


@needs_data
def test_losses_of_any_kind_come_through_the_loss_hook(tmp_path, fake_plugins):
    from zoo.training.losses import get_loss

    site = fake_plugins({"l1style": '''
        import zoo

        @zoo.hookimpl
        def register_losses(register):
            register(zoo.Loss("l1-style", kind="perceptual", fn="fakeplug_l1fns:l1_style"))
    '''})
    (site / "fakeplug_l1fns.py").write_text(
        "import torch\n\n"
        "CALLS = []\n\n"
        "def l1_style(outs, styles):\n"
        "    CALLS.append(len(outs))\n"
        "    return sum((o.mean((2, 3)) - s.mean((2, 3))).abs().mean() for o, s in zip(outs, styles))\n")
    loss = get_loss("l1-style")
    assert loss.kind == "perceptual" and loss.d is None and loss.plugin == "l1style"
    assert float(loss([torch.ones(1, 2, 3, 3)], [torch.zeros(1, 2, 3, 3)])) == 1.0
    # an adversarial recipe refuses it, saying why
    with pytest.raises(zoo.ConfigError, match="perceptual loss; a GAN recipe"):
        from zoo.training.recipes import recipe_from_mapping

        recipe_from_mapping({"loss": "l1-style"})
    # AdaIN's trainer takes it for its style role
    import fakeplug_l1fns

    fakeplug_l1fns.CALLS.clear()
    _train("adain", "--data", str(_style_data()), "--out", str(tmp_path / "adain-l1"), "--run-dir",
           str(tmp_path / "run"), "--steps", "2", "--set", 'losses={"style": "l1-style"}', *TINY)
    assert fakeplug_l1fns.CALLS == [4, 4]  # once per step, over relu1_1..relu4_1
    cfg = json.loads((tmp_path / "adain-l1" / "config.json").read_text())
    assert cfg["training"]["losses"] == {"content": "adain-content", "style": "l1-style"}


def test_invalid_loss_records_of_other_kinds():
    with pytest.raises(zoo.InvalidRecordError, match="one function fn="):
        zoo.Loss("x", d="a.b:c", g="a.b:d", kind="perceptual")
    with pytest.raises(zoo.InvalidRecordError, match="fn"):
        zoo.Loss("x", kind="perceptual")
    with pytest.raises(zoo.InvalidRecordError, match="d/g pair"):
        zoo.Loss("x", fn="a.b:c")


THIRD_PARTY = '''
    import zoo

    @zoo.hookimpl
    def register_architectures(register):
        register(zoo.Architecture(
            name="tinyae", builder="fakeplug_tinyae_model:build",
            schema={"width": zoo.Field("int", 4, min=1)}, default_tag="demo",
            paper="a test autoencoder", reference_code="tests/test_task_training.py", task="image-to-image",
            components={"trainer": "fakeplug_tinyae_model:AETrainer"},
            recipes={"plain": {"lr": 0.01, "batch_size": 8}}, default_recipe="plain"))
'''

THIRD_PARTY_MODEL = '''
import json
from pathlib import Path

import torch
from torch import nn

from zoo.training import Trainer, load_dataset


class AE(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, x):
        return self.net(x)


def build(width=4):
    return AE(width)


class AETrainer(Trainer):
    task = "image-to-image"

    @classmethod
    def setting_names(cls):
        return ["lr", "batch_size"]

    @classmethod
    def from_job(cls, job):
        return cls(job)

    def __init__(self, job):
        self.job = job
        self.model = build(**job.config)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=float(job.settings["lr"]))
        self.images = load_dataset("mnist", Path(job.data) / "mnist", "test").images[:256]

    def modules(self):
        return {"model": self.model}

    def optimizers(self):
        return {"opt": self.opt}

    def step(self, ctx):
        idx = torch.randint(0, len(self.images), (int(self.job.settings["batch_size"]),), generator=ctx.generator())
        x = self.images[idx].float() / 255
        with ctx.autocast():
            loss = ((self.model(x).float() - x) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"mse": loss.detach()}

    def export(self, out, summary):
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(out / "model.safetensors"))
        (out / "config.json").write_text(json.dumps({"architecture": "tinyae", "config": summary["config"],
                                                     "training": summary}, default=str))
        return out
'''


@needs_data
def test_a_third_party_trainer_component_trains_through_zoo_train(tmp_path, fake_plugins):
    from safetensors.torch import load_file

    site = fake_plugins({"tinyae": THIRD_PARTY})
    (site / "fakeplug_tinyae_model.py").write_text(THIRD_PARTY_MODEL)
    args = ["tinyae", "--data", DATA, "--set", "width=3", "--set", "lr=0.02", "--steps", "6", "--checkpoint-every",
            "3", "--threads", "1", "--no-progress"]
    _train(*args, "--out", str(tmp_path / "a"), "--run-dir", str(tmp_path / "ra"))
    _train(*args[:-7], "--steps", "3", "--threads", "1", "--no-progress", "--out", str(tmp_path / "b"),
           "--run-dir", str(tmp_path / "rb"))
    _train(*args, "--out", str(tmp_path / "b"), "--run-dir", str(tmp_path / "rb"))
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a["net.0.weight"].shape[0] == 3 and all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(x) for x in (tmp_path / "ra" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 6 and log[-1]["mse"] < 0.5
    summary = json.loads((tmp_path / "a" / "config.json").read_text())["training"]
    assert summary["trainer"] == "fakeplug_tinyae_model:AETrainer" and summary["recipe"]["lr"] == 0.02
    # an unknown setting is refused, naming the trainer's settings
    res = CliRunner().invoke(train, ["tinyae", "--data", DATA, "--out", str(tmp_path / "c"), "--set", "bogus=1"])
    assert res.exit_code != 0 and "['batch_size', 'lr']" in str(res.exception), res.output


def test_an_architecture_with_no_trainer_says_how_to_add_one():
    from zoo.errors import NotTrainableError
    from zoo.training.run import check_trainable, get_architecture

    with pytest.raises(NotTrainableError, match=r"components=\{'trainer'"):
        check_trainable(get_architecture("classifier"))


@needs_data
@pytest.mark.slow
def test_zoo_train_adain_runs_data_parallel_under_torchrun(tmp_path):
    import shutil
    import subprocess
    import sys

    from safetensors.torch import load_file

    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    out, run = tmp_path / "adain-ddp", tmp_path / "run"
    cmd = [torchrun, "--standalone", "--nnodes", "1", "--nproc-per-node", "2", "-m", "zoo.cli", "train", "adain",
           "--data", str(_style_data()), "--out", str(out), "--run-dir", str(run), "--steps", "2", *TINY]
    proc = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["world_size"] == 2 and training["steps"] == 2
    assert len((run / "log.jsonl").read_text().splitlines()) == 1  # rank 0 logs (every 10 steps and the last)
    # the same decoder as a checkpoint holds (rank 0 wrote both) and a trained one (not the initial weights)
    exported = {k.removeprefix("decoder."): v for k, v in load_file(str(out / "model.safetensors")).items()
                if k.startswith("decoder.")}
    saved = load_file(str(run / "decoder.safetensors"))
    assert exported.keys() == saved.keys() and all(torch.equal(exported[k], saved[k]) for k in saved)


@needs_data
def test_a_teacher_model_adds_its_stylizations_as_a_target(tmp_path):
    """--set teacher=magenta-arbitrary: the port's stylization of each training pair is an extra feature
    target; its loss is logged, the card says so, and the decoder moves differently from a run without it."""
    from safetensors.torch import load_file

    from zoo_adain.teacher import load_teacher, teacher_outputs

    teacher = load_teacher("magenta-arbitrary")
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(2, 3, 128, 128, generator=g), torch.rand(2, 3, 256, 256, generator=g)
    t = teacher_outputs(teacher, c, s)
    assert t.shape == (2, 3, 128, 128) and 0 <= float(t.min()) and float(t.max()) <= 1
    one = teacher.stylize(c[1], s[1], style_size=256, precision="fp32")  # batched = the pair through the contract
    assert (t[1] - one).abs().max() < 1e-4
    small = teacher_outputs(teacher, c[:, :, :32, :32], s[:, :, :40, :40])  # style crops resized to 256
    assert small.shape == (2, 3, 32, 32)

    data = str(_style_data())
    plain, taught = tmp_path / "plain", tmp_path / "taught"
    _train("adain", "--data", data, "--out", str(plain), "--run-dir", str(tmp_path / "r1"), "--steps", "2", *TINY)
    _train("adain", "--data", data, "--out", str(taught), "--run-dir", str(tmp_path / "r2"), "--steps", "2", *TINY,
           "--set", "teacher=magenta-arbitrary", "--set", "teacher_weight=10")
    log = [json.loads(x) for x in (tmp_path / "r2" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["teacher"] > 0
    a, b = load_file(str(plain / "model.safetensors")), load_file(str(taught / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)
    assert "magenta-arbitrary" in (taught / "README.md").read_text() + (taught / "config.json").read_text()
    with pytest.raises(Exception, match="stylize"):
        load_teacher("dcgan.mnist")
    # teacher_target=style: the teacher's style statistics as the target instead of its features
    stats = tmp_path / "stats"
    _train("adain", "--data", data, "--out", str(stats), "--run-dir", str(tmp_path / "r3"), "--steps", "2", *TINY,
           "--set", "teacher=magenta-arbitrary", "--set", "teacher_weight=10", "--set", "teacher_target=style")
    log3 = [json.loads(x) for x in (tmp_path / "r3" / "log.jsonl").read_text().splitlines()]
    assert log3[-1]["teacher"] > 0 and log3[-1]["teacher"] != log[-1]["teacher"]
    c3 = load_file(str(stats / "model.safetensors"))
    assert any(not torch.equal(b[k], c3[k]) for k in b)
    assert "teacher_target" in (stats / "config.json").read_text()
    res = CliRunner().invoke(train, ["adain", "--data", data, "--out", str(tmp_path / "bad"), "--run-dir",
                                     str(tmp_path / "r4"), "--steps", "1", *TINY, "--set", "teacher=magenta-arbitrary",
                                     "--set", "teacher_weight=1", "--set", "teacher_target=pixels"])
    assert res.exit_code != 0 and "teacher_target" in res.output + str(res.exception)
