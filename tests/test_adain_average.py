"""Weight averaging of an AdaIN run's kept decoders (zoo_adain.average): a run keeps every save with
--keep-saves, the average is the mean of those files, and it goes into an exported model.safetensors with
every other tensor unchanged, deterministically; saves of other runs or models are refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from zoo.errors import ConfigError

pytest.importorskip("skimage")
T = pytest.importorskip("zoo_adain.train")
A = pytest.importorskip("zoo_adain.average")


def _styles(tmp_path: Path) -> Path:
    d = tmp_path / "styles"
    d.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(2):
        img = torch.rand(3, 48, 48, generator=g)
        Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype("uint8")).save(d / f"s{i}.png")
    return d


def test_a_run_keeps_every_save_and_their_mean_goes_into_the_export(tmp_path):
    cfg = T.TrainConfig(encoder="random", out=str(tmp_path / "run"), content_dir=None, style_dir=str(_styles(tmp_path)),
                        skimage_content=("camera",), resize=40, crop=32, batch_size=2, lr=1e-3, steps=4, bf16=False,
                        threads=1, log_every=1000, save_every=2, keep_saves=True)
    T.train(cfg, print_fn=lambda *a, **k: None)
    run = Path(cfg.out)
    saves = sorted((run / "saves").glob("decoder_step_*.safetensors"))
    assert [p.name for p in saves] == [A.kept_name(2), A.kept_name(4)]
    last, first = load_file(str(saves[1])), load_file(str(saves[0]))
    assert all(torch.equal(v, load_file(str(run / "decoder.safetensors"))[k]) for k, v in last.items())
    assert any(not torch.equal(first[k], last[k]) for k in first)  # two different decoders

    hub = T.export_hub_folder(run, tmp_path / "hub")
    model_file = hub / "model.safetensors"
    before = load_file(str(model_file))
    A.main(["--into", str(model_file), *map(str, saves)])
    after = load_file(str(model_file))
    assert after.keys() == before.keys()
    for k, v in after.items():
        if k.startswith("decoder."):
            name = k.removeprefix("decoder.")
            want = ((first[name].double() + last[name].double()) / 2).to(v.dtype)
            assert torch.equal(v, want), k
        else:
            assert torch.equal(v, before[k]), k  # the encoder is kept as it was
    data = model_file.read_bytes()
    A.write_into_model(model_file, A.average_decoders(saves))
    assert model_file.read_bytes() == data  # deterministic bytes: a pinned sha256 holds

    import zoo

    model = zoo.load(str(hub))  # the folder still loads as a model
    out = model.stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), precision="fp32")
    assert out.shape == (1, 3, 32, 32) and torch.isfinite(out).all()


def test_saves_of_other_runs_or_models_are_refused(tmp_path):
    a, b, c = tmp_path / "a.safetensors", tmp_path / "b.safetensors", tmp_path / "c.safetensors"
    save_file({"w": torch.zeros(2, 3), "b": torch.ones(3)}, str(a))
    save_file({"w": torch.ones(2, 3), "x": torch.ones(3)}, str(b))
    save_file({"w": torch.ones(3, 3), "b": torch.ones(3)}, str(c))
    with pytest.raises(ConfigError, match="no decoder files"):
        A.average_decoders([])
    with pytest.raises(ConfigError, match="one run only"):
        A.average_decoders([a, b])
    with pytest.raises(ConfigError, match=r"\(3, 3\)"):
        A.average_decoders([a, c])
    mean = A.average_decoders([a, a])
    assert torch.equal(mean["w"], torch.zeros(2, 3)) and torch.equal(mean["b"], torch.ones(3))

    model = tmp_path / "model.safetensors"
    save_file({"decoder.w": torch.zeros(2, 3), "encoder.e": torch.ones(1)}, str(model))
    with pytest.raises(ConfigError, match="other tensors"):
        A.write_into_model(model, mean)  # the model's decoder has no "b"
    with pytest.raises(ConfigError, match="no such model file"):
        A.write_into_model(tmp_path / "missing.safetensors", mean)
    assert load_file(str(model))["decoder.w"].shape == (2, 3)  # nothing written on a refusal
