"""Weights records that are derived on this machine (derive=) or that include another model's
tensors (includes=): validation, and the host's handling of a missing include."""

from __future__ import annotations

import pytest

import zoo
from zoo.errors import InvalidRecordError
from zoo.registry import Registry

BASE = dict(repo_id="org/x", revision="a" * 40, sha256="b" * 64, size=1, config={}, license="mit", dataset="d")


def test_derive_must_be_an_import_path():
    with pytest.raises(InvalidRecordError, match="derive"):
        zoo.Weights(name="a.b", derive="not a path", **BASE)
    assert zoo.Weights(name="a.b", derive="pkg.mod:fn", **BASE).derive == "pkg.mod:fn"


@pytest.mark.parametrize("includes", [{"Enc oder": "vgg.x"}, {"encoder": "noarchtag"}, {"encoder": 3}])
def test_includes_must_map_a_prefix_to_a_weights_name(includes):
    with pytest.raises(InvalidRecordError, match="includes"):
        zoo.Weights(name="a.b", includes=includes, **BASE)


def test_weights_including_an_unregistered_model_are_dropped_with_the_plugins_reason():
    reg = Registry()
    reg.add(zoo.Architecture(name="a", builder="m:f", schema={}, default_tag="b", paper="", reference_code=""), "p")
    reg.add(zoo.Weights(name="a.b", includes={"encoder": "vgg.missing"}, **BASE), "p")
    problems = reg.check_consistency()
    assert problems == [("p", "weights 'a.b' include ['vgg.missing'], which no plugin registered")]
    assert "a.b" not in reg.weights


def test_every_include_of_a_registered_model_is_registered_and_fits_its_prefix():
    for name in zoo.list_models(pretrained=True):
        w = zoo.model_info(name).weights
        for prefix, other in w.includes.items():
            assert zoo.model_info(other).weights is not None, f"{name} includes {other}, which has no weights"


def _decoder_folder(tmp_path, includes):
    """A folder as `zoo train adain` exports over the VGG16: config.json names the included encoder and
    model.safetensors holds the decoder only."""
    import json

    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    config = {"encoder": "vgg16", "decoder_width": 0.0625}
    model = zoo.build("adain", **config)
    folder = tmp_path / "adain-mine"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in model.state_dict().items() if k.startswith("decoder.")},
              str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"architecture": "adain", "config": config, "includes": includes}))
    encoder = tmp_path / "encoder.safetensors"
    save_file({k.removeprefix("encoder."): torch.randn(v.shape) * 0.01 for k, v in model.state_dict().items()
               if k.startswith("encoder.")}, str(encoder))
    return folder, encoder


def test_a_folder_loads_the_models_its_config_includes(tmp_path, monkeypatch):
    from safetensors.torch import load_file

    import zoo.loading

    folder, encoder = _decoder_folder(tmp_path, {"encoder": "vgg16.hed-bsds500"})
    asked = []
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: asked.append(w.name) or encoder)
    model = zoo.load(str(folder))
    assert asked == ["vgg16.hed-bsds500"]
    for k, v in load_file(str(encoder)).items():
        assert model.state_dict()[f"encoder.{k}"].equal(v)


@pytest.mark.parametrize("includes, error", [({"encoder": "vgg16.nowhere"}, "no plugin here registers"),
                                             ({"enc oder": "vgg16.hed-bsds500"}, "must map a prefix"),
                                             (["vgg16.hed-bsds500"], "must map a prefix")])
def test_a_folder_including_an_unknown_model_or_a_bad_prefix_is_refused(tmp_path, includes, error):
    from zoo.errors import ZooError

    folder, _ = _decoder_folder(tmp_path, includes)
    with pytest.raises(ZooError, match=error):
        zoo.load(str(folder))


def test_a_relu3_1_decoder_over_the_whole_vgg16_takes_the_part_it_uses(tmp_path, monkeypatch):
    """An AdaIN decoder at relu3_1 (depth 3) includes the VGG16 to relu4_1: the loader takes the first three
    stages and leaves the rest out; a tensor missing from the included file, or an extra one in the folder's
    own file, is still refused."""
    import json

    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    import zoo.loading
    from zoo.errors import StateDictError

    _, encoder = _decoder_folder(tmp_path, {"encoder": "vgg16.hed-bsds500"})  # the encoder to relu4_1
    config = {"encoder": "vgg16", "decoder_width": 0.0625, "depth": 3}
    model = zoo.build("adain", **config)
    folder = tmp_path / "adain-relu3"
    folder.mkdir()
    decoder = {k: v.contiguous() for k, v in model.state_dict().items() if k.startswith("decoder.")}
    save_file(decoder, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"architecture": "adain", "config": config,
                                                    "includes": {"encoder": "vgg16.hed-bsds500"}}))
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: encoder)
    loaded = zoo.load(str(folder))
    whole = load_file(str(encoder))
    kept = [k for k in loaded.state_dict() if k.startswith("encoder.")]
    assert kept and all(loaded.state_dict()[k].equal(whole[k.removeprefix("encoder.")]) for k in kept)
    assert len(kept) < len(whole)  # relu4_1's convs were left out

    short = tmp_path / "short.safetensors"
    save_file({k: v for k, v in whole.items() if "conv3_1" not in k}, str(short))
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: short)
    with pytest.raises(StateDictError, match="conv3_1"):
        zoo.load(str(folder))
    monkeypatch.setattr(zoo.loading, "weights_path", lambda w, revision=None: encoder)
    save_file({**decoder, "decoder.extra": torch.zeros(2)}, str(folder / "model.safetensors"))
    with pytest.raises(StateDictError, match="extra"):
        zoo.load(str(folder))
