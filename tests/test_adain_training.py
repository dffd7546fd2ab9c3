"""AdaIN decoder training and the candidate encoders: fast checks at tiny resolution."""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skimage")

from PIL import Image  # noqa: E402

from zoo_adain import encoders as E  # noqa: E402
from zoo_adain import train as T  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _style_dir(tmp_path: Path) -> Path:
    """A folder of small synthetic 'paintings' (coloured stripes and blobs)."""
    d = tmp_path / "styles"
    if d.is_dir():
        return d
    d.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for i in range(3):
        x = torch.linspace(0, 6.28 * (i + 1), 64)
        base = torch.stack([torch.sin(x[None, :] * (c + 1) + i) * 0.5 + 0.5 for c in range(3)]).expand(3, 64, 64)
        img = (base * 0.8 + 0.2 * torch.rand(3, 64, 64, generator=g)).clamp(0, 1)
        Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(d / f"style{i}.png")
    return d


def _cfg(tmp_path: Path, **kw) -> T.TrainConfig:
    base = dict(
        encoder="random", out=str(tmp_path / "run"), content_dir=None, style_dir=str(_style_dir(tmp_path)),
        skimage_content=("camera", "rocket"), resize=48, crop=32, batch_size=2, lr=1e-3, steps=4,
        bf16=False, threads=1, log_every=1000, save_every=2,
    )
    base.update(kw)
    return T.TrainConfig(**base)


def test_adain_matches_formula_and_model_op():
    from zoo_adain.model import adain as model_adain

    g = torch.Generator().manual_seed(1)
    c, s = torch.randn(2, 5, 7, 9, generator=g), torch.randn(2, 5, 4, 6, generator=g) * 3 + 1
    out = T.adain(c, s)
    cf, sf = c.flatten(2), s.flatten(2)
    expect = (cf - cf.mean(2, keepdim=True)) / (cf.var(2, keepdim=True) + 1e-5).sqrt()
    expect = expect * (sf.var(2, keepdim=True) + 1e-5).sqrt() + sf.mean(2, keepdim=True)
    torch.testing.assert_close(out, expect.view_as(c))
    torch.testing.assert_close(out, model_adain(c, s), rtol=1e-5, atol=1e-5)


