"""Finding weights through the real huggingface_hub client against a real olah server,
the cache, mirrors, sha256 checks and the typed errors."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
from tinyplugin import install_model_module, make_repo, plugin_source

import zoo
from zoo import hub
from zoo.plugins import reset_host


@pytest.fixture
def tiny(tmp_path, fake_plugins, olah):
    """A tiny model published on olah, registered by a fake plugin."""
    repo = make_repo(tmp_path / "src", repo_id=f"zoo-tests/tiny-{tmp_path.name[-12:].lower().strip('_')}")
    sha = olah.publish(repo.folder, repo.repo_id)
    assert sha == repo.revision  # publishing is deterministic
    site = fake_plugins({"tiny": plugin_source(repo)})
    install_model_module(site)
    return repo


def cached_copy(repo) -> Path | None:
    return hub.from_cache(repo.repo_id, "model.safetensors", repo.revision)


def test_load_downloads_through_the_hub_then_uses_the_cache(tiny, use_olah, monkeypatch):
    model = zoo.load("tiny.test")
    assert not model.training
    assert model.net.weight.device.type == "cpu" and not model.net.weight.is_meta
    path = cached_copy(tiny)
    assert path is not None and hub.sha256_file(path) == tiny.sha256
    # now the server is gone: the cache answers
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    reset_host()
    found = hub.find_file(tiny.repo_id, "model.safetensors", tiny.revision, sha256=tiny.sha256)
    assert found.source == "cache"


def test_weights_are_exactly_the_published_tensors(tiny, use_olah):
    import torch
    from safetensors.torch import load_file

    model = zoo.load("tiny.test")
    ref = load_file(str(tiny.folder / "model.safetensors"))
    for k, v in model.state_dict().items():
        assert torch.equal(v, ref[k])


def test_device_and_dtype_are_honoured(tiny, use_olah):
    import torch

    model = zoo.load("tiny.test", dtype=torch.bfloat16, device="cpu")
    assert model.net.weight.dtype == torch.bfloat16


def test_offline_uses_the_cache(tiny, use_olah, monkeypatch):
    zoo.load("tiny.test")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    reset_host()
    assert zoo.load("tiny.test") is not None


def test_offline_and_not_cached_says_what_to_do(tiny, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", "")
    with pytest.raises(zoo.OfflineNotCachedError, match="zoo download"):
        zoo.load("tiny.test")


def test_not_on_hub(tiny, use_olah, fake_plugins):
    # a registration that points at a repo the server does not have
    from dataclasses import replace

    missing = replace(tiny, repo_id="zoo-tests/does-not-exist")
    site = fake_plugins({"tiny": plugin_source(missing)})
    install_model_module(site)
    with pytest.raises(zoo.NotOnHubError, match="does-not-exist"):
        zoo.load("tiny.test")


class CountingServer:
    """A loopback server that counts connections and answers each with HTTP 500 (or drops it)."""

    def __init__(self, mode: str = "500"):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.mode = mode
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    if self.mode == "500":
                        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self.sock.close()


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_failing_hub_is_asked_once_not_stormed(tiny, monkeypatch, mode):
    server = CountingServer(mode)
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.port}")
        monkeypatch.setenv("ZOO_MIRRORS", "")
        with pytest.raises(zoo.HubUnreachableError) as e:
            zoo.load("tiny.test")
        assert server.connections <= 2, f"{server.connections} connections: a retry storm"
        if mode == "500":
            assert "HTTP 500" in str(e.value)
    finally:
        server.close()


def test_unreachable_hub_falls_back_to_a_mirror(tiny, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny.folder, mirror / tiny.repo_id)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    model = zoo.load("tiny.test")
    assert model is not None
    found = hub.find_file(tiny.repo_id, "model.safetensors", tiny.revision, sha256=tiny.sha256)
    assert found.source == "mirror"


def test_unreachable_hub_without_mirror(tiny, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("ZOO_MIRRORS", "")
    with pytest.raises(zoo.HubUnreachableError, match="HF_HUB_OFFLINE"):
        zoo.load("tiny.test")


@pytest.mark.parametrize("damage", ["truncate", "flip", "replace"])
def test_bad_cached_file_is_never_used_and_redownloaded(tiny, use_olah, damage):
    zoo.load("tiny.test")
    path = cached_copy(tiny)
    blob = path.resolve()
    data = blob.read_bytes()
    os.chmod(blob, 0o644)
    if damage == "truncate":
        blob.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        blob.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    else:
        blob.write_bytes(b"not safetensors at all")
    hub.forget()
    with pytest.raises(zoo.HashMismatchError, match="was removed from the cache") as e:
        zoo.load("tiny.test")
    assert e.value.removed
    assert cached_copy(tiny) is None
    # the retry downloads a fresh, good copy
    zoo.load("tiny.test")
    assert hub.sha256_file(cached_copy(tiny)) == tiny.sha256


def test_tampered_mirror_file_is_refused_and_kept(tiny, monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny.folder, mirror / tiny.repo_id)
    target = mirror / tiny.repo_id / "model.safetensors"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(mirror))
    with pytest.raises(zoo.HashMismatchError, match="was not used"):
        zoo.load("tiny.test")
    assert target.read_bytes() == bytes(data)  # the zoo deletes nothing outside its cache


def test_missing_and_unexpected_keys_are_errors(tmp_path, fake_plugins, monkeypatch):
    # weights for width 4 registered with a config of width 5: shapes differ
    repo = make_repo(tmp_path / "src", width=4)
    site = fake_plugins({"tiny": plugin_source(repo, width=5)})
    install_model_module(site)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "src"))
    with pytest.raises(zoo.StateDictError, match="shape"):
        zoo.load("tiny.test")
    # and a file with an extra tensor
    import torch
    from safetensors.torch import load_file, save_file

    from zoo.loading import load_state

    state = load_file(str(repo.folder / "model.safetensors"))
    state["extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.safetensors"
    save_file(state, str(bad))
    with torch.device("meta"):
        model = zoo.build("tiny")
    with pytest.raises(zoo.StateDictError, match="unexpected keys \\['extra.weight'\\]"):
        load_state(model, str(bad), name="tiny.test")


def test_an_unpinned_revision_is_not_hash_checked_but_pinned_one_is(tiny, use_olah):
    found = hub.find_file(tiny.repo_id, "README.md", "main")
    assert found.source == "hub"
    with pytest.raises(zoo.HashMismatchError):
        hub.find_file(tiny.repo_id, "README.md", tiny.revision, sha256="0" * 64)


def test_concurrent_loads_into_an_empty_cache(tiny, use_olah, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import zoo; m = zoo.load('tiny.test'); print('ok')"
    )
    site = str(next(Path(p) for p in sys.path if p.endswith("fake-site")))
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "shared-cache"), "PYTHONPATH": site}
    procs = [subprocess.Popen([sys.executable, "-c", code, site], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert out.strip().endswith("ok")
    blobs = list((tmp_path / "shared-cache").glob("models--*/blobs/*"))
    weights_blobs = [b for b in blobs if b.stat().st_size == tiny.size]
    assert len(weights_blobs) == 1


def test_loading_pays_no_random_initialisation(monkeypatch):
    """Builders run under skip_init: their torch.nn.init calls are no-ops while loading, restored after."""
    import torch

    calls = []

    def counting_normal_(tensor, *args, **kwargs):
        calls.append(tuple(tensor.shape))
        return tensor

    monkeypatch.setattr(torch.nn.init, "normal_", counting_normal_)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    zoo.load("dcgan.mnist")  # DCGAN's builder initialises with nn.init.normal_
    assert calls == []
    assert torch.nn.init.normal_ is counting_normal_  # restored
    zoo.build("dcgan", image_size=32, nc=1)  # an untrained build does initialise
    assert calls
