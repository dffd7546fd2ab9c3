"""Faults the Hub-path tests (test_hub.py) do not cover: the Hub going down in the
middle of a download, the Hub answering the wrong bytes, and pickled code in a
download (never run: safetensors only; pickles only through converters with
torch.load(weights_only=True)).

A tampered or truncated cache or mirror file, HTTP 500, dropped connections and
two processes sharing an empty cache are in test_hub.py; malformed cards and
zoo.toml (file and line) in test_cards.py and test_registry.py.
"""

from __future__ import annotations

import ast
import pickle
import time
import types
from pathlib import Path

import pytest
from conftest import ROOT
from fakehub import FakeHub
from tinyplugin import TinyRepo, install_model_module, make_repo, plugin_source

import zoo
from zoo import hub


@pytest.fixture
def tiny(tmp_path, fake_plugins):
    repo = make_repo(tmp_path / "src")
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    return repo


@pytest.fixture
def fake_hub(tiny, monkeypatch):
    """The tiny repo on a loopback Hub that can fail on purpose; the zoo pointed at it only."""
    import huggingface_hub.file_download as fd

    # huggingface_hub sleeps 1 s before each of its resume attempts; not in tests
    monkeypatch.setattr(fd, "time", types.SimpleNamespace(sleep=lambda s: None, time=time.time,
                                                          monotonic=time.monotonic, perf_counter=time.perf_counter))
    with FakeHub() as server:
        server.add_folder(tiny.repo_id, tiny.folder, tiny.revision)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        yield server


def cache_files(tmp_path: Path) -> list[Path]:
    """Every file the Hugging Face cache holds for the tiny repo (blobs, snapshots, partial downloads)."""
    root = tmp_path / "hf-cache"
    return sorted(p for p in root.glob("models--*/**/*") if p.is_file() or p.is_symlink())


# -- the Hub goes down mid-download ---------------------------------------------


def test_hub_down_mid_download_leaves_nothing_and_the_next_call_completes(tiny, fake_hub, tmp_path):
    fake_hub.fault["model.safetensors"] = "partial"
    with pytest.raises(Exception):  # noqa: B017 - which error is the next test's subject
        zoo.load("tiny.test")
    gets = [p for m, p in fake_hub.requests if m == "GET"]
    assert gets, "the download never started"
    assert fake_hub.down
    # the part that arrived is not in the cache, under any name, and nothing is served from it
    assert cache_files(tmp_path) == []
    assert hub.from_cache(tiny.repo_id, "model.safetensors", tiny.revision) is None
    # the Hub is back: the same call completes with the right file
    fake_hub.down = False
    fake_hub.fault.clear()
    model = zoo.load("tiny.test")
    assert not model.training
    cached = hub.from_cache(tiny.repo_id, "model.safetensors", tiny.revision)
    assert hub.sha256_file(cached) == tiny.sha256




def test_hub_down_mid_download_is_a_typed_error_that_says_retry(tiny, fake_hub):
    fake_hub.fault["model.safetensors"] = "partial"
    with pytest.raises(zoo.HubUnreachableError, match="again"):
        zoo.load("tiny.test")


def test_hub_down_mid_download_falls_back_to_a_mirror(tiny, fake_hub, monkeypatch, tmp_path):
    import shutil

    mirror = tmp_path / "mirror"
    shutil.copytree(tiny.folder, mirror / tiny.repo_id)
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    fake_hub.fault["model.safetensors"] = "partial"
    assert zoo.load("tiny.test") is not None
    assert hub.find_file(tiny.repo_id, "model.safetensors", tiny.revision, sha256=tiny.sha256).source == "mirror"


# -- the Hub answers the wrong file -----------------------------------------------


def test_hub_answering_a_wrong_file_is_refused_removed_and_redownloaded(tiny, fake_hub, tmp_path):
    fake_hub.fault["model.safetensors"] = "wrong"  # same length, other bytes
    with pytest.raises(zoo.HashMismatchError, match="was removed from the cache") as e:
        zoo.load("tiny.test")
    assert e.value.expected == tiny.sha256 and e.value.actual != tiny.sha256 and e.value.removed
    assert hub.from_cache(tiny.repo_id, "model.safetensors", tiny.revision) is None
    assert not [p for p in cache_files(tmp_path) if p.stat().st_size == tiny.size]  # the bad blob is gone
    fake_hub.fault.clear()
    zoo.load("tiny.test")
    assert hub.sha256_file(hub.from_cache(tiny.repo_id, "model.safetensors", tiny.revision)) == tiny.sha256


def test_hub_answering_a_wrong_file_is_an_error_even_with_a_mirror(tiny, fake_hub, monkeypatch, tmp_path):
    import shutil

    mirror = tmp_path / "mirror"
    shutil.copytree(tiny.folder, mirror / tiny.repo_id)
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    fake_hub.fault["model.safetensors"] = "wrong"
    # the wrong download is refused and removed; the zoo says so rather than switching sources silently
    with pytest.raises(zoo.HashMismatchError):
        zoo.load("tiny.test")
    assert hub.from_cache(tiny.repo_id, "model.safetensors", tiny.revision) is None


