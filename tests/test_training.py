"""The training loop, losses, recipes and data readers (tiny models; a few seconds)."""

from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training_tiny import TinyD, TinyG, tiny_images
from zoo.errors import ConfigError, DataError
from zoo.training import LoopConfig, Recipe, get_loss, gradient_penalty, load_dataset, recipe_from_mapping, train_gan
from zoo.training.data import check_file, sha256_file
from zoo.training.loop import BatchStream

torch.set_num_threads(1)


# -- losses -----------------------------------------------------------------
def test_bce_losses_match_torch_bce():
    real, fake = torch.randn(16), torch.randn(16)
    ones, zeros = torch.ones(16), torch.zeros(16)
    loss = get_loss("bce-nonsaturating")
    expected_d = F.binary_cross_entropy(torch.sigmoid(real), ones) + F.binary_cross_entropy(torch.sigmoid(fake), zeros)
    assert torch.allclose(loss.d(real, fake), expected_d, atol=1e-5)
    assert torch.allclose(loss.g(fake), F.binary_cross_entropy(torch.sigmoid(fake), ones), atol=1e-5)
    minimax = get_loss("minimax")
    assert torch.allclose(minimax.g(fake), torch.log1p(-torch.sigmoid(fake)).mean(), atol=1e-5)


def test_wasserstein_and_hinge():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    w = get_loss("wasserstein")
    assert w.d(real, fake).item() == pytest.approx(-1.0 - 1.25)
    assert w.g(fake).item() == pytest.approx(1.0)
    h = get_loss("hinge")
    # relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25 ; relu(1-2)=0, relu(1+0)=1 -> 0.5
    assert h.d(real, fake).item() == pytest.approx(0.75)
    assert get_loss("wgan-gp").gradient_penalty


def test_gradient_penalty_of_linear_critic_is_analytic():
    w = torch.randn(1, 12)
    critic = lambda x: (x.flatten(1) * w).sum(1)  # noqa: E731  gradient is w everywhere
    real, fake = torch.randn(5, 3, 2, 2), torch.randn(5, 3, 2, 2)
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1.0) ** 2, rel=1e-5)


def test_unknown_loss_and_bad_recipe():
    with pytest.raises(ConfigError, match="choose one of"):
        get_loss("nope")
    with pytest.raises(ConfigError, match="gp_lambda"):
        Recipe(loss="wasserstein-gp")


def test_recipe_from_mapping_reads_plugin_spellings():
    r = recipe_from_mapping({"loss": "wgan", "optimiser": "RMSprop", "lr": 5e-5, "clip_value": 0.01,
                             "n_critic": 5, "batch_size": 64, "extra": "ignored"})
    assert (r.loss, r.optimizer, r.lr_g, r.lr_d, r.clip, r.n_critic) == ("wgan", "rmsprop", 5e-5, 5e-5, 0.01, 5)
    r2 = recipe_from_mapping({"loss": "wasserstein-gp", "lambda_gp": 10, "betas": [0.5, 0.9]}, batch_size=8)
    assert r2.gp_lambda == 10.0 and r2.betas == (0.5, 0.9) and r2.batch_size == 8


# -- batches ----------------------------------------------------------------
def test_batch_stream_covers_epoch_and_shards_ranks():
    imgs = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1)
    s = BatchStream(imgs, 5, seed=3)
    seen = torch.cat([s.indices(i) for i in range(8)])
    assert sorted(seen.tolist()) == list(range(40))  # one epoch = a permutation
    assert not torch.equal(s.indices(0), s.indices(8))  # next epoch reshuffled
    r0, r1 = BatchStream(imgs, 5, 3, 0, 2), BatchStream(imgs, 5, 3, 1, 2)
    both = torch.cat([r0.indices(0), r1.indices(0)])
    assert torch.equal(both, BatchStream(imgs, 10, 3).indices(0))  # ranks split the global batch
    x = s.batch(0)
    assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1


