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


def test_an_exported_model_is_read_by_its_decoder(tmp_path):
    """A card's model.safetensors and a run's kept decoder average together (a two-model soup): the model
    file's decoder.* tensors are read, its encoder left out; a missing file is refused with what to pass."""
    model = tmp_path / "model.safetensors"
    save_file({"decoder.w": torch.zeros(2, 3), "decoder.b": torch.full((3,), 4.0), "encoder.e": torch.ones(1)},
              str(model))
    kept = tmp_path / "decoder_step_0000250.safetensors"
    save_file({"w": torch.full((2, 3), 2.0), "b": torch.zeros(3)}, str(kept))
    assert set(A.decoder_tensors(model)) == {"w", "b"}
    mid = A.average_decoders([model, kept])
    assert torch.equal(mid["w"], torch.ones(2, 3)) and torch.equal(mid["b"], torch.full((3,), 2.0))
    A.main(["--into", str(model), str(model), str(kept)])
    after = load_file(str(model))
    assert torch.equal(after["decoder.w"], torch.ones(2, 3)) and torch.equal(after["encoder.e"], torch.ones(1))
    with pytest.raises(ConfigError, match="no such file"):
        A.average_decoders([model, tmp_path / "missing.safetensors"])


def test_every_kept_save_is_scored_by_its_own_step(tmp_path):
    """bench/bench_adain_eval.py --saves RUN: each kept decoder becomes a method of its own, labelled by the
    step in its file name, and the last one is the run's own decoder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_adain_eval", Path(__file__).resolve().parents[1] / "bench" / "bench_adain_eval.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cfg = T.TrainConfig(encoder="random", out=str(tmp_path / "run"), content_dir=None, style_dir=str(_styles(tmp_path)),
                        skimage_content=("camera",), resize=40, crop=32, batch_size=2, lr=1e-3, steps=4, bf16=False,
                        threads=1, log_every=1000, save_every=2, keep_saves=True)
    T.train(cfg, print_fn=lambda *a, **k: None)
    models, steps = bench.load_models([], [cfg.out], [cfg.out])
    assert list(models) == ["run", "run@2", "run@4"] and steps == {"run": 4, "run@2": 2, "run@4": 4}
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        out = {k: m.stylize(c, s, precision="fp32") for k, m in models.items()}
    assert torch.equal(out["run@4"], out["run"])  # the last save is the run's decoder
    assert not torch.equal(out["run@2"], out["run@4"])  # each save keeps its own weights

    assert A.kept_step(tmp_path / A.kept_name(1250)) == 1250
    with pytest.raises(ConfigError, match="not a kept decoder"):
        A.kept_step("decoder.safetensors")
    with pytest.raises(SystemExit, match="--keep-saves"):
        bench.load_models([], [], [str(tmp_path)])
