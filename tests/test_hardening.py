"""Hardening (issue 11): the zoo probed as an attacker and a careless user would.

One section per category: files outside the cache, hostile plugins, bombs,
configs that allocate, publishing what cannot load, settings and names,
misleading messages, trust labels, NaN/inf weights.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import threading
import time
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CARDS
from fakehub import FakeHub
from tinyplugin import TinyRepo, install_model_module, make_repo, plugin_source

import zoo
from zoo import errors, hub
from zoo.cli import cli


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def tiny(tmp_path, fake_plugins):
    """The tiny model in a folder mirror, registered by a fake plugin; offline."""
    repo = make_repo(tmp_path / "src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    return repo


@pytest.fixture
def offline_tiny(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    return tiny


@pytest.fixture
def no_sleep(monkeypatch):
    import huggingface_hub.file_download as fd

    monkeypatch.setattr(fd, "time", types.SimpleNamespace(sleep=lambda s: None, time=time.time,
                                                          monotonic=time.monotonic, perf_counter=time.perf_counter))


def _repo_with(tmp_path: Path, state: dict, *, name: str = "src2") -> TinyRepo:
    """A tiny Hub-repo folder whose model.safetensors holds ``state``, pinned to it."""
    from safetensors.torch import save_file

    from zoo.publish import folder_revision

    good = make_repo(tmp_path / name)
    target = good.folder / "model.safetensors"
    save_file(state, str(target))
    return TinyRepo(good.folder, good.repo_id, folder_revision(good.folder), hub.sha256_file(target),
                    target.stat().st_size)


def _tiny_state(**overrides):
    import torch

    torch.manual_seed(0)
    state = {"net.weight": torch.randn(4, 3), "net.bias": torch.randn(4), "scale": torch.ones(4)}
    state.update(overrides)
    return state


# -- 1. a file outside the cache is never deleted ----------------------------------------------


def _cache_entry(repo: TinyRepo, target: Path) -> Path:
    """Make the cache's snapshot entry of the tiny repo a link to ``target``."""
    from huggingface_hub import constants

    snap = Path(constants.HF_HUB_CACHE) / "models--zoo-tests--tiny-test" / "snapshots" / repo.revision
    snap.mkdir(parents=True)
    entry = snap / "model.safetensors"
    entry.symlink_to(target)
    return entry


def _other_blob(tmp_path: Path) -> Path:
    from huggingface_hub import constants

    blobs = Path(constants.HF_HUB_CACHE) / "models--other--repo" / "blobs"
    blobs.mkdir(parents=True)
    blob = blobs / ("ab" * 32)
    blob.write_bytes(b"another repo's blob")
    return blob


@pytest.mark.parametrize("where", ["user-file", "other-repo-blob"])
def test_a_bad_cache_entry_linked_outside_its_blobs_is_not_deleted(offline_tiny, tmp_path, where):
    target = tmp_path / "precious.txt" if where == "user-file" else _other_blob(tmp_path)
    if where == "user-file":
        target.write_text("the user's own file")
    before = target.read_bytes()
    entry = _cache_entry(offline_tiny, target)
    with pytest.raises(zoo.HashMismatchError) as e:
        zoo.load("tiny.test")
    assert not e.value.removed and "Replace or delete" in str(e.value)
    assert target.read_bytes() == before  # untouched
    assert entry.is_symlink()  # reported and left alone

    r = run("verify", "tiny.test", "--delete-bad", ok=False)
    assert r.exit_code == 1 and "not removed" in r.output, r.output
    assert target.read_bytes() == before


def test_a_bad_blob_inside_the_cache_is_still_removed(offline_tiny, tmp_path):
    from huggingface_hub import constants

    blobs = Path(constants.HF_HUB_CACHE) / "models--zoo-tests--tiny-test" / "blobs"
    blobs.mkdir(parents=True)
    blob = blobs / ("cd" * 32)
    blob.write_bytes(b"damaged")
    entry = _cache_entry(offline_tiny, Path("../../blobs") / blob.name)
    with pytest.raises(zoo.HashMismatchError) as e:
        zoo.load("tiny.test")
    assert e.value.removed and not blob.exists() and not entry.is_symlink()


def test_a_bad_file_stored_in_a_cache_without_symlinks_is_removed(offline_tiny):
    from huggingface_hub import constants

    snap = Path(constants.HF_HUB_CACHE) / "models--zoo-tests--tiny-test" / "snapshots" / offline_tiny.revision
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"damaged")
    with pytest.raises(zoo.HashMismatchError) as e:
        zoo.load("tiny.test")
    assert e.value.removed and not (snap / "model.safetensors").exists()


