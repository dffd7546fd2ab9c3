"""Training that accumulates: the generator's EMA (recipe ``ema``) and continuing from an exported folder
(`zoo train --init-from`, zoo.training.loop.InitState), on tiny models and on a real CIFAR-10-layout folder."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from training_tiny import TinyD, TinyG, tiny_images
from zoo.errors import ConfigError
from zoo.training import LoopConfig, Recipe, train_gan
from zoo.training.loop import InitState

torch.set_num_threads(1)


def _pair(seed: int = 0):
    torch.manual_seed(seed)
    return TinyG(), TinyD()


def test_ema_is_the_running_average_of_the_generator(tmp_path: Path) -> None:
    imgs = tiny_images()
    recipe = Recipe(loss="hinge", batch_size=16, lr_g=1e-3, lr_d=1e-3, ema=0.5)
    G, D = _pair()
    start = {k: v.clone() for k, v in G.named_parameters()}
    res = train_gan(G, D, imgs, recipe, LoopConfig(steps=1, seed=0, run_dir=tmp_path / "a", progress=False))
    assert res.G_ema is not None
    for k, p in res.G_ema.named_parameters():  # one update: 0.5 * start + 0.5 * trained
        assert torch.allclose(p, 0.5 * start[k] + 0.5 * dict(G.named_parameters())[k], atol=1e-6), k
    for k, b in res.G_ema.named_buffers():  # batch-norm statistics are the trained generator's
        assert torch.equal(b, dict(G.named_buffers())[k]), k


def test_ema_resumes_exactly(tmp_path: Path) -> None:
    imgs = tiny_images()
    recipe = Recipe(loss="hinge", batch_size=16, lr_g=1e-3, lr_d=1e-3, ema=0.9)
    G1, D1 = _pair()
    r1 = train_gan(G1, D1, imgs, recipe, LoopConfig(steps=6, seed=1, run_dir=tmp_path / "a", progress=False))
    G2, D2 = _pair()
    train_gan(G2, D2, imgs, recipe, LoopConfig(steps=3, seed=1, run_dir=tmp_path / "b", progress=False))
    G3, D3 = _pair(seed=7)
    r3 = train_gan(G3, D3, imgs, recipe, LoopConfig(steps=6, seed=1, run_dir=tmp_path / "b", progress=False))
    assert r1.G_ema is not None and r3.G_ema is not None
    for k, v in r1.G_ema.state_dict().items():
        assert torch.equal(v, r3.G_ema.state_dict()[k]), k


def test_bad_ema_is_refused() -> None:
    with pytest.raises(ConfigError, match="ema"):
        Recipe(ema=1.5)


def test_init_state_starts_from_the_weights_and_the_step(tmp_path: Path) -> None:
    imgs = tiny_images()
    recipe = Recipe(loss="hinge", batch_size=16, lr_g=1e-3, lr_d=1e-3)
    G0, D0 = _pair()
    train_gan(G0, D0, imgs, recipe, LoopConfig(steps=4, seed=1, run_dir=None, progress=False))
    init = InitState(generator=G0.state_dict(), discriminator=D0.state_dict(), step=4)
    G, D = _pair(seed=5)
    res = train_gan(G, D, imgs, recipe, LoopConfig(steps=4, seed=1, run_dir=tmp_path / "c", progress=False),
                    init=init)
    assert res.resumed_from == 4  # nothing to train: the weights are the folder's
    for a, b in ((G0, G), (D0, D)):
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
    res = train_gan(G, D, imgs, recipe, LoopConfig(steps=6, seed=1, run_dir=tmp_path / "d", progress=False,
                                                   log_every=1), init=init)
    steps = [json.loads(line)["step"] for line in (tmp_path / "d" / "log.jsonl").read_text().splitlines()]
    assert steps == [5, 6]


def _tiny_cifar(root: Path, per_batch: int = 64) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3 * 32 * 32), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": [int(x) for x in rng.integers(0, 10, per_batch)]}, f)
    return root


def test_zoo_train_init_from_an_exported_folder_continues_it(tmp_path: Path) -> None:
    """Exported with its training state, a folder continues where it stopped: the same weights as one longer
    run up to the optimiser (which restarts), the step count and wall time carried on, the card saying so."""
    from safetensors.torch import load_file

    from zoo.cli_train import train

    data = _tiny_cifar(tmp_path / "data")
    common = ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4", "--set", "ndf=4",
              "--set", "nz=8", "--set", "batch_size=16", "--set", "ema=0.9", "--no-progress", "--threads", "1"]
    first = tmp_path / "first"
    r = CliRunner().invoke(train, common + ["--out", str(first), "--run-dir", str(tmp_path / "r1"), "--steps", "3"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    state = load_file(str(first / "training_state.safetensors"))
    assert any(k.startswith("generator.") for k in state) and any(k.startswith("discriminator.") for k in state)
    published = load_file(str(first / "model.safetensors"))
    raw = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")}
    assert published.keys() == raw.keys()
    assert any(not torch.equal(published[k], raw[k]) for k in raw)  # the published generator is the EMA

    second = tmp_path / "second"
    r = CliRunner().invoke(train, common + ["--out", str(second), "--run-dir", str(tmp_path / "r2"), "--steps", "5",
                                            "--init-from", str(first)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    cfg = json.loads((second / "config.json").read_text())
    assert cfg["training"]["steps"] == 5
    assert cfg["training"]["continued_from"]
    log = [json.loads(x) for x in (tmp_path / "r2" / "log.jsonl").read_text().splitlines()]
    assert log and log[0]["step"] > 3  # continued at step 4, not 1

    other = tmp_path / "other"
    r = CliRunner().invoke(train, common + ["--set", "ngf=8", "--out", str(other), "--run-dir", str(tmp_path / "r3"),
                                            "--steps", "4", "--init-from", str(first)])
    assert r.exit_code != 0 and "config" in str(r.output + str(r.exception))


def test_zoo_train_minutes_stops_a_gan_and_the_card_gives_the_steps_it_reached(tmp_path: Path) -> None:
    from zoo.cli_train import train
    from zoo.training.export import _clean_command

    data = _tiny_cifar(tmp_path / "data")
    out = tmp_path / "out"
    args = ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4", "--set", "ndf=4", "--set", "nz=8",
            "--set", "batch_size=16", "--no-progress", "--threads", "1", "--out", str(out), "--run-dir",
            str(tmp_path / "run"), "--steps", "100000", "--minutes", "0.001"]
    r = CliRunner().invoke(train, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    cfg = json.loads((out / "config.json").read_text())
    reached = cfg["training"]["steps"]
    assert 1 <= reached < 100000
    assert f"--steps {reached}" in (out / "README.md").read_text() and "--minutes" not in (out / "README.md").read_text()
    assert _clean_command("zoo train x --steps 9 --minutes 3", 4) == "zoo train x --steps 4"


def test_wall_time_adds_every_stretch_of_the_log_and_the_continued_folder(tmp_path: Path) -> None:
    """A run stopped by hand (no export) and resumed keeps the time it trained: each process's time_s counts
    from its own start, and the stretches are summed."""
    from zoo.training.run import logged_wall_time

    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(json.dumps({"step": s, "time_s": t}) for s, t in
                             [(10, 5.0), (20, 9.0), (30, 12.5), (40, 2.0), (50, 4.0)]) + "\n")
    assert logged_wall_time(log) == pytest.approx(16.5)
    assert logged_wall_time(tmp_path / "none.jsonl") == 0.0


def test_critic_warmup_trains_only_the_fresh_critic_first(tmp_path: Path) -> None:
    """Continuing a generator without its discriminator: for critic_warmup steps only the critic moves."""
    imgs = tiny_images()
    G0, D0 = _pair()
    recipe = Recipe(loss="hinge", batch_size=16, lr_g=1e-3, lr_d=1e-3, critic_warmup=3)
    init = InitState(generator={k: v.clone() for k, v in G0.state_dict().items()}, step=10)  # no discriminator
    G, D = _pair(seed=5)
    d_before = {k: v.clone() for k, v in D.state_dict().items()}
    train_gan(G, D, imgs, recipe, LoopConfig(steps=13, seed=1, run_dir=tmp_path / "w", progress=False), init=init)
    # steps 11-13: the critic only (the generator's weights stay; its batch-norm statistics follow the batches)
    assert all(torch.equal(v, dict(G.named_parameters())[k]) for k, v in G0.named_parameters())
    assert any(not torch.equal(v, D.state_dict()[k]) for k, v in d_before.items())
    train_gan(G, D, imgs, recipe, LoopConfig(steps=14, seed=1, run_dir=tmp_path / "w", progress=False), init=init)
    assert any(not torch.equal(v, dict(G.named_parameters())[k]) for k, v in G0.named_parameters())  # then both
    with pytest.raises(ConfigError, match="critic_warmup"):
        Recipe(critic_warmup=-1)


def test_exported_ema_has_its_own_batch_norm_statistics(tmp_path: Path) -> None:
    """The EMA's weights are an average; the raw generator's batch-norm statistics (which the EMA carries while
    training) do not fit them. The export recomputes them from the EMA's own activations; training is untouched."""
    from zoo.training.loop import ema_for_export, recompute_batch_norm

    torch.manual_seed(0)
    G = TinyG()
    with torch.no_grad():
        G.net[1].running_mean.fill_(5.0)  # statistics that belong to other weights
    out = ema_for_export(G, batch_size=16)
    assert torch.equal(G.net[1].running_mean, torch.full((32,), 5.0))  # the original is left alone
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        pre = torch.stack([G.net[0](G.latent(16, gen)) for _ in range(50)])  # what the BN layer sees, per batch
    # the cumulative average over the batches of each batch's mean and (unbiased) variance
    torch.testing.assert_close(out.net[1].running_mean, pre.mean((0, 1)), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.net[1].running_var, pre.var(1, unbiased=True).mean(0), rtol=1e-4, atol=1e-5)
    assert not out.training and out.net[1].momentum == G.net[1].momentum
    assert recompute_batch_norm(TinyG(bn=False)) is False