# -- the loop ---------------------------------------------------------------
def _pair(seed: int = 0, bn: bool = True):
    torch.manual_seed(seed)
    return TinyG(bn=bn), TinyD()


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("loss", ["bce-nonsaturating", "hinge"])
def test_resume_is_exact(tmp_path, loss):
    imgs = tiny_images()
    recipe = Recipe(loss=loss, batch_size=16, lr_g=1e-3, lr_d=1e-3)
    G1, D1 = _pair()
    train_gan(G1, D1, imgs, recipe, LoopConfig(steps=6, seed=1, run_dir=tmp_path / "a", progress=False, log_every=1))
    G2, D2 = _pair()
    train_gan(G2, D2, imgs, recipe, LoopConfig(steps=3, seed=1, run_dir=tmp_path / "b", progress=False))
    G3, D3 = _pair(seed=99)  # different init: everything must come from the checkpoint
    res = train_gan(G3, D3, imgs, recipe, LoopConfig(steps=6, seed=1, run_dir=tmp_path / "b", progress=False))
    assert res.resumed_from == 3
    for a, b in ((G1, G3), (D1, D3)):
        for k, v in a.state_dict().items():
            assert torch.equal(v, b.state_dict()[k]), k
    log = (tmp_path / "a" / "log.jsonl").read_text().splitlines()
    assert len(log) == 6 and '"loss_d"' in log[0]
    assert (tmp_path / "a" / "samples" / "step_0000006.png").exists()


def test_different_seeds_differ(tmp_path):
    imgs = tiny_images()
    recipe = Recipe(batch_size=16)
    outs = []
    for seed in (0, 1):
        G, D = _pair()
        train_gan(G, D, imgs, recipe, LoopConfig(steps=2, seed=seed, progress=False))
        outs.append(_state(G))
    assert any(not torch.equal(outs[0][k], outs[1][k]) for k in outs[0])


def test_weight_clipping_and_n_critic(tmp_path):
    imgs = tiny_images()
    recipe = Recipe(loss="wasserstein", optimizer="rmsprop", lr_g=5e-3, lr_d=5e-3, clip=0.01, n_critic=5, batch_size=16)
    G, D = _pair(bn=False)
    calls = {"n": 0}
    orig = D.forward

    def counting(x):
        calls["n"] += 1
        return orig(x)

    D.forward = counting  # type: ignore[method-assign]
    train_gan(G, D, imgs, recipe, LoopConfig(steps=2, progress=False))
    # per step: 5 critic updates x (real + fake) + 1 generator pass
    assert calls["n"] == 2 * (5 * 2 + 1)
    assert all(p.abs().max() <= 0.01 + 1e-7 for p in D.parameters())


def test_gp_training_runs_and_logs_penalty(tmp_path):
    imgs = tiny_images()
    recipe = Recipe(loss="wasserstein-gp", lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), gp_lambda=10.0, n_critic=2, batch_size=16)
    G, D = _pair(bn=False)
    res = train_gan(G, D, imgs, recipe, LoopConfig(steps=3, progress=False, log_every=1))
    assert all("gp" in r and r["gp"] >= 0 for r in res.history)


@pytest.mark.parametrize("loss", ["wasserstein-gp", "hinge"])
def test_bf16_channels_last_training_stays_fp32_and_learns(loss):
    """bf16 autocast + channels_last: the weights, optimiser state and logged losses stay float32,
    the penalty is finite, and the result differs from fp32 only by rounding (same draws)."""
    imgs = tiny_images()
    recipe = Recipe(loss=loss, lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), gp_lambda=10.0 if loss.endswith("gp") else 0.0,
                    n_critic=2, batch_size=16)
    results = {}
    for precision in ("fp32", "bf16"):
        G, D = _pair(bn=False)
        res = train_gan(G, D, imgs, recipe, LoopConfig(steps=4, progress=False, log_every=1, precision=precision,
                                                        channels_last=precision == "bf16"))
        assert all(p.dtype == torch.float32 for p in [*G.parameters(), *D.parameters()])
        assert all(math.isfinite(v) for r in res.history for k, v in r.items() if k != "step")
        results[precision] = torch.cat([p.detach().flatten() for p in G.parameters()])
    diff = (results["bf16"] - results["fp32"]).abs().max().item()
    assert 0 < diff < 5e-3  # bf16 really ran (not bit-equal), and stayed close


def test_precision_is_checked():
    with pytest.raises(ValueError, match="precision"):
        LoopConfig(steps=1, precision="fp16")