# -- nothing runs pickled code from a download ------------------------------------


class _Payload:
    """Unpickling this creates the marker file: proof that pickled code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickled_repo(tmp_path: Path, kind: str) -> tuple[TinyRepo, Path]:
    from zoo.hub import sha256_file
    from zoo.publish import folder_revision

    marker = tmp_path / "pickle-ran"
    good = make_repo(tmp_path / "src")
    target = good.folder / "model.safetensors"
    if kind == "pickle":
        target.write_bytes(pickle.dumps({"net.weight": _Payload(marker)}, protocol=4))
    else:  # what torch.save writes: a zip archive holding data.pkl
        import torch

        torch.save({"net.weight": _Payload(marker)}, target)
    repo = TinyRepo(good.folder, good.repo_id, folder_revision(good.folder), sha256_file(target),
                    target.stat().st_size)
    return repo, marker


@pytest.mark.parametrize("kind", ["pickle", "torch-save"])
def test_load_of_a_pickle_named_safetensors_runs_nothing(tmp_path, fake_plugins, monkeypatch, kind):
    repo, marker = _pickled_repo(tmp_path, kind)
    site = fake_plugins({"tiny": plugin_source(repo)})  # pinned to the pickle's own sha256
    install_model_module(site)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    with pytest.raises(zoo.StateDictError, match="not a readable safetensors file"):
        zoo.load("tiny.test")
    assert not marker.exists(), "the zoo unpickled a downloaded file"
    # the publishing check refuses the folder too, by content, without unpickling
    with pytest.raises(zoo.WeightsError, match="is a pickle"):
        from zoo.repofolder import check_repo_folder

        check_repo_folder(repo.folder)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["pickle", "torch-save"])
def test_the_converter_reads_a_malicious_checkpoint_without_running_it(tmp_path, kind):
    """The one door for pickles, zoo.convert, reads them with weights_only=True: the payload never runs."""
    import torch

    from zoo.convert import read_checkpoint

    marker = tmp_path / "pickle-ran"
    path = tmp_path / "upstream.pth"
    if kind == "pickle":
        path.write_bytes(pickle.dumps({"state_dict": {"w": _Payload(marker)}}, protocol=2))
    else:
        torch.save({"state_dict": {"w": _Payload(marker)}}, path)
    with pytest.raises(zoo.ConversionError, match="weights_only=True"):
        read_checkpoint(path)
    assert not marker.exists(), "the converter ran pickled code"
    # while a plain state dict saved by torch.save is read
    torch.save({"state_dict": {"w": torch.ones(2)}}, path)
    assert torch.equal(read_checkpoint(path)["w"], torch.ones(2))


@pytest.mark.parametrize("filename", ["pytorch_model.bin", "model.pth", "model.ckpt", "model.pt"])
def test_a_pickle_filename_is_refused_at_registration(tmp_path, fake_plugins, filename):
    repo = make_repo(tmp_path / "src")
    source = plugin_source(repo).replace('license="mit"', f'license="mit", filename="{filename}"')
    site = fake_plugins({"tiny": source})
    install_model_module(site)
    with pytest.raises(zoo.PluginError, match="only safetensors files are allowed.*zoo convert"):
        zoo.load("tiny.test")
    status = {p.name: p for p in zoo.list_plugins()}["tiny"]
    assert status.state == "broken"
    assert "dcgan" in zoo.list_models()  # the others keep working


def test_loading_calls_no_unpickler(tiny, monkeypatch, tmp_path):
    """zoo.load end to end with every unpickling entry point booby-trapped."""
    import torch

    def trap(*args, **kwargs):
        raise AssertionError("zoo.load called an unpickler")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tiny.folder.parent.parent))
    monkeypatch.setattr(pickle, "load", trap)
    monkeypatch.setattr(pickle, "loads", trap)
    monkeypatch.setattr(pickle, "Unpickler", trap)
    monkeypatch.setattr(torch, "load", trap)
    model = zoo.load("tiny.test")
    assert not model.net.weight.is_meta


# Unpickling that is allowed, file -> why. Everything else in zoo/, plugins/ and
# examples/ must be safetensors, or torch.load(..., weights_only=True).
# (CIFAR-10's python batches go through zoo.training.data's restricted unpickler, tested below.)
ALLOWED_UNPICKLING: dict[str, str] = {}
_SCANNED = ("zoo", "plugins", "examples")


def _python_files() -> list[Path]:
    out = []
    for top in _SCANNED:
        out.extend(p for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts and "build" not in p.parts)
    return sorted(out)


def _unsafe_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        dotted = ""
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            dotted = f"{f.value.id}.{f.attr}"
        elif isinstance(f, ast.Name):
            dotted = f.id
        kwargs = {k.arg: k.value for k in node.keywords}
        if dotted == "torch.load":
            wo = kwargs.get("weights_only")
            if not (isinstance(wo, ast.Constant) and wo.value is True):
                found.append((node.lineno, "torch.load without weights_only=True"))
        elif dotted in ("pickle.load", "pickle.loads", "pickle.Unpickler", "dill.load", "dill.loads",
                        "joblib.load", "cloudpickle.load", "cloudpickle.loads"):
            found.append((node.lineno, dotted))
        elif dotted in ("np.load", "numpy.load"):
            ap = kwargs.get("allow_pickle")
            if ap is not None and not (isinstance(ap, ast.Constant) and ap.value is False):
                found.append((node.lineno, f"{dotted} with allow_pickle"))
    return found


def test_every_torch_load_uses_weights_only_and_no_other_unpickling():
    files = _python_files()
    assert any(p.name == "convert.py" for p in files)
    problems, allowed_seen = [], set()
    torch_loads = 0
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=rel)
        torch_loads += sum(1 for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                           and n.func.attr == "load" and isinstance(n.func.value, ast.Name)
                           and n.func.value.id == "torch")
        # torch.load under another name (from torch import load; import torch as t) is not allowed either
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "torch" and any(a.name == "load" for a in node.names):
                problems.append(f"{rel}:{node.lineno}: 'from torch import load' hides torch.load from this check")
            if isinstance(node, ast.Import) and any(a.name == "torch" and a.asname not in (None, "torch")
                                                    for a in node.names):
                problems.append(f"{rel}:{node.lineno}: 'import torch as ...' hides torch.load from this check")
        for line, what in _unsafe_calls(tree):
            if rel in ALLOWED_UNPICKLING and not what.startswith("torch.load"):
                allowed_seen.add(rel)
                continue
            problems.append(f"{rel}:{line}: {what}")
    assert not problems, "unpickling outside the converters' weights_only path:\n" + "\n".join(problems)
    assert torch_loads >= 1  # the converters' torch.load(weights_only=True) was found and checked
    stale = set(ALLOWED_UNPICKLING) - allowed_seen
    assert not stale, f"ALLOWED_UNPICKLING names files that no longer unpickle: {sorted(stale)}; remove them"


def test_the_unsafe_call_scanner_catches_what_it_should():
    src = """
