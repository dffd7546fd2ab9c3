"""Shared fixtures: an isolated Hugging Face cache, a real olah server serving git
repos made from cards/ folders, fake plugin distributions, the data folder.

HF_HOME is set here, before anything imports huggingface_hub.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="zoo-tests-"))
os.environ["HF_HOME"] = str(_SESSION_TMP / "hf-home")
os.environ.pop("HF_ENDPOINT", None)
os.environ.pop("HF_HUB_OFFLINE", None)
for _k in [k for k in os.environ if k.startswith("ZOO_") and k != "ZOO_DATA_DIR"]:
    os.environ.pop(_k)
os.environ["ZOO_CONFIG"] = str(_SESSION_TMP / "empty-zoo.toml")
# FID features and statistics the tests compute stay in the session's folder, not the user's ~/.cache/zoo
os.environ["ZOO_FEATURE_CACHE"] = str(_SESSION_TMP / "features")
(_SESSION_TMP / "empty-zoo.toml").write_text("# tests: no user settings\n")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "cards"


def card_repos() -> list[tuple[str, Path]]:
    """(repo_id, folder) for every Hub-repo folder in cards/ (cards/<org>/<name>/README.md)."""
    out = []
    for readme in sorted(CARDS.glob("*/*/README.md")):
        folder = readme.parent
        out.append((f"{folder.parent.name}/{folder.name}", folder))
    return out


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test: its own HF cache, no endpoint/offline settings leaking, a fresh plugin host."""
    import huggingface_hub.constants as c

    from zoo import hub
    from zoo.plugins import reset_host

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    for k in ("HF_ENDPOINT", "HF_HUB_OFFLINE", "ZOO_ENDPOINT", "ZOO_MIRRORS", "ZOO_PLUGINS",
              "ZOO_DISABLE_PLUGINS", "ZOO_TIMEOUT"):
        monkeypatch.delenv(k, raising=False)
    hub.forget()
    reset_host()
    yield
    reset_host()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OlahServer:
    endpoint: str
    mirror: Path  # mirrors-path: <mirror>/models/<org>/<repo> git repos
    revisions: dict[str, str]  # repo_id -> commit sha of main
    process: subprocess.Popen

    def publish(self, folder: Path, repo_id: str) -> str:
        from zoo.publish import push_to_mirror

        sha = push_to_mirror(folder, repo_id, self.mirror).revision
        self.revisions[repo_id] = sha
        _seed_meta(self.repos, repo_id, sha)
        return sha

    @property
    def repos(self) -> Path:
        return self.mirror.parent / "repos"


def _seed_meta(repos: Path, repo_id: str, sha: str) -> None:
    meta = repos / "api" / "models" / repo_id / "revision" / "main"
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "meta_head.json").write_text(json.dumps({"sha": sha, "lastModified": "2026-01-01T00:00:00.000Z"}))


def start_olah(root: Path, repos: list[tuple[str, Path]]) -> OlahServer:
    from zoo.publish import push_to_mirror

    mirror = root / "mirror"
    (root / "repos").mkdir(parents=True, exist_ok=True)
    revisions = {}
    for repo_id, folder in repos:
        revisions[repo_id] = push_to_mirror(folder, repo_id, mirror).revision
        _seed_meta(root / "repos", repo_id, revisions[repo_id])
    mirror.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "olah.toml"
    conf.write_text(textwrap.dedent(f"""\
        [basic]
        host = "127.0.0.1"
        port = {port}
        repos-path = "{root / 'repos'}"
        mirrors-path = ["{mirror}"]
        [accessibility]
        offline = true
        """))
    log = open(root / "olah.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "olah.server", "-c", str(conf)], cwd=root,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"olah exited: {(root / 'olah.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("olah did not start within 60 s")
    return OlahServer(f"http://127.0.0.1:{port}", mirror, revisions, proc)


@pytest.fixture(scope="session")
def olah() -> Iterator[OlahServer]:
    """A real olah server (offline mode) serving every cards/ folder as a git repo."""
    root = _SESSION_TMP / "olah"
    server = start_olah(root, card_repos())
    yield server
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture
def use_olah(olah: OlahServer, monkeypatch: pytest.MonkeyPatch) -> OlahServer:
    """Point the zoo at olah and away from the embedded mirror."""
    monkeypatch.setenv("HF_ENDPOINT", olah.endpoint)
    monkeypatch.setenv("ZOO_MIRRORS", "")
    return olah


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """torch on one thread for the test, as before afterwards (on a shared 2-core machine two threads ran several
    times slower than one). A module takes it with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def data_dir() -> Path:
    """The offline datasets folder (ZOO_DATA_DIR); skips when it is absent."""
    value = os.environ.get("ZOO_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("ZOO_DATA_DIR is not set to the shared data folder (../shared/data)")
    return Path(value)


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install fake plugin distributions (dist-info + modules) on sys.path for this test.

    Call it with {entry_point_name: module_source}; returns the folder.
    """
    from zoo.plugins import reset_host

    site = tmp_path / "fake-site"
    site.mkdir()

    def install(plugins: dict[str, str], dist: str = "fake-zoo-plugins") -> Path:
        info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        lines = ["[zoo.plugins]"]
        for name, source in plugins.items():
            module = f"fakeplug_{name.replace('-', '_')}"
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            lines.append(f"{name} = {module}")
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.syspath_prepend(str(site))
        for m in [m for m in sys.modules if m.startswith("fakeplug_")]:
            del sys.modules[m]
        import importlib

        importlib.invalidate_caches()
        reset_host()
        return site

    return install


@pytest.fixture
def card_copy(tmp_path: Path):
    """Copy a cards/ folder to a temporary mirror: returns (mirror, folder)."""

    def copy(repo_id: str) -> tuple[Path, Path]:
        mirror = tmp_path / "mirror"
        dst = mirror / repo_id
        shutil.copytree(CARDS / repo_id, dst)
        return mirror, dst

    return copy


@pytest.fixture(autouse=True)
def _grad_mode_is_not_leaked():
    """A test (or the code it runs) that leaves autograd off breaks every training test after it: fail it."""
    yield
    torch = sys.modules.get("torch")
    if torch is not None and not torch.is_grad_enabled():
        torch.set_grad_enabled(True)
        pytest.fail("autograd was left disabled (torch.set_grad_enabled(False) without restoring it)")