def test_zoo_train_exports_the_ema_with_recomputed_statistics(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from zoo.cli_train import train

    data = _tiny_cifar(tmp_path / "data")
    out = tmp_path / "out"
    r = CliRunner().invoke(train, ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4",
                                   "--set", "ndf=4", "--set", "nz=8", "--set", "batch_size=16", "--set", "ema=0.9",
                                   "--no-progress", "--threads", "1", "--out", str(out), "--run-dir",
                                   str(tmp_path / "r"), "--steps", "3"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    published = load_file(str(out / "model.safetensors"))
    ckpt = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    ema_train = ckpt["G_ema"]  # the EMA as training keeps it: the raw generator's statistics
    stats = [k for k in published if k.endswith("running_mean")]
    assert stats and all(torch.equal(ema_train[k], ckpt["G"][k]) for k in stats)
    assert all(not torch.equal(published[k], ema_train[k]) for k in stats)
    for k in published:
        if not k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            assert torch.equal(published[k], ema_train[k]), k  # the weights are the EMA's
    cfg = json.loads((out / "config.json").read_text())
    assert "recomputed" in cfg["training"]["ema_batch_norm"]


def _tiny_ema_folder(tmp_path: Path) -> Path:
    """A folder `zoo train dcgan` writes after 2 steps of a tiny model with an EMA (decay 0.9)."""
    from zoo.cli_train import train

    data = _tiny_cifar(tmp_path / "data")
    out = tmp_path / "out"
    args = ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4", "--set", "ndf=4", "--set", "nz=8",
            "--set", "batch_size=16", "--set", "ema=0.9", "--no-progress", "--threads", "1", "--out", str(out),
            "--run-dir", str(tmp_path / "run"), "--steps", "2"]
    assert CliRunner().invoke(train, args, catch_exceptions=False).exit_code == 0
    return out


def test_a_folder_whose_training_state_holds_only_the_discriminator_continues_from_the_published_generator(
        tmp_path: Path) -> None:
    """A GPU run's folder may come back without its raw generator (a transfer limit): --init-from then takes
    the published generator as the one to train, keeps the discriminator, and the card says so."""
    from safetensors.torch import load_file, save_file

    from zoo.plugins import get_host
    from zoo.training.export import render_card
    from zoo.training.run import read_init_state

    out = _tiny_ema_folder(tmp_path)
    state_file = out / "training_state.safetensors"
    state = load_file(str(state_file))
    save_file({k: v for k, v in state.items() if k.startswith("discriminator.")}, str(state_file))
    cfg = json.loads((out / "config.json").read_text())
    cfg["training_state"]["modules"] = ["discriminator"]
    (out / "config.json").write_text(json.dumps(cfg))

    init = read_init_state(out, get_host().registry.architectures["dcgan"], cfg["config"])
    published = load_file(str(out / "model.safetensors"))
    assert init.generator.keys() == published.keys()
    assert all(torch.equal(init.generator[k], published[k]) for k in published)
    assert init.discriminator is not None and init.generator_ema is None and init.step == 2
    card = render_card(cfg)
    assert "no raw generator: training continues from the published one" in card
    assert "the generator there is the raw" not in card


def test_the_card_says_where_the_generator_was_trained() -> None:
    from zoo.training.export import _where_trained

    gpu = {"machine": "Intel(R) Xeon(R) Processor, 16 logical CPUs, 5 torch thread(s), torch 2.11.0+cu130, "
                      "python 3.12.3, GPU NVIDIA H100 80GB HBM3", "wall_time_s": 404.9}
    assert _where_trained(gpu) == "on one GPU (NVIDIA H100 80GB HBM3, 405 s of training)"
    assert _where_trained({"machine": "Intel(R) Xeon(R) Processor, 2 logical CPUs, 1 torch thread(s)"}) == "on a CPU"


def test_a_folder_can_publish_its_raw_generator_instead_of_the_ema(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from zoo.errors import ConfigError
    from zoo.loading import load_folder
    from zoo.training.export import publish_raw_generator

    out = _tiny_ema_folder(tmp_path)
    cfg = json.loads((out / "config.json").read_text())
    cfg["metrics"] = {"fid": 1.0}
    (out / "config.json").write_text(json.dumps(cfg))
    grid = (out / "samples.png").read_bytes()
    state = load_file(str(out / "training_state.safetensors"))
    raw = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")}
    publish_raw_generator(out)
    published = load_file(str(out / "model.safetensors"))
    assert published.keys() == raw.keys() and all(torch.equal(published[k], raw[k]) for k in raw)
    after = load_file(str(out / "training_state.safetensors"))  # the discriminator only: the raw G is not kept twice
    assert set(after) == {k for k in state if k.startswith("discriminator.")}
    assert all(torch.equal(after[k], state[k]) for k in after)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["published_generator"] == "raw" and cfg["metrics"] == {}  # the EMA's figures are gone
    assert cfg["training_state"]["modules"] == ["discriminator"]
    assert (out / "samples.png").read_bytes() != grid
    card = (out / "README.md").read_text()
    assert "the raw one: training also kept an exponential moving average" in card
    assert "no raw generator: training continues from the published one" in card
    assert load_folder(out).sample(2, seed=0).shape[0] == 2

    (out / "training_state.safetensors").unlink()
    with pytest.raises(ConfigError, match="no raw generator"):
        publish_raw_generator(out)


def test_a_folder_slims_its_training_state_and_still_continues(tmp_path: Path) -> None:
    """Before a card is republished: the raw generator leaves training_state, the discriminator is kept in
    float16 (close to its float32 values), config and card say so, and `zoo train --init-from` still continues
    from it (the published generator as the one to train; the next export's state is float32 again)."""
    from safetensors.torch import load_file

    from zoo.cli_train import train
    from zoo.errors import ConfigError
    from zoo.training.export import slim_training_state

    out = _tiny_ema_folder(tmp_path)
    state_file = out / "training_state.safetensors"
    before = load_file(str(state_file))
    size = state_file.stat().st_size
    model = (out / "model.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="dtype"):
        slim_training_state(out, dtype="int8")
    saved = slim_training_state(out)
    after = load_file(str(state_file))
    assert saved == size - state_file.stat().st_size and saved > size / 2
    assert set(after) == {k for k in before if k.startswith("discriminator.")}
    for k, v in after.items():
        if before[k].is_floating_point():
            assert v.dtype == torch.float16
            assert torch.allclose(v.float(), before[k], rtol=1e-3, atol=1e-4), k
    assert (out / "model.safetensors").read_bytes() == model  # the published generator is untouched
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["training_state"]["modules"] == ["discriminator"] and cfg["training_state"]["dtype"] == "float16"
    card = (out / "README.md").read_text()
    assert "stored in float16" in card and "no raw generator: training continues from the published one" in card

    data = tmp_path / "data"  # written by _tiny_ema_folder
    more = tmp_path / "more"
    args = ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4", "--set", "ndf=4", "--set", "nz=8",
            "--set", "batch_size=16", "--set", "ema=0.9", "--no-progress", "--threads", "1", "--out", str(more),
            "--run-dir", str(tmp_path / "run2"), "--steps", "3", "--init-from", str(out)]
    r = CliRunner().invoke(train, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    again = load_file(str(more / "training_state.safetensors"))
    assert any(k.startswith("generator.") for k in again)
    assert all(v.dtype == torch.float32 for v in again.values() if v.is_floating_point())

    state_file.unlink()
    with pytest.raises(ConfigError, match="no training_state"):
        slim_training_state(out)


def test_export_every_writes_each_point_as_the_run_stopped_there_would(tmp_path: Path) -> None:
    """--export-every N: a folder every N steps (the points of an FID curve), each the folder a run of that many
    steps exports (same weights, its step count in the card), without changing the run's own weights."""
    from safetensors.torch import load_file

    from zoo.cli_train import train
    from zoo.training.run import export_folder

    data = _tiny_cifar(tmp_path / "data")
    common = ["dcgan", "--data", str(data), "--dataset", "cifar10", "--set", "ngf=4", "--set", "ndf=4",
              "--set", "nz=8", "--set", "batch_size=16", "--set", "ema=0.9", "--no-progress", "--threads", "1"]
    run = tmp_path / "run"
    r = CliRunner().invoke(train, common + ["--out", str(tmp_path / "out"), "--run-dir", str(run), "--steps", "6",
                                            "--export-every", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    points = sorted(p.name for p in (run / "exports").iterdir())
    assert points == ["step_0000002", "step_0000004"]  # the 6-step folder is --out itself
    four = export_folder(run, 4)
    assert json.loads((four / "config.json").read_text())["training"]["steps"] == 4
    assert (four / "README.md").exists() and (four / "training_state.safetensors").exists()

    short = tmp_path / "short"
    r = CliRunner().invoke(train, common + ["--out", str(short), "--run-dir", str(tmp_path / "r4"), "--steps", "4"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    a, b = load_file(str(four / "model.safetensors")), load_file(str(short / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    plain = tmp_path / "plain"
    r = CliRunner().invoke(train, common + ["--out", str(plain), "--run-dir", str(tmp_path / "r6"), "--steps", "6"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    a, b = load_file(str(tmp_path / "out" / "model.safetensors")), load_file(str(plain / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)  # exporting on the way changed nothing