import torch, pickle
torch.load(p)
torch.load(p, weights_only=False)
torch.load(p, weights_only=flag)
torch.load(p, map_location="cpu", weights_only=True)
pickle.loads(b)
np.load(p, allow_pickle=True)
np.load(p)
"""
    found = _unsafe_calls(ast.parse(src))
    assert [line for line, _ in found] == [3, 4, 5, 7, 8]


# -- the publishing checks read untrusted bytes: fuzz them -------------------------


def test_fuzz_safetensors_header_reader_raises_only_weights_errors(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from zoo.repofolder import read_safetensors_header

    good = make_repo(tmp_path / "src").folder / "model.safetensors"
    data = good.read_bytes()
    target = tmp_path / "fuzz.safetensors"

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(
        st.binary(max_size=64),
        st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)).map(
            lambda t: data[: t[0]] + bytes([t[1]]) + data[t[0] + 1:]),
        st.integers(0, len(data)).map(lambda n: data[:n]),
    ))
    def check(blob: bytes) -> None:
        target.write_bytes(blob)
        try:
            tensors = read_safetensors_header(target)
        except zoo.WeightsError:
            return
        assert all(isinstance(t.shape, tuple) for t in tensors.values())

    check()


def test_fuzz_config_json_reader_raises_only_config_errors(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from zoo.repofolder import _read_config

    path = tmp_path / "config.json"
    json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                               lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                               max_leaves=8)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(st.text(max_size=80), json_values.map(__import__("json").dumps),
                     st.fixed_dictionaries({"architecture": st.text(max_size=8), "config": json_values})
                     .map(__import__("json").dumps)))
    def check(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        try:
            arch, config = _read_config(path)
        except zoo.ConfigError as e:
            assert str(path) in str(e)
            return
        assert isinstance(arch, str) and isinstance(config, dict)

    check()


@pytest.mark.parametrize("header", [
    b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": ["a", "b"]}}',
    b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}',
    b'{"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 4]}}',
    b'{"w": [1, 2]}',
    b'[' * 100000 + b']' * 100000,
    b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e999]}}',
])
def test_malformed_safetensors_headers_are_weights_errors(tmp_path, header):
    import struct

    from zoo.repofolder import read_safetensors_header

    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(zoo.WeightsError):
        read_safetensors_header(path)


def test_cifar_batches_are_unpickled_with_arrays_only(tmp_path):
    """CIFAR-10's python batches are pickles: the reader lets numpy arrays through, nothing else."""
    import io

    import numpy as np

    from zoo.training.data import _unpickle_batch

    good = {b"data": np.arange(6, dtype=np.uint8).reshape(2, 3), b"labels": [1, 2], b"batch_label": b"b"}
    assert _unpickle_batch(io.BytesIO(pickle.dumps(good, protocol=2)))[b"labels"] == [1, 2]
    marker = tmp_path / "pickle-ran"
    evil = {b"data": _Payload(marker), b"labels": []}
    with pytest.raises(zoo.DataError, match="refusing to unpickle"):
        _unpickle_batch(io.BytesIO(pickle.dumps(evil, protocol=2)))
    assert not marker.exists()