def test_a_snapshot_folder_linked_outside_the_cache_is_left_alone(offline_tiny, tmp_path):
    from huggingface_hub import constants

    outside = tmp_path / "user-folder"
    outside.mkdir()
    (outside / "model.safetensors").write_bytes(b"the user's file")
    snaps = Path(constants.HF_HUB_CACHE) / "models--zoo-tests--tiny-test" / "snapshots"
    snaps.mkdir(parents=True)
    (snaps / offline_tiny.revision).symlink_to(outside, target_is_directory=True)
    with pytest.raises(zoo.HashMismatchError) as e:
        zoo.load("tiny.test")
    assert not e.value.removed and (outside / "model.safetensors").read_bytes() == b"the user's file"


# -- 2. hostile plugins --------------------------------------------------------------------------

_GOOD = """
import zoo

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="{name}", builder="x.y:z", default_tag="t", schema={{}},
                              paper="p", reference_code="r"))
"""


@pytest.mark.parametrize("where", ["import", "hook"])
@pytest.mark.parametrize("exc", ["SystemExit(0)", "SystemExit(3)", "GeneratorExit()",
                                 "type('Custom', (BaseException,), {})('boom')"])
def test_a_plugin_raising_a_base_exception_is_broken_not_fatal(fake_plugins, where, exc):
    if where == "import":
        src = f"raise {exc}\n"
    else:
        src = f"""
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            raise {exc}
        """
    fake_plugins({"hostile": src, "fine": _GOOD.format(name="fine")})
    names = zoo.list_models()
    assert "dcgan" in names and "fine" in names
    status = {p.name: p for p in zoo.list_plugins()}["hostile"]
    assert status.state == "broken" and "a plugin may not raise" in status.error
    r = run("list")
    assert "dcgan" in r.output
    r = run("plugins")
    assert "BROKEN" in r.output


def test_ctrl_c_in_a_plugin_still_interrupts(fake_plugins):
    fake_plugins({"hostile": "raise KeyboardInterrupt\n"})
    with pytest.raises(KeyboardInterrupt):
        zoo.list_models()


def test_a_builder_raising_system_exit_is_a_plugin_error(fake_plugins, tmp_path):
    site = fake_plugins({"exits": """
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name="exits", builder="fakeplug_exits_model:build", default_tag="t",
                                      schema={}, paper="p", reference_code="r"))
        """})
    (site / "fakeplug_exits_model.py").write_text("import sys\ndef build():\n    sys.exit(0)\n")
    with pytest.raises(zoo.PluginError, match="SystemExit"):
        zoo.build("exits")


@pytest.mark.parametrize("when", ["import", "hook"])
def test_a_plugin_calling_back_into_the_api_gets_an_error_not_a_deadlock(fake_plugins, when):
    call = "zoo.list_models()"
    src = f"import zoo\n{call}\n" if when == "import" else f"""
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            {call}
        """
    fake_plugins({"reentrant": src})
    result: dict = {}

    def target():
        try:
            result["names"] = zoo.list_models()
        except BaseException as e:  # noqa: BLE001 - reported below
            result["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(120)  # a guard against a hung test run, not a timing assertion
    assert not t.is_alive(), "zoo.list_models() deadlocked on a re-entrant plugin"
    assert "error" not in result, result.get("error")
    assert "dcgan" in result["names"]
    status = {p.name: p for p in zoo.list_plugins()}["reentrant"]
    assert status.state == "broken" and "while the zoo was loading plugins" in status.error


def test_a_builder_that_loads_another_model_does_not_deadlock(fake_plugins, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    site = fake_plugins({"nested": """
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name="nested", builder="fakeplug_nested_model:build", default_tag="t",
                                      schema={}, paper="p", reference_code="r"))
        """})
    (site / "fakeplug_nested_model.py").write_text(
        "import zoo\ndef build():\n    return zoo.load('dcgan.mnist')\n")
    from zoo.loading import build_for_loading

    record = zoo.model_info("nested").architecture
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(m=build_for_loading(record, {})), daemon=True)
    t.start()
    t.join(120)
    assert not t.is_alive(), "a nested load deadlocked on the init lock"
    assert not result["m"].main[0].weight.is_meta


def test_a_subclassed_record_is_refused(fake_plugins):
    fake_plugins({"sneaky": """
        import zoo

        class Arch(zoo.Architecture):
            pass

        @zoo.hookimpl
        def register_architectures(register):
            register(Arch(name="sneaky", builder="x.y:z", default_tag="t", schema={}, paper="p",
                          reference_code="r"))
        """})
    status = {p.name: p for p in zoo.list_plugins()}["sneaky"]
    assert status.state == "broken" and "register() takes zoo.Architecture" in status.error


# -- 3. bombs --------------------------------------------------------------------------------------

_LAUGHS = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
)


def _card(front: str, body: str = "# x\n") -> str:
    return f"---\n{front}\n---\n{body}"