def test_gan_learns_the_tiny_data():
    """Real learning, not only running: the share of generated pixels near the data's
    values (0 or 1) rises, and images become mostly dark like the data (9 of 64 pixels lit)."""
    imgs = tiny_images(512)
    recipe = Recipe(batch_size=32, lr_g=2e-3, lr_d=2e-3)
    G, D = _pair()
    before = G.sample(256, seed=0).mean().item()
    train_gan(G, D, imgs, recipe, LoopConfig(steps=300, progress=False))
    after = G.sample(256, seed=0)
    target = imgs.float().mean().item() / 255  # 9/64 ~ 0.14
    assert abs(after.mean().item() - target) < abs(before - target)
    assert abs(after.mean().item() - target) < 0.08


# -- data -------------------------------------------------------------------
def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 8, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_idx_reader_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (7, 28, 28))
    y = rng.integers(0, 10, (7,))
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", x)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", y)
    d = load_dataset("fashion-mnist", tmp_path, "test", verify=False)  # made-up bytes under standard names
    assert d.images.shape == (7, 1, 28, 28) and torch.equal(d.images[:, 0], torch.from_numpy(x.astype(np.uint8)))
    assert d.labels.tolist() == y.tolist()
    assert d.resized(32).images.shape == (7, 1, 32, 32)


def test_known_file_with_wrong_bytes_is_refused(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(b"not mnist")
    with pytest.raises(DataError, match="download it again"):
        check_file("mnist", bad)


def test_missing_files_say_how_to_download(tmp_path):
    with pytest.raises(DataError, match="torchvision.datasets.MNIST"):
        load_dataset("mnist", tmp_path)
    with pytest.raises(DataError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10", tmp_path)


def test_cifar_tarball_reader(tmp_path):
    import io
    import pickle
    import tarfile

    rng = np.random.default_rng(1)
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            blob = pickle.dumps({b"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), b"labels": [1, 2]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    d = load_dataset("cifar10", tmp_path, "train", verify=False)
    assert d.images.shape == (10, 3, 32, 32) and d.labels.tolist() == [1, 2] * 5


def test_cifar_zip_reader(tmp_path):
    import io
    import zipfile

    from PIL import Image

    path = tmp_path / "CIFAR-10-images.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for cls, val in (("cat", 10), ("airplane", 200)):
            buf = io.BytesIO()
            Image.new("RGB", (32, 32), (val, val, val)).save(buf, format="PNG")
            zf.writestr(f"test/{cls}/0000.png", buf.getvalue())
    d = load_dataset("cifar10", tmp_path, "test", verify=False)
    assert d.labels.tolist() == [0, 3]  # airplane=0, cat=3, in class order
    assert d.images[0].float().mean().item() == pytest.approx(200, abs=1)
    assert "lossy" in d.note


DATA = os.environ.get("ZOO_DATA_DIR")


@pytest.mark.skipif(not DATA, reason="ZOO_DATA_DIR is not set: the real MNIST files are needed")
def test_real_mnist_checksums_and_shapes():
    d = load_dataset("mnist", Path(DATA) / "mnist", "test")
    assert d.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(d.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert d.files["t10k-images-idx3-ubyte.gz"] == sha256_file(Path(DATA) / "mnist" / "t10k-images-idx3-ubyte.gz")


def test_card_command_drops_options_that_do_not_change_weights():
    from zoo.training.export import _clean_command

    cmd = "zoo train dcgan --data d --dataset mnist --out o --steps 5 --run-dir /tmp/x --sample-every 9 --no-progress"
    assert _clean_command(cmd) == "zoo train dcgan --data d --dataset mnist --out o --steps 5"


def test_dataset_config_sizes_conv_nets_to_32_and_mlps_to_the_data():
    from zoo.training.data import ImageData
    from zoo.training.run import dataset_config, get_architecture

    mnist_like = ImageData("mnist", "train", torch.zeros(2, 1, 28, 28, dtype=torch.uint8), torch.zeros(2))
    assert dataset_config(get_architecture("dcgan"), mnist_like, {})["image_size"] == 32
    assert dataset_config(get_architecture("dcgan"), mnist_like, {})["nc"] == 1
    assert dataset_config(get_architecture("gan"), mnist_like, {})["image_size"] == 28
    assert dataset_config(get_architecture("dcgan"), mnist_like, {"image_size": 64})["image_size"] == 64