def test_random_encoder_folds_normalisation_and_is_seeded():
    a, b, c = E.random_vgg(0), E.random_vgg(0), E.random_vgg(1)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a[2].weight, c[2].weight)
    x = torch.rand(1, 3, 8, 8)
    mean = torch.tensor(E.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(E.IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(a[0](x), (x - mean) / std)
    assert all(float(a[i].bias.detach().abs().max()) == 0 for i in E.conv_indices(a)[1:])


def test_random_scaled_gives_unit_activations():
    imgs = T.calibration_images(48)
    seq = E.make_encoder("random-scaled", calibration_images=imgs)
    feats = E.features(seq, imgs)
    for f in feats:
        assert math.isclose(float(f.pow(2).mean()), 1.0, rel_tol=1e-3)
    # positively homogeneous: same features as the unscaled net up to one factor per layer
    raw = E.features(E.random_vgg(0), imgs)
    for f, r in zip(feats, raw):
        ratio = f.sum() / r.sum()
        torch.testing.assert_close(f, r * ratio, rtol=1e-3, atol=1e-5)


def test_encoder_copies_into_zoo_model_exactly():
    seq = E.random_vgg(3)
    model = T.zoo_model_from(seq, T.new_decoder())
    x = torch.rand(1, 3, 37, 29)
    ours = E.features(seq, x)
    theirs = model.encode_with_intermediate(x)
    assert [tuple(f.shape) for f in ours] == [tuple(f.shape) for f in theirs]
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


@pytest.mark.slow  # about 20 s on a busy 2-core machine
def test_losses_decrease_on_a_fixed_batch(tmp_path):
    torch.manual_seed(0)
    cfg = _cfg(tmp_path, encoder="random-scaled")
    enc = T.build_encoder(cfg)
    dec = T.new_decoder()
    opt = torch.optim.Adam(dec.parameters(), lr=1e-3)
    cpool, spool = T.load_pools(cfg)
    rng = random.Random(0)
    c, s = cpool.sample(2, rng), spool.sample(2, rng)
    first = T.train_step(enc, dec, opt, c, s, cfg)
    for _ in range(25):
        last = T.train_step(enc, dec, opt, c, s, cfg)
    total = lambda lc_ls: cfg.content_weight * lc_ls[0] + cfg.style_weight * lc_ls[1]  # noqa: E731
    assert total(last) < 0.85 * total(first), (first, last)
    assert last[1] < 0.85 * first[1], (first, last)  # the style term, which dominates at the start


def test_checkpoint_resumes_to_the_same_weights(tmp_path):
    from safetensors.torch import load_file

    straight = T.train(_cfg(tmp_path / "a", steps=4, log_every=1), print_fn=lambda *a, **k: None)
    assert [r["step"] for r in straight] == [1, 2, 3, 4]
    T.train(_cfg(tmp_path / "b", steps=2, log_every=1), print_fn=lambda *a, **k: None)
    msgs: list[str] = []
    resumed = T.train(_cfg(tmp_path / "b", steps=4, log_every=1), print_fn=lambda m, **k: msgs.append(m))
    assert any("resumed" in m and "step 2" in m for m in msgs)
    assert [r["step"] for r in resumed] == [3, 4]
    a = load_file(str(tmp_path / "a" / "run" / "decoder.safetensors"))
    b = load_file(str(tmp_path / "b" / "run" / "decoder.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_resume_refuses_another_encoder(tmp_path):
    T.train(_cfg(tmp_path, steps=2), print_fn=lambda *a, **k: None)
    with pytest.raises(ValueError, match="different encoder"):
        T.train(_cfg(tmp_path, steps=3, encoder="random-scaled"), print_fn=lambda *a, **k: None)


def test_export_writes_a_folder_zoo_loads(tmp_path):
    from zoo.loading import load_state
    from zoo_adain.model import build

    cfg = _cfg(tmp_path, steps=2)
    T.train(cfg, print_fn=lambda *a, **k: None)
    out = T.export_hub_folder(Path(cfg.out), tmp_path / "hub", card="# test card\n")
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    with torch.device("meta"):
        model = build()
    load_state(model, str(out / "model.safetensors"), name="adain.test")
    model.eval()
    enc = T.build_encoder(cfg)
    dec = T.new_decoder()
    from safetensors.torch import load_file

    dec.load_state_dict(load_file(str(Path(cfg.out) / "decoder.safetensors")))
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        expect = dec(T.adain(E.features(enc, c)[-1], E.features(enc, s)[-1]))
        got = model(c, s)
    torch.testing.assert_close(got, expect, rtol=1e-4, atol=1e-4)


def _cifar_zip() -> Path:
    root = os.environ.get("ZOO_DATA_DIR")
    if not root:
        pytest.skip("ZOO_DATA_DIR is not set: the CIFAR-10 zip (cifar10-jpeg-q75/CIFAR-10-images.zip) is needed")
    p = Path(root) / "cifar10-jpeg-q75" / "CIFAR-10-images.zip"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    return p


def test_cifar_classifier_trains_and_transfers(tmp_path):
    zip_path = _cifar_zip()
    enc, res = E.train_cifar_classifier(zip_path, train_limit=40, test_limit=20, epochs=1, batch_size=20,
                                        print_fn=lambda *a: None)
    assert res.train_images == 40 and 0.0 <= res.test_accuracy <= 1.0
    seq = E.make_encoder("cifar", cifar_state=E.upstream_state(enc))
    assert torch.isfinite(E.features(seq, torch.rand(1, 3, 16, 16))[-1]).all()


def test_warmup_phase_reduces_reconstruction_error_then_switches(tmp_path):
    cfg = _cfg(tmp_path, steps=4, warmup_steps=3, log_every=1)
    logs = T.train(cfg, print_fn=lambda *a, **k: None)
    assert ["pixel" in r for r in logs] == [True] * 3 + [False]
    assert math.isfinite(logs[3]["content"]) and math.isfinite(logs[3]["style"])
    # on a fixed batch the pixel reconstruction error falls
    torch.manual_seed(0)
    enc, dec = T.build_encoder(cfg), T.new_decoder()
    opt = torch.optim.Adam(dec.parameters(), lr=3e-4)
    c = T.load_pools(cfg)[0].sample(2, random.Random(0))
    losses = [T.warmup_step(enc, dec, opt, c, cfg) for _ in range(10)]
    assert losses[-1] < 0.5 * losses[0], losses


def _decoder_gradients(cfg: T.TrainConfig, option: str, values: tuple[float, ...]) -> list[torch.Tensor]:
    """The decoder's gradients after one train_step on a fixed batch, for each value of the option."""
    torch.manual_seed(0)
    enc = T.build_encoder(cfg)
    c, s = T.load_pools(cfg)[0].sample(2, random.Random(0)), T.load_pools(cfg)[1].sample(2, random.Random(1))
    grads = []
    for w in values:
        setattr(cfg, option, w)
        dec = T.new_decoder(0)
        opt = torch.optim.SGD(dec.parameters(), lr=0.0)  # keep the weights; look at the gradients
        T.train_step(enc, dec, opt, c, s, cfg)
        grads.append(torch.cat([p.grad.flatten() for p in dec.parameters()]))
    return grads


def test_identity_loss_option_trains_and_differs_from_the_paper_recipe(tmp_path):
    grads = _decoder_gradients(_cfg(tmp_path, encoder="random-scaled"), "identity_weight", (0.0, 10.0))
    assert not torch.allclose(grads[0], grads[1])


def test_depth_3_model_stops_at_relu3_1():
    from zoo_adain.model import build

    model = build(depth=3)
    # conv3_1' 256->128, conv2_2 128->128, conv2_1 128->64, conv1_2 64->64, conv1_1 64->3 (weights + biases)
    assert sum(p.numel() for p in model.decoder.parameters()) == (
        256 * 128 * 9 + 128 + 128 * 128 * 9 + 128 + 128 * 64 * 9 + 64 + 64 * 64 * 9 + 64 + 64 * 3 * 9 + 3
    )
    assert model.multiple == 4 and model.encoder.channels == (64, 128, 256)
    x = torch.rand(1, 3, 37, 29)
    feats = model.encode_with_intermediate(x)
    assert [f.shape[1] for f in feats] == [64, 128, 256] and feats[-1].shape[-2:] == (10, 8)
    with torch.no_grad():
        assert model(x, x).shape == (1, 3, 40, 32)  # 4 * ceil(H / 4): stylize pads and crops to the input's size
    with pytest.raises(Exception, match="depth must be 1..4"):
        build(depth=5)


def test_depth_3_trains_exports_and_loads_as_the_run_computes(tmp_path):
    from safetensors.torch import load_file

    from zoo.loading import load_state
    from zoo_adain.model import build

    cfg = _cfg(tmp_path, steps=2, depth=3)
    T.train(cfg, print_fn=lambda *a, **k: None)
    out = T.export_hub_folder(Path(cfg.out), tmp_path / "hub")
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["depth"] == 3
    with torch.device("meta"):
        model = build(**config)
    load_state(model, str(out / "model.safetensors"), name="adain.test")
    model.eval()
    enc = T.build_encoder(cfg)
    dec = T.new_decoder(depth=3)
    dec.load_state_dict(load_file(str(Path(cfg.out) / "decoder.safetensors")))
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        f_c, f_s = E.features(enc, c, 3), E.features(enc, s, 3)
        assert len(f_c) == 3 and f_c[-1].shape[1] == 256
        expect = dec(T.adain(f_c[-1], f_s[-1]))
        got = model(c, s)
    torch.testing.assert_close(got, expect, rtol=1e-4, atol=1e-4)


def test_total_variation_penalises_neighbour_differences_and_enters_the_gradient(tmp_path):
    flat = torch.full((1, 3, 8, 8), 0.5)
    stripes = flat.clone()
    stripes[..., ::2] = 1.0  # columns alternate 1.0 / 0.5: every horizontal neighbour differs by 0.5
    assert T.total_variation(flat).item() == 0.0
    assert T.total_variation(stripes).item() == pytest.approx(0.25)
    assert T.total_variation(stripes.transpose(2, 3)).item() == pytest.approx(0.25)

    grads = _decoder_gradients(_cfg(tmp_path, encoder="random"), "tv_weight", (0.0, 20.0))
    assert not torch.allclose(grads[0], grads[1])
    assert T.parse_args(["--style-dir", "x", "--tv-weight", "20", "--depth", "3"]).tv_weight == 20.0


def test_the_laplacian_loss_sees_structure_not_flat_colour_and_enters_the_gradient(tmp_path):
    from zoo.errors import ConfigError
    from zoo_adain.imageops import laplacian, laplacian_loss

    y, x = torch.meshgrid(torch.linspace(0, 1, 16), torch.linspace(0, 1, 16), indexing="ij")
    ramp = torch.stack([x, 0.5 * y, x * 0 + 0.3])[None]  # linear in both directions: no curvature
    assert laplacian(ramp, 1).abs().max().item() < 1e-5
    assert laplacian(ramp, 2).shape == (1, 1, 6, 6)  # pooled to 8x8, then a 3x3 valid convolution
    checker = ((torch.arange(16)[:, None] + torch.arange(16)[None]) % 2).float().expand(1, 3, 16, 16)
    assert laplacian_loss(checker, checker, 1).item() == 0.0
    assert laplacian_loss(checker, ramp, 1).item() > 1.0  # a checkerboard's Laplacian is +-4 (luminance 1)
    assert laplacian_loss(checker * 0 + 0.7, ramp, 1).item() < 1e-8  # a colour change alone costs nothing
    with pytest.raises(ConfigError, match="at least 1"):
        laplacian(ramp, 0)

    grads = _decoder_gradients(_cfg(tmp_path, encoder="random"), "laplacian_weight", (0.0, 100.0))
    assert not torch.allclose(grads[0], grads[1])
    a = T.parse_args(["--style-dir", "x", "--laplacian-weight", "100", "--laplacian-pool", "4"])
    assert (a.laplacian_weight, a.laplacian_pool) == (100.0, 4)
    with pytest.raises(SystemExit):
        T.parse_args(["--style-dir", "x", "--laplacian-pool", "0"])


def _random_vgg16(path: Path) -> Path:
    """A VGG16 (the layout of vgg16.hed-bsds500) with random He weights, saved for --encoder-weights."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    enc = E.VGG16Encoder()
    state = {}
    for k, v in enc.state_dict().items():
        fan_in = v[0].numel() if v.dim() == 4 else 1
        state[k] = (torch.randn(v.shape, generator=g) * math.sqrt(2.0 / fan_in) if v.dim() == 4
                    else torch.zeros(v.shape)).contiguous()
    save_file(state, str(path))
    return path


def test_vgg16_run_resumes_and_exports_the_decoder_only(tmp_path):
    weights = _random_vgg16(tmp_path / "vgg16.safetensors")
    manifest = tmp_path / "photos.tsv"
    photo = tmp_path / "photo.png"
    Image.fromarray((torch.rand(40, 60, 3).numpy() * 255).astype("uint8")).save(photo)
    manifest.write_text("# name<TAB>path\nmy:photo\tphoto.png\tsomewhere\tCC0\nmy:held\tphoto.png\n")
    kw = dict(encoder="vgg16-hed", encoder_weights=str(weights), decoder_width=0.0625, content_lists=(str(manifest),),
              held_out_content=("my:held",), scales=(0.75, 1.5), warmup_steps=1, channels_last=True)
    first = T.train(_cfg(tmp_path, steps=2, log_every=1, **kw), print_fn=lambda *a, **k: None)
    assert ["pixel" in r and "style" not in r for r in first] == [True, False]  # the warm-up, then the paper's
    more = T.train(_cfg(tmp_path, steps=3, log_every=1, **kw), print_fn=lambda *a, **k: None)
    assert [r["step"] for r in more] == [3]
    pool, _ = T.load_pools(_cfg(tmp_path, **kw))
    assert pool.names[0] == "my:photo" and "my:held" not in pool.names
    out = T.export_hub_folder(tmp_path / "run", tmp_path / "hub")
    from safetensors.torch import load_file

    saved = load_file(str(out / "model.safetensors"))
    assert saved and all(k.startswith("decoder.") for k in saved)
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["encoder"] == "vgg16" and config["includes"] == {"encoder": "vgg16.hed-bsds500"}
    # the decoder file plus the VGG16's tensors under "encoder." make the whole model
    import zoo

    model = zoo.build("adain", **config["config"])
    enc_state = {f"encoder.{k}": v for k, v in load_file(str(weights)).items()}
    model.load_state_dict({**saved, **enc_state})
    y = model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert y.shape == (1, 3, 32, 32) and torch.isfinite(y).all()
    # the same run exported twice gives the same bytes
    again = T.export_hub_folder(tmp_path / "run", tmp_path / "hub2")
    assert (again / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()


def test_a_vgg16_run_at_relu3_1_exports_and_loads_as_the_run_computes(tmp_path, monkeypatch):
    """--encoder vgg16-hed --depth 3 (the encoder study's V arm): the run keeps the VGG16 to relu4_1, the model
    (from the run folder, and loaded from its export over the included VGG16) stops at relu3_1 and computes
    what the run's encoder and decoder compute."""
    import zoo
    import zoo.loading

    weights = _random_vgg16(tmp_path / "vgg16.safetensors")
    cfg = _cfg(tmp_path, steps=2, depth=3, encoder="vgg16-hed", encoder_weights=str(weights), decoder_width=0.0625)
    T.train(cfg, print_fn=lambda *a, **k: None)
    enc, dec, run_cfg = T.load_run(Path(cfg.out))
    from_run = T.zoo_model_from(enc, dec, int(run_cfg["depth"]))
    out = T.export_hub_folder(Path(cfg.out), tmp_path / "hub")
    assert json.loads((out / "config.json").read_text())["config"]["depth"] == 3
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: weights)
    loaded = zoo.load(str(out))
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        f_c, f_s = enc.forward_features(c, 3), enc.forward_features(s, 3)
        expect = dec(T.adain(f_c[-1], f_s[-1]))
        torch.testing.assert_close(from_run(c, s), expect, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(loaded(c, s), expect, rtol=1e-4, atol=1e-4)


def test_multi_scale_crops_and_flips():
    im = Image.fromarray((torch.rand(50, 80, 3).numpy() * 255).astype("uint8"))
    pool = T.CropPool([im], resize=50, crop=24, scales=(0.5, 2.0))
    x = pool.sample(6, random.Random(0))
    assert x.shape == (6, 3, 24, 24) and float(x.min()) >= 0 and float(x.max()) <= 1
    plain = T.CropPool([im], resize=50, crop=24)  # the paper's plain crops: pixels of the image
    y = plain.sample(1, random.Random(1))
    full = T.to_tensor(T.resize_short(im, 50))
    hits = [(i, j) for i in range(27) for j in range(full.shape[2] - 23)
            if torch.allclose(full[:, i:i + 24, j:j + 24], y[0], atol=1e-6)
            or torch.allclose(full[:, i:i + 24, j:j + 24].flip(2), y[0], atol=1e-6)]
    assert hits
    with pytest.raises(ValueError):
        T.CropPool([im], resize=50, crop=24, scales=(2.0, 1.0))


def test_feature_scales_divide_the_losses(tmp_path):
    import copy

    cfg = _cfg(tmp_path, bf16=False, channels_last=False)
    enc = T.build_encoder(cfg)
    dec = T.new_decoder(0, 4, 0.0625)
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 32, 32, generator=g)
    scales = T.feature_scales(enc, torch.cat([c, s]))
    assert len(scales) == 4 and all(t.shape == (1, 1, 1, 1) and float(t) > 0 for t in scales)
    d1, d2 = copy.deepcopy(dec), copy.deepcopy(dec)
    lc1, ls1 = T.train_step(enc, d1, torch.optim.SGD(d1.parameters(), lr=0.0), c, s, cfg)
    two = [torch.full((1, 1, 1, 1), 2.0)] * 4
    lc2, ls2 = T.train_step(enc, d2, torch.optim.SGD(d2.parameters(), lr=0.0), c, s, cfg, two)
    assert math.isclose(lc2, lc1 / 4, rel_tol=1e-4)
    assert math.isclose(ls2, ls1 / 4, rel_tol=0.05)  # not exact: std = sqrt(var + 1e-5)


def test_hue_rotation_keeps_luminance_and_changes_the_palette():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 16, 16, generator=g) * 0.4 + 0.3
    w = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    y = T.rotate_hue(x, 2.0)
    torch.testing.assert_close((y * w).sum(0), (x * w).sum(0), atol=1e-5, rtol=0)
    assert float((y - x).abs().mean()) > 0.01
    torch.testing.assert_close(T.rotate_hue(x, 0.0), x, atol=1e-6, rtol=0)
    im = Image.fromarray((x.permute(1, 2, 0).numpy() * 255).astype("uint8"))
    plain = T.CropPool([im], resize=16, crop=16).sample(1, random.Random(0))
    rotated = T.CropPool([im], resize=16, crop=16, hue=1.0).sample(1, random.Random(0))
    assert not torch.allclose(plain, rotated)


def test_revive_dead_channels_keeps_the_output():
    dec = T.new_decoder(0, 4, 0.0625)
    first = dec.stages[0][0].conv
    with torch.no_grad():
        first.bias[:5] = -1e6  # five dead channels
    f = torch.rand(2, 512, 4, 4)
    with torch.no_grad():
        before = dec(f)
        report = T.revive_dead_channels(dec, f)
        after = dec(f)
    assert report[0][1] >= 5
    torch.testing.assert_close(after, before)
    with torch.no_grad():
        assert float(first(torch.nn.functional.pad(f, (1, 1, 1, 1), mode="reflect"))[:, :5].clamp_min(0).amax()) > 0


def test_calibrate_decoder_centres_every_channel_and_sets_the_image_range():
    dec = T.new_decoder(0, 4, 0.0625)
    # all-positive inputs with a large mean, as the Caffe-scale relu4_1 targets
    f = torch.rand(4, 512, 4, 4, generator=torch.Generator().manual_seed(1)) * 10.0 + 3.0
    with torch.no_grad():
        dead_before = T.dead_channels(dec, f)
        T.calibrate_decoder(dec, f, out_mean=0.45, out_std=0.25)
        out = dec(f)
    assert max(dead_before.values()) > 0.1  # zero biases: on this synthetic input some channels start dead
    assert all(v == 0.0 for v in T.dead_channels(dec, f).values())
    torch.testing.assert_close(out.mean((0, 2, 3)), torch.full((3,), 0.45), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std((0, 2, 3)), torch.full((3,), 0.25), atol=1e-4, rtol=0)


def test_first_lr_scale_slows_only_the_first_conv(tmp_path):
    from safetensors.torch import load_file

    states = []
    for steps in (1, 3):
        cfg = _cfg(tmp_path, out=str(tmp_path / f"run{steps}"), first_lr_scale=0.0, steps=steps, data_init=True,
                   save_every=1)
        T.train(cfg, print_fn=lambda *a, **k: None)
        states.append(load_file(str(Path(cfg.out) / "decoder.safetensors")))
    first = "stages.0.conv4_1.conv.weight"
    torch.testing.assert_close(states[0][first], states[1][first], atol=0, rtol=0)  # lr 0 there
    assert not torch.equal(states[0]["stages.1.conv3_4.conv.weight"], states[1]["stages.1.conv3_4.conv.weight"])
    log = (tmp_path / "run3" / "dead_channels.jsonl").read_text().splitlines()
    assert len(log) == 3 and set(json.loads(log[-1])["dead"]) >= {"stages.0.conv4_1.conv"}


def test_a_run_starts_from_an_exported_model_file(tmp_path):
    """Resuming across sessions: --init-decoder takes the published model.safetensors (decoder.*)."""
    from safetensors.torch import load_file

    first = _cfg(tmp_path, out=str(tmp_path / "a"), steps=1)
    T.train(first, print_fn=lambda *a, **k: None)
    exported = T.export_hub_folder(Path(first.out), tmp_path / "hub")
    assert any(k.startswith("encoder.") for k in load_file(str(exported / "model.safetensors")))
    second = _cfg(tmp_path, out=str(tmp_path / "b"), steps=0, init_decoder=str(exported / "model.safetensors"))
    T.train(second, print_fn=lambda *a, **k: None)
    a, b = load_file(str(tmp_path / "a" / "decoder.safetensors")), load_file(str(tmp_path / "b" / "decoder.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_judges_wallpapers_stay_out_of_training_even_when_a_manifest_lists_them(tmp_path):
    from types import SimpleNamespace

    from zoo_adain.data import HELD_OUT_CONTENT, content_sources
    from zoo_adain.evaluate import WALLPAPER_HELD_OUT

    assert set(WALLPAPER_HELD_OUT) <= set(HELD_OUT_CONTENT)
    manifest = tmp_path / "photos.tsv"
    manifest.write_text("# name<TAB>path\nplasma:EveningGlow\ta.jpg\nmate:Storm\tb.jpg\nmate:Dune\tc.jpg\n")
    cfg = SimpleNamespace(content_dir=None, content_dirs=(), recursive=False, content_lists=(str(manifest),),
                          held_out_content=())
    assert [n for n, _ in content_sources(cfg)] == ["mate:Dune"]