def test_a_yaml_alias_bomb_in_a_card_is_refused_before_it_expands():
    from zoo.cards import check_card, parse_card

    with pytest.raises(errors.LimitExceededError, match=r"yaml_nodes.*ZOO_MAX_YAML_NODES"):
        parse_card(_card(_LAUGHS))
    with pytest.raises(errors.LimitExceededError):
        check_card(_card(_LAUGHS))
    # a few aliases are fine
    assert parse_card(_card("a: &a [1, 2]\nb: *a\nlicense: mit")).metadata["b"] == [1, 2]


def test_a_recursive_yaml_alias_is_a_card_error():
    from zoo.cards import parse_card

    with pytest.raises(zoo.CardError, match="refers to itself"):
        parse_card(_card("a: &a [1, *a]"))


@pytest.mark.parametrize("front", ["a: " + "[" * 5000 + "]" * 5000, "a: " + "{b: " * 3000 + "1" + "}" * 3000,
                                   "a: " + "[" * 100 + "]" * 100])
def test_deeply_nested_yaml_is_a_limit_error_not_a_recursion_error(front):
    from zoo.cards import parse_card

    with pytest.raises(errors.LimitExceededError, match="nesting"):
        parse_card(_card(front))


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, '{"a": ' * 100 + "1" + "}" * 100])
def test_deeply_nested_config_json_is_a_limit_error(tmp_path, text):
    from zoo.repofolder import read_folder_config

    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(errors.LimitExceededError, match="ZOO_MAX_NESTING"):
        read_folder_config(path)


def test_deeply_nested_toml_is_a_config_error(tmp_path, monkeypatch):
    from zoo.config import load_settings

    path = tmp_path / "zoo.toml"
    path.write_text("[hub]\nendpoint = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(zoo.ConfigError):
        load_settings({"ZOO_CONFIG": str(path)})


def test_a_huge_card_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    from zoo.cards import read_card_file

    sparse = tmp_path / "README.md"
    with open(sparse, "wb") as f:
        f.write(b"---\nlicense: mit\n---\n")
        f.truncate(8 << 30)  # 8 GB, sparse: costs no disk
    reads: list[int] = []
    real_open = open

    class Counting:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            reads.append(n)
            return self.f.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    import builtins

    monkeypatch.setattr(builtins, "open", lambda p, *a, **k: Counting(real_open(p, *a, **k))
                        if str(p) == str(sparse) else real_open(p, *a, **k))
    with pytest.raises(errors.LimitExceededError, match=r"card_bytes.*ZOO_MAX_CARD_BYTES"):
        read_card_file(sparse)
    assert reads and all(0 < n <= (1 << 20) + 1 for n in reads)


def test_the_card_limit_can_be_raised(tmp_path, monkeypatch):
    from zoo.cards import parse_card

    text = _card("license: mit", "# x\n" + "words " * 300)
    monkeypatch.setenv("ZOO_MAX_CARD_BYTES", "1000")
    with pytest.raises(errors.LimitExceededError):
        parse_card(text)
    monkeypatch.setenv("ZOO_MAX_CARD_BYTES", "100000")
    assert parse_card(text).metadata["license"] == "mit"


def test_a_decompression_bomb_image_is_refused_from_its_header(tmp_path, monkeypatch):
    from PIL import Image

    from zoo.images import load_image, open_image

    path = tmp_path / "bomb.png"
    Image.new("L", (400, 300)).save(path)
    monkeypatch.setenv("ZOO_MAX_IMAGE_PIXELS", str(400 * 300 - 1))
    with pytest.raises(errors.LimitExceededError, match=r"400x300.*ZOO_MAX_IMAGE_PIXELS"):
        open_image(path)
    with pytest.raises(errors.LimitExceededError):
        load_image(str(path))
    monkeypatch.setenv("ZOO_MAX_IMAGE_PIXELS", str(400 * 300))
    assert open_image(path).size == (400, 300)


def test_the_default_image_limit_refuses_100_megapixels(tmp_path):
    from PIL import Image

    from zoo.images import open_image

    path = tmp_path / "bomb.png"
    Image.new("1", (10000, 10000)).save(path)  # a few KB on disk
    assert path.stat().st_size < 200_000
    with pytest.raises(errors.LimitExceededError, match="100,000,000 pixels"):
        open_image(path)


def test_zoo_sample_refuses_too_many_images_before_loading(monkeypatch, tmp_path):
    monkeypatch.setattr(zoo, "load", lambda *a, **k: pytest.fail("loaded a model for a refused request"))
    r = run("sample", "dcgan.mnist", "-n", "100000", "-o", tmp_path / "g.png", ok=False)
    assert r.exit_code == 1 and "ZOO_MAX_SAMPLES" in r.output and "1,024" in r.output, r.output
    assert not (tmp_path / "g.png").exists()


# -- 4. configs read from folders go through the schema, with bounds -------------------------------


def _classifier_folder(tmp_path: Path, config: object, raw: str | None = None) -> Path:
    folder = tmp_path / "clf"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    text = raw if raw is not None else json.dumps({"architecture": "classifier", "config": config})
    (folder / "config.json").write_text(text)
    return folder


def test_a_classifier_config_asking_for_a_huge_model_is_refused_before_allocating(tmp_path):
    from zoo.metrics.classifier import load_classifier

    folder = _classifier_folder(tmp_path, {"width": 4096})
    with pytest.raises(errors.LimitExceededError, match=r"tensor elements.*ZOO_MAX_PARAMETERS"):
        load_classifier(folder)


@pytest.mark.parametrize(("config", "raw", "message"), [
    ({"width": "wide"}, None, "must be int"),
    ({"width": -1}, None, ">= 1"),
    ({"depth": 3}, None, "no config key"),
    (None, "{not json", "invalid JSON"),
    (None, json.dumps({"architecture": "adain", "config": {}}), "expected 'classifier'"),
    (None, "[1, 2]", "JSON object"),
])
def test_a_bad_classifier_config_is_a_typed_error(tmp_path, config, raw, message):
    from zoo.metrics.classifier import load_classifier

    folder = _classifier_folder(tmp_path, config, raw)
    with pytest.raises(zoo.ZooError, match=message):
        load_classifier(folder)


def test_the_published_classifier_still_loads():
    from zoo.metrics.classifier import default_classifier_dir, load_classifier

    model = load_classifier(default_classifier_dir("mnist"))
    assert not model.training and model.width == 16


@pytest.mark.parametrize(("raw", "message"), [
    ("{not json", "invalid JSON"),
    ("[]", "JSON object"),
    (json.dumps({"architecture": "adain", "config": []}), '"config" must be a JSON object'),
    (json.dumps({"architecture": "adain", "config": {"depth": "x"}}), "must be int"),
    (json.dumps({"architecture": "adain", "config": {"decoder_width": float("nan")}}), "finite"),
    (json.dumps({"architecture": "adain", "config": {"decoder_width": 1e6}}), "must be <= 4.0"),
    (json.dumps({"architecture": "adain", "config": {}}), "ZOO_MAX_PARAMETERS"),  # under a 1,000 bound
    (json.dumps({"architecture": "no-such-arch", "config": {}}), "no-such-arch"),
])
def test_zoo_stylize_model_folder_with_a_bad_config_is_a_clean_error(tmp_path, monkeypatch, raw, message):
    monkeypatch.setenv("ZOO_MAX_PARAMETERS", "1000")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(raw)
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    photo = CARDS / "zoo" / "dcgan-mnist" / "README.md"  # never read: the model fails first
    r = CliRunner().invoke(cli, ["stylize", str(photo), str(photo), "--model", str(folder), "-o",
                                 str(tmp_path / "out.png")])
    assert r.exit_code == 1 and r.exception is not None and isinstance(r.exception, SystemExit), r.output
    assert "Error:" in r.output and message in r.output, r.output


# -- 5. zoo push loads the file as zoo.load would -------------------------------------------------


def _rewrite_header(path: Path, header: dict, data: bytes = b"") -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_push_refuses_tensors_without_data(tiny, tmp_path):
    from zoo.repofolder import check_repo_folder

    weights = tiny.folder / "model.safetensors"
    header = {k: {"dtype": "F32", "shape": list(v), "data_offsets": [0, 0]}
              for k, v in {"net.weight": (4, 3), "net.bias": (4,), "scale": (4,)}.items()}
    _rewrite_header(weights, header)
    with pytest.raises(zoo.WeightsError, match="needs 48 bytes, the file holds 0"):
        check_repo_folder(tiny.folder)
    mirror = tmp_path / "mirror"
    r = run("push", tiny.folder, "--repo", "my-org/tiny", "--mirror", mirror, ok=False)
    assert r.exit_code == 1 and "needs" in r.output and not mirror.exists()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_push_refuses_the_wrong_dtype(tiny, dtype):
    import torch
    from safetensors.torch import save_file

    from zoo.repofolder import check_repo_folder

    state = {k: v.to(getattr(torch, dtype)) for k, v in _tiny_state().items()}
    save_file(state, str(tiny.folder / "model.safetensors"))
    with pytest.raises(zoo.WeightsError, match="the model built from config.json has F32"):
        check_repo_folder(tiny.folder)


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_push_refuses_non_finite_weights(tiny, bad):
    from safetensors.torch import save_file

    from zoo.repofolder import check_repo_folder

    state = _tiny_state()
    state["net.bias"][2] = float(bad)
    save_file(state, str(tiny.folder / "model.safetensors"))
    with pytest.raises(errors.NonFiniteWeightsError, match="'net.bias' holds 1 NaN or infinite"):
        check_repo_folder(tiny.folder)


class _Evil:
    def __reduce__(self):
        return (os.system, ("true",))


@pytest.mark.parametrize("kind", ["protocol-0", "protocol-1", "protocol-0-named-json", "gzip", "zip"])
def test_push_refuses_a_disguised_pickle(tiny, kind):
    import gzip
    import zipfile

    from zoo.repofolder import check_repo_folder

    payload = {"w": _Evil()}
    if kind == "protocol-0":
        (tiny.folder / "extra.dat").write_bytes(pickle.dumps(payload, protocol=0))
    elif kind == "protocol-1":
        (tiny.folder / "weights.npy").write_bytes(pickle.dumps(payload, protocol=1))
    elif kind == "protocol-0-named-json":
        (tiny.folder / "extra.json").write_bytes(pickle.dumps([1, 2, "x"], protocol=0))
    elif kind == "gzip":
        (tiny.folder / "extra.gz").write_bytes(gzip.compress(pickle.dumps(payload, protocol=0)))
    else:
        with zipfile.ZipFile(tiny.folder / "extra.data", "w") as z:
            z.writestr("data.pkl", pickle.dumps(payload))
    with pytest.raises(zoo.WeightsError, match="is a pickle or could hold one"):
        check_repo_folder(tiny.folder)


def test_push_accepts_ordinary_text_files(tiny):
    from zoo.repofolder import check_repo_folder

    (tiny.folder / "NOTES.txt").write_text("Trained for 3 steps. See the card.\n")
    (tiny.folder / "extra.json").write_text('{"a": [1, 2, "x."]}')
    assert check_repo_folder(tiny.folder).architecture == "tiny"


# -- 6. settings and names are checked when read ------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf", "1e99"])
def test_a_timeout_that_cannot_work_is_refused(value):
    from zoo.config import load_settings

    with pytest.raises(zoo.ConfigError, match="ZOO_TIMEOUT must be a number of seconds above 0"):
        load_settings({"ZOO_TIMEOUT": value})


def test_a_zero_timeout_in_zoo_toml_names_file_and_line(tmp_path):
    from zoo.config import load_settings

    path = tmp_path / "zoo.toml"
    path.write_text("[hub]\n# a comment\ntimeout = 0\n")
    with pytest.raises(zoo.ConfigError, match=r"zoo.toml:3: \[hub\] timeout must be"):
        load_settings({"ZOO_CONFIG": str(path)})


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_a_bad_limit_is_refused(value, tmp_path):
    from zoo.config import load_settings

    with pytest.raises(zoo.ConfigError, match="ZOO_MAX_SAMPLES must be a positive integer"):
        load_settings({"ZOO_MAX_SAMPLES": value})


@pytest.mark.parametrize("what", ["file", "missing"])
def test_a_mirror_that_is_not_a_folder_is_said_not_skipped(offline_tiny, tmp_path, monkeypatch, what):
    mirror = tmp_path / ("mirror.txt" if what == "file" else "no-such-folder")
    if what == "file":
        mirror.write_text("not a folder")
    monkeypatch.setenv("ZOO_MIRRORS", os.pathsep.join([str(tmp_path / "src"), str(mirror)]))
    hub.forget()
    with pytest.raises(zoo.ConfigError, match=rf"{mirror.name} \(from ZOO_MIRRORS\) "
                       + ("is a file" if what == "file" else "does not exist")):
        zoo.load("tiny.test")


def test_an_allow_list_naming_nothing_installed_is_refused(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "dcgan,dcgna")
    with pytest.raises(zoo.ConfigError, match=r"names \['dcgna'\], which no installed plugin has"):
        zoo.list_models()


@pytest.mark.parametrize("name", ["a--b", "ab-", "ab_", "a" * 100])
def test_new_plugin_refuses_names_huggingface_hub_would_refuse(tmp_path, name):
    from zoo.scaffold import new_plugin

    with pytest.raises(zoo.ZooError):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("org", ["my--org", "org.", "-org"])
def test_new_plugin_refuses_bad_orgs(tmp_path, org):
    from zoo.scaffold import new_plugin

    with pytest.raises(zoo.ZooError, match="organisation"):
        new_plugin("pix", tmp_path, org=org)


@pytest.mark.parametrize("repo", ["a/b..", "a/b--c", "a/b.git", "a/-b", "a/b/c", "a/" + "b" * 97])
def test_push_refuses_repo_ids_huggingface_hub_would_refuse(tiny, repo, tmp_path):
    import huggingface_hub

    with pytest.raises(huggingface_hub.errors.HFValidationError):
        huggingface_hub.utils.validate_repo_id(repo)  # the zoo agrees with huggingface_hub
    r = run("push", tiny.folder, "--repo", repo, "--dry-run", ok=False)
    assert r.exit_code == 2 and "--repo" in r.output, r.output


@pytest.mark.parametrize("name", ["tiny", "tiny.a.b", "tiny.-x", "Tiny tag"])
def test_push_refuses_a_model_name_that_is_not_arch_tag(tiny, name):
    r = run("push", tiny.folder, "--repo", "my-org/tiny", "--name", name, "--dry-run", ok=False)
    assert r.exit_code == 2 and "--name" in r.output, r.output


@pytest.mark.parametrize("var", ["ZOO_ENDPOINT", "HF_ENDPOINT"])
@pytest.mark.parametrize("value", ["localhost:8090", "ftp://host", "http://", "hub.example.org"])
def test_an_endpoint_that_is_not_a_url_is_refused(var, value):
    from zoo.config import load_settings

    with pytest.raises(zoo.ConfigError, match=f"{var} must be an http:// or https:// URL"):
        load_settings({var: value})
    assert load_settings({var: "http://127.0.0.1:8090/"}).endpoint == "http://127.0.0.1:8090"


@pytest.mark.parametrize(("field", "value"), [
    ("filename", "../../evil.safetensors"), ("filename", "/etc/model.safetensors"),
    ("card", "../.."), ("card", "sub/../../x.md"), ("repo_id", "zoo-tests/../x"), ("repo_id", "a/b--c"),
])
def test_a_weights_record_with_a_path_outside_its_repo_is_refused(tmp_path, fake_plugins, field, value):
    repo = make_repo(tmp_path / "src")
    source = plugin_source(repo).replace('license="mit"', f'license="mit", {field}={value!r}')
    if field == "repo_id":
        source = plugin_source(repo).replace(f'repo_id="{repo.repo_id}"', f"repo_id={value!r}")
    site = fake_plugins({"tiny": source})
    install_model_module(site)
    status = {p.name: p for p in zoo.list_plugins()}["tiny"]
    assert status.state == "broken" and field in status.error
    r = run("verify")  # the other models are still checked
    assert "dcgan.mnist: mirror" in r.output


def test_verify_reports_one_models_trouble_and_checks_the_rest(monkeypatch):
    real = hub.from_cache

    def flaky(repo_id, filename, revision):
        if repo_id == "zoo/dcgan-mnist":
            raise ValueError("boom")
        return real(repo_id, filename, revision)

    monkeypatch.setattr(hub, "from_cache", flaky)
    r = run("verify", ok=False)
    assert r.exit_code == 1 and "dcgan.mnist: cannot check: boom" in r.output
    assert "gan.mnist: mirror" in r.output and "ok" in r.output


def test_a_nan_in_a_config_is_refused():
    arch = zoo.model_info("gan").architecture
    with pytest.raises(zoo.ConfigError, match="finite"):
        arch.validate_config({"bn_eps": float("nan")})


# -- 7. messages that do not mislead -----------------------------------------------------------


@pytest.fixture
def wrong_pin_hub(tmp_path, fake_plugins, monkeypatch, no_sleep):
    """The tiny repo on the loopback Hub, registered with a sha256 that is not its file's."""
    repo = make_repo(tmp_path / "src")
    wrong = TinyRepo(repo.folder, repo.repo_id, repo.revision, "0" * 64, repo.size)
    site = fake_plugins({"tiny": plugin_source(wrong)})
    install_model_module(site)
    with FakeHub() as server:
        server.add_folder(repo.repo_id, repo.folder, repo.revision)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        yield repo


def test_a_wrong_sha256_pin_is_reported_as_a_wrong_pin(wrong_pin_hub):
    for _ in range(2):  # the first call downloads, the second finds it in the cache: the same answer
        with pytest.raises(errors.PinMismatchError) as e:
            zoo.load("tiny.test")
        msg = str(e.value)
        assert "pin in the plugin's Weights record is wrong" in msg and "'tiny'" in msg
        assert "run the same call again" not in msg.lower() and "tampered" not in msg
        assert e.value.actual == wrong_pin_hub.sha256 and not e.value.removed
    assert hub.from_cache(wrong_pin_hub.repo_id, "model.safetensors", wrong_pin_hub.revision) is not None


def test_a_wrong_sha256_pin_through_olah_is_reported_as_a_wrong_pin(tmp_path, fake_plugins, use_olah):
    repo = make_repo(tmp_path / "src", repo_id=f"zoo-tests/pin-{tmp_path.name[-10:].lower().strip('_')}")
    use_olah.publish(repo.folder, repo.repo_id)
    wrong = TinyRepo(repo.folder, repo.repo_id, repo.revision, "0" * 64, repo.size)
    site = fake_plugins({"tiny": plugin_source(wrong)})
    install_model_module(site)
    with pytest.raises(errors.PinMismatchError, match="pin in the plugin's Weights record is wrong"):
        zoo.load("tiny.test")


def test_a_wrong_revision_pin_through_olah_is_not_an_http_500(tmp_path, fake_plugins, use_olah):
    repo = make_repo(tmp_path / "src", repo_id=f"zoo-tests/rev-{tmp_path.name[-10:].lower().strip('_')}")
    use_olah.publish(repo.folder, repo.repo_id)
    wrong = TinyRepo(repo.folder, repo.repo_id, "1" * 40, repo.sha256, repo.size)
    site = fake_plugins({"tiny": plugin_source(wrong)})
    install_model_module(site)
    with pytest.raises(zoo.NotOnHubError) as e:
        zoo.load("tiny.test")
    assert "has no revision '1111" in str(e.value) and "HTTP 500, " not in str(e.value)
    assert "try again later" not in str(e.value).lower()


def test_stale_partial_downloads_are_removed_and_live_ones_kept(tiny, monkeypatch, no_sleep):
    from filelock import FileLock
    from huggingface_hub import constants

    root = Path(constants.HF_HUB_CACHE)
    blobs = root / "models--zoo-tests--tiny-test" / "blobs"
    blobs.mkdir(parents=True)
    stale = blobs / f"{tiny.sha256}.1a2b3c4d.incomplete"  # left by a killed download of this file
    stale.write_bytes(b"\0" * 100)
    live_etag = "e" * 64
    live = blobs / f"{live_etag}.9f8e7d6c.incomplete"  # another process is writing this one
    live.write_bytes(b"\0" * 10)
    (root / ".locks" / "models--zoo-tests--tiny-test").mkdir(parents=True)
    lock = FileLock(str(root / ".locks" / "models--zoo-tests--tiny-test" / f"{live_etag}.lock"))
    with FakeHub() as server:
        server.add_folder(tiny.repo_id, tiny.folder, tiny.revision)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        with lock:
            holder = threading.Thread(target=lambda: zoo.load("tiny.test"))
            holder.start()
            holder.join()
        assert not stale.exists() and live.exists()
        # a failed download leaves nothing behind and does not claim to resume
        server.fault["model.safetensors"] = "partial"
        hub.forget()
        for p in blobs.glob(f"{tiny.sha256}*"):
            p.unlink()
        for p in (root / "models--zoo-tests--tiny-test" / "snapshots").rglob("*.safetensors"):
            p.unlink()
        with pytest.raises(zoo.HubUnreachableError) as e:
            zoo.load("tiny.test")
        assert "resumes" not in str(e.value) and "starts over" in str(e.value)
    assert not list(blobs.glob(f"{tiny.sha256}*.incomplete"))


def test_zoo_download_does_not_name_mirrors_it_never_searched(tiny, monkeypatch, tmp_path):
    mirror = tmp_path / "src"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    r = run("download", "tiny.test", ok=False)
    assert r.exit_code == 1 and str(mirror) not in r.output and "not searched" in r.output, r.output


@pytest.mark.parametrize("how", ["parent-is-a-file", "is-a-folder"])
def test_an_unwritable_output_is_refused_before_the_work(tmp_path, monkeypatch, how):
    monkeypatch.setattr(zoo, "load", lambda *a, **k: pytest.fail("sampled before checking the output"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "grid.png" if how == "parent-is-a-file" else tmp_path
    r = run("sample", "dcgan.mnist", "-o", out, ok=False)
    assert r.exit_code == 1 and "Error:" in r.output and ("cannot write" in r.output or "is a folder" in r.output)


def test_an_unwritable_stylize_output_is_refused_before_loading(tmp_path, monkeypatch):
    import zoo_adain.cli as cs

    monkeypatch.setattr(cs, "load_model", lambda *a, **k: pytest.fail("loaded a model before checking the output"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = run("stylize", "skimage:astronaut", "skimage:coffee", "-o", blocker / "out.png", ok=False)
    assert r.exit_code == 1 and "Error:" in r.output and "cannot write" in r.output, r.output


def test_new_plugin_into_a_file_is_refused(tmp_path):
    from zoo.scaffold import new_plugin

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(zoo.ZooError, match="is a file"):
        new_plugin("pix", blocker)


_ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \u202eevil\u202c \rhidden\x9b6n"


def test_terminal_escapes_in_a_card_never_reach_the_terminal(offline_tiny):
    card = offline_tiny.folder / "README.md"
    card.write_text(card.read_text().replace("A tiny linear generator", "A tiny " + _ESCAPES + " generator")
                    .replace("license: mit", "license: \"mit\\e[5m\""))
    from zoo.cards import render

    rendered = render(zoo.card("tiny.test"), color=True)  # what `zoo card` prints on a terminal
    rendered = rendered.replace("\x1b[1m", "").replace("\x1b[4m", "").replace("\x1b[0m", "")  # its own bold
    outputs = [rendered] + [run(*args).output for args in (["card", "tiny.test"], ["card", "tiny.test", "--raw"])]
    for out in outputs:
        assert not any(c in out for c in "\x1b\x07\x9b\u202e\u202c\r"), repr(out)
        assert "\\u202e" in out
    assert "\\x1b]0;pwned" in rendered and "license: mit\\x1b[5m" in rendered


def test_plugin_errors_are_shown_escaped(fake_plugins):
    fake_plugins({"noisy": "raise RuntimeError('\\x1b[2Jgone')\n"})
    out = run("plugins").output
    assert "\x1b" not in out and "\\x1b[2Jgone" in out


def test_zoo_info_shows_plugin_text_escaped(fake_plugins):
    fake_plugins({"loud": """
import zoo

@zoo.hookimpl
def register_architectures(register):
    register(zoo.Architecture(name="loud", builder="x.y:z", default_tag="t", schema={},
                              paper="p\\x1b]0;pwned\\x07", reference_code="r",
                              description="d\\x1b[2Jgone"))
"""})
    out = run("info", "loud").output
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2Jgone" in out and "\\x1b]0;pwned" in out


# -- 8. trust labels: built-in names are reserved; labels come from the distribution -------------


def test_a_plugin_cannot_take_a_builtin_name_even_when_it_sorts_first(fake_plugins):
    fake_plugins({"aaa": _GOOD.format(name="dcgan")})
    info = zoo.model_info("dcgan.mnist")
    assert info.architecture.plugin == "dcgan" and info.weights is not None
    statuses = {p.name: p for p in zoo.list_plugins()}
    assert statuses["dcgan"].state == "ok" and statuses["dcgan"].builtin
    assert statuses["aaa"].state == "broken" and "built-in names are reserved" in statuses["aaa"].error


def test_a_plugin_cannot_slip_records_into_a_builtin(fake_plugins, monkeypatch):
    import zoo_dcgan

    monkeypatch.setattr(zoo_dcgan, "register_weights", zoo_dcgan.register_weights)  # restored after the test
    fake_plugins({"aaa": """
        import zoo, zoo_dcgan

        def _patched(real):
            @zoo.hookimpl
            def register_weights(register):
                real(register)
                register(zoo.Weights(name="dcgan.evil", repo_id="evil/dcgan", revision="a" * 40,
                                     sha256="b" * 64, size=1, config={"nc": 1}, license="mit", dataset="none"))
            return register_weights

        # rewrite the built-in's hook, at import, before the built-in's hooks run
        zoo_dcgan.register_weights = _patched(zoo_dcgan.register_weights)
        """})
    names = zoo.list_models()
    assert "dcgan.evil" not in names or zoo.model_info("dcgan.evil").weights.plugin != "dcgan"


def test_a_distribution_calling_itself_zoo_models_is_not_the_zoo(fake_plugins):
    from zoo.catalog.records import source_label
    from zoo.plugins import get_host

    repo_src = """
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name="fake", builder="x.y:z", default_tag="x", schema={},
                                      paper="p", reference_code="r"))

        @zoo.hookimpl
        def register_weights(register):
            register(zoo.Weights(name="fake.x", repo_id="evil/fake", revision="a" * 40, sha256="b" * 64,
                                 size=1, config={}, license="mit", dataset="none", source="zoo"))
            register(zoo.Weights(name="fake.up", repo_id="evil/fake", revision="a" * 40, sha256="b" * 64,
                                 size=1, config={}, license="mit", dataset="none", source="upstream",
                                 verified=True))
        """
    fake_plugins({"fake": repo_src}, dist="zoo-models")
    host = get_host()
    status = host.plugins["fake"]
    assert not status.builtin and "not the zoo's own" in status.distribution
    assert source_label(host, host.registry.weights["fake.x"]) == "from plugin fake"
    assert host.registry.weights["fake.up"].verified is False
    assert source_label(host, host.registry.weights["fake.up"]) == "upstream, unverified"
    assert source_label(host, host.registry.weights["dcgan.mnist"]) == "trained here"
    r = run("list", "fake*")
    assert "trained here" not in r.output


def test_the_trust_rules_are_documented():
    text = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text()
    assert "## Trust rules" in text and "reserved" in text and "distribution" in text


# -- 9. NaN or infinite weights are flagged at load -----------------------------------------------


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_weights_are_a_typed_error_at_load(tmp_path, fake_plugins, monkeypatch, bad):
    state = _tiny_state()
    state["net.weight"][1, 2] = float(bad)
    repo = _repo_with(tmp_path, state, name="src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    with pytest.raises(errors.NonFiniteWeightsError, match="'net.weight' holds 1 NaN or infinite value"):
        zoo.load("tiny.test")
    with pytest.raises(zoo.StateDictError):  # a subclass: existing handlers keep working
        zoo.load("tiny.test")


def test_large_finite_weights_whose_sum_overflows_still_load(tmp_path, fake_plugins, monkeypatch):
    import torch

    state = _tiny_state(scale=torch.full((4,), 3e38))
    repo = _repo_with(tmp_path, state, name="src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    assert zoo.load("tiny.test").scale[0].item() == pytest.approx(3e38)


def test_a_float16_file_for_a_float32_model_is_refused_at_load(tmp_path, fake_plugins, monkeypatch):
    import torch

    state = {k: v.half() for k, v in _tiny_state().items()}
    repo = _repo_with(tmp_path, state, name="src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    with pytest.raises(zoo.StateDictError, match="is float16, the model expects float32"):
        zoo.load("tiny.test")
    assert torch.float32  # the model's dtype is chosen with zoo.load(dtype=...), not by the file
