"""Loading what is not registered: Hub-repo folders and ``hf-hub:org/name[@revision]`` references.

Folders are written by the real ``zoo train`` (a tiny DCGAN on real MNIST, from ZOO_DATA_DIR); Hub repos
are those folders published into the real olah server the tests start, loaded back through the real
huggingface_hub client, by the API and by every CLI command that takes a name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo
from zoo import errors, hub
from zoo.cli import cli
from zoo.plugins import reset_host
from zoo.refs import ModelRef, ModelSource, parse_ref


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A Hub-repo folder written by the real `zoo train` (3 steps of a tiny DCGAN on real MNIST)."""
    data = os.environ.get("ZOO_DATA_DIR")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("ZOO_DATA_DIR is not set to the shared data folder with mnist/ (../shared/data)")
    from zoo.cli_train import train

    root = tmp_path_factory.mktemp("trained")
    out = root / "dcgan-tiny"
    args = ["dcgan", "--data", str(Path(data) / "mnist"), "--dataset", "mnist", "--set", "ngf=4", "--set", "ndf=4",
            "--set", "nz=8", "--set", "batch_size=16", "--out", str(out), "--steps", "3", "--run-dir",
            str(root / "run"), "--no-progress", "--threads", "1", "--sample-every", "1000",
            "--checkpoint-every", "1000"]
    res = CliRunner().invoke(train, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def folder(trained, tmp_path) -> Path:
    """A private copy of the trained folder, to edit."""
    dst = tmp_path / "model"
    shutil.copytree(trained, dst)
    return dst


def tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def same_state(model, path: Path) -> bool:
    import torch

    ref = tensors(path)
    state = model.state_dict()
    return set(state) == set(ref) and all(torch.equal(state[k], ref[k]) for k in ref)


def edit_config(folder: Path, **changes) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if key == "config":
            cfg["config"].update(value)
        elif value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    (folder / "config.json").write_text(json.dumps(cfg))


def repo_name(tmp_path: Path, what: str) -> str:
    return f"zoo-tests/{what}-{tmp_path.name[-12:].lower().strip('_-')}"


# -- one parser for every name ----------------------------------------------------------------------


def test_parse_ref_kinds(tmp_path, monkeypatch):
    assert parse_ref("dcgan.mnist") == ModelRef("registered", "dcgan.mnist", name="dcgan.mnist")
    r = parse_ref("hf-hub:org/name@v1.0")
    assert (r.kind, r.repo_id, r.revision, r.pinned) == ("hub", "org/name", "v1.0", False)
    sha = "a" * 40
    r = parse_ref(f"hf-hub:org/name@{sha}")
    assert r.pinned and str(r) == f"hf-hub:org/name@{sha}"
    assert parse_ref("hf-hub:org/name", revision="dev").revision == "dev"
    assert parse_ref("hf-hub:org/name").revision is None
    r = parse_ref("runs/out")
    assert (r.kind, r.path) == ("folder", Path("runs/out"))
    assert parse_ref(tmp_path).kind == "folder"  # a PathLike is always a folder
    # a bare word: a registered name, unless only a folder of that name exists
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dcgan").mkdir()
    (tmp_path / "my-run").mkdir()
    assert parse_ref("dcgan").kind == "registered"
    assert parse_ref("./dcgan").kind == "folder"
    assert parse_ref("my-run").kind == "folder"


@pytest.mark.parametrize(("text", "kwargs", "message"), [
    ("hf-hub:no-slash", {}, "must be 'org/name'"),
    ("hf-hub:org/name@", {}, "the revision after '@' is empty"),
    ("hf-hub:org/name@a b", {}, "may not hold spaces"),
    ("hf-hub:org/name@v1", {"revision": "v2"}, "give one of them"),
    ("some/folder", {"revision": "main"}, "a folder, which has no revisions"),
])
def test_parse_ref_refuses_what_it_cannot_mean(text, kwargs, message):
    with pytest.raises(errors.InvalidRefError, match=message):
        parse_ref(text, **kwargs)


# -- folders ----------------------------------------------------------------------------------------


def test_load_a_trained_folder(trained, capsys):
    model = zoo.load(trained)
    assert not model.training and same_state(model, trained / "model.safetensors")
    src = model.zoo_source
    assert isinstance(src, ModelSource) and src.kind == "folder" and src.architecture.name == "dcgan"
    assert src.sha256 == hub.sha256_file(trained / "model.safetensors") and src.revision is None
    assert dict(src.config)["ngf"] == 4 and src.dataset == "mnist"
    assert f"zoo: loaded {trained} (model.safetensors sha256 {src.sha256})" in capsys.readouterr().err
    images = model.sample(3, seed=1)
    assert tuple(images.shape) == (3, 1, 32, 32) and 0 <= float(images.min()) <= float(images.max()) <= 1
    assert zoo.load(str(trained)).zoo_name == str(trained)  # the same from a string


def test_folder_through_the_cli(trained, tmp_path):
    out = tmp_path / "grid.png"
    r = run("sample", trained, "-n", "4", "-o", out)
    assert out.is_file() and f"of {trained}" in r.output
    sha = hub.sha256_file(trained / "model.safetensors")
    info = run("info", trained).output
    assert "architecture : dcgan" in info and sha in info and '"ngf": 4' in info
    data = json.loads(run("info", trained, "--json").output)
    assert data["kind"] == "folder" and data["sha256"] == sha and data["config"]["nz"] == 8
    card = run("card", trained, "--raw").output
    assert "zoo.load(" in card and "license: mit" in card
    verify = run("verify", trained).output
    assert sha in verify and "pins none" in verify
    assert "nothing to download" in run("download", trained).output


def test_model_info_and_card_of_a_folder_import_no_torch(trained):
    code = ("import sys, zoo; i = zoo.model_info(sys.argv[1]); c = zoo.card(sys.argv[1]); "
            "print(i.sha256, i.architecture.name, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(trained)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [hub.sha256_file(trained / "model.safetensors"), "dcgan", "False"]


def test_a_converted_folder_pins_its_weights_and_tampering_is_refused(folder):
    sha = hub.sha256_file(folder / "model.safetensors")
    size = (folder / "model.safetensors").stat().st_size
    edit_config(folder, weights={"file": "model.safetensors", "sha256": sha, "size": size})  # as `zoo convert` writes
    assert zoo.load(folder).zoo_source.sha256 == sha
    assert "ok (sha256" in run("verify", folder).output
    from safetensors.torch import save_file

    state = tensors(folder / "model.safetensors")
    key = next(iter(state))
    state[key] = state[key] + 1  # same keys, shapes and dtypes: only the pin can tell
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(errors.HashMismatchError, match="was not used"):
        zoo.load(folder)
    r = run("verify", folder, ok=False)
    assert r.exit_code == 1 and "BAD sha256" in r.output


@pytest.mark.parametrize(("damage", "error", "message"), [
    ("file", errors.ModelRepoError, "is a file, not a folder"),
    ("missing", errors.ModelRepoError, "hf-hub:zoo-tests/nowhere"),
    ("no-config", errors.ModelRepoError, "has no config.json"),
    ("no-architecture", errors.ModelRepoError, "names no architecture"),
    ("unknown-architecture", errors.UnknownArchitectureError, "names architecture 'nosucharch'.*plugins: .*dcgan"),
    ("non-schema-key", errors.ConfigError, r"no config key\(s\) \['depth'\]"),
    ("bad-value", errors.ConfigError, "'image_size' must be one of"),
    ("too-large", errors.LimitExceededError, "tensor elements"),
    ("no-weights", errors.WeightsNotFoundError, "has no model.safetensors"),
    ("truncated", errors.StateDictError, "not a readable safetensors file"),
    ("nan", errors.NonFiniteWeightsError, "NaN"),
    ("shapes", errors.StateDictError, "expects"),
])
def test_a_bad_folder_is_refused_with_a_typed_error(folder, monkeypatch, damage, error, message):
    ref = folder
    if damage == "file":
        ref = folder / "config.json"
    elif damage == "missing":
        monkeypatch.chdir(folder.parent)
        ref = "zoo-tests/nowhere"
    elif damage == "no-config":
        (folder / "config.json").unlink()
    elif damage == "no-architecture":
        edit_config(folder, architecture=None)
    elif damage == "unknown-architecture":
        edit_config(folder, architecture="nosucharch")
    elif damage == "non-schema-key":
        edit_config(folder, config={"depth": 3})
    elif damage == "bad-value":
        edit_config(folder, config={"image_size": 48})
    elif damage == "too-large":  # ~26e9 elements: refused on the meta device, never allocated
        edit_config(folder, config={"ngf": 1_000_000})
    elif damage == "no-weights":
        (folder / "model.safetensors").unlink()
    elif damage == "truncated":
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif damage == "nan":
        from safetensors.torch import save_file

        state = tensors(folder / "model.safetensors")
        key = next(k for k, v in state.items() if v.dtype.is_floating_point)
        state[key] = state[key] * float("nan")
        save_file(state, str(folder / "model.safetensors"))
    elif damage == "shapes":
        edit_config(folder, config={"ngf": 8})
    with pytest.raises(error, match=message):
        zoo.load(ref)
    r = run("sample", ref, "-o", folder.parent / "x.png", ok=False)  # the CLI says the same, without a traceback
    assert r.exit_code == 1 and "Error:" in r.output and "Traceback" not in r.output


# -- Hub repos behind the real olah server ----------------------------------------------------------


@pytest.fixture
def published(trained, use_olah, tmp_path):
    """The trained folder published on olah: (repo_id, commit)."""
    repo_id = repo_name(tmp_path, "tiny")
    return repo_id, use_olah.publish(trained, repo_id)


def test_load_from_olah_pinned_and_by_branch(published, trained, capsys):
    repo_id, sha = published
    model = zoo.load(f"hf-hub:{repo_id}@{sha}")
    assert same_state(model, trained / "model.safetensors") and not model.training
    src = model.zoo_source
    weights_sha = hub.sha256_file(trained / "model.safetensors")
    assert (src.kind, src.repo_id, src.revision, src.sha256) == ("hub", repo_id, sha, weights_sha)
    assert src.requested_revision is None and model.zoo_name == f"hf-hub:{repo_id}@{sha}"
    err = capsys.readouterr().err
    assert f"zoo: loaded hf-hub:{repo_id}@{sha} (model.safetensors sha256 {weights_sha})" in err
    # the weights came through huggingface_hub into its cache, at that commit
    cached = hub.from_cache(repo_id, "model.safetensors", sha)
    assert cached is not None and hub.sha256_file(cached) == weights_sha
    # by branch (the default, main): resolved to the same commit, and said so
    for ref, kwargs in ((f"hf-hub:{repo_id}", {}), (f"hf-hub:{repo_id}@main", {}), (f"hf-hub:{repo_id}", {"revision": "main"})):
        m = zoo.load(ref, **kwargs)
        assert m.zoo_source.revision == sha and m.zoo_source.requested_revision == "main"
        assert f"'main' resolved to that commit; model.safetensors sha256 {weights_sha}" in capsys.readouterr().err


def test_a_pinned_revision_keeps_its_bytes_after_the_branch_moves(published, folder, use_olah, capsys):
    repo_id, first = published
    old = zoo.load(f"hf-hub:{repo_id}@{first}").zoo_source.sha256
    from safetensors.torch import save_file

    state = {k: (v * 0.5 if v.dtype.is_floating_point else v) for k, v in tensors(folder / "model.safetensors").items()}
    save_file(state, str(folder / "model.safetensors"))
    second = use_olah.publish(folder, repo_id)
    assert second != first
    new = hub.sha256_file(folder / "model.safetensors")
    moved = zoo.load(f"hf-hub:{repo_id}")
    assert moved.zoo_source.revision == second and moved.zoo_source.sha256 == new
    pinned = zoo.load(f"hf-hub:{repo_id}@{first}")
    assert pinned.zoo_source.sha256 == old != new
    hub.forget()
    reset_host()
    pinned = zoo.load(f"hf-hub:{repo_id}@{first}")  # from the cache, in a fresh host: still the first bytes
    assert hub.sha256_file(pinned.zoo_source.weights_file) == old


def test_hub_repo_through_every_command(published, trained, tmp_path):
    repo_id, sha = published
    weights_sha = hub.sha256_file(trained / "model.safetensors")
    r = run("sample", f"hf-hub:{repo_id}@main", "-n", "4", "-o", tmp_path / "g.png")
    assert (tmp_path / "g.png").is_file() and f"of hf-hub:{repo_id}@{sha}" in r.output
    info = run("info", f"hf-hub:{repo_id}").output
    assert f"revision     : {sha} ('main' resolved to it)" in info and weights_sha in info and "dcgan" in info
    data = json.loads(run("info", f"hf-hub:{repo_id}@{sha}", "--json").output)
    assert (data["revision"], data["sha256"], data["config"]["ngf"]) == (sha, weights_sha, 4)
    card = run("card", f"hf-hub:{repo_id}@{sha}", "--raw").output
    assert card.strip() == (trained / "README.md").read_text().strip()
    assert "Model description" in run("card", f"hf-hub:{repo_id}").output
    out = run("verify", f"hf-hub:{repo_id}@{sha}").output
    assert f"ok (sha256 {weights_sha})" in out


def test_download_then_offline(published, trained, monkeypatch):
    repo_id, sha = published
    out = run("download", f"hf-hub:{repo_id}").output
    assert f"revision 'main' is commit {sha}" in out and "README.md hub" in out
    assert hub.sha256_file(trained / "model.safetensors") in out
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the server goes down: the cache's main answers
    hub.forget()
    reset_host()
    assert zoo.load(f"hf-hub:{repo_id}").zoo_source.revision == sha
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.forget()
    reset_host()
    for ref in (f"hf-hub:{repo_id}", f"hf-hub:{repo_id}@{sha}"):  # the cache remembers which commit main is
        assert zoo.load(ref).zoo_source.revision == sha
    with pytest.raises(errors.OfflineNotCachedError, match="zoo download hf-hub:"):
        zoo.load(f"hf-hub:{repo_id}@v2")
    with pytest.raises(errors.OfflineNotCachedError, match="zoo download") as e:  # a pin that is not cached
        zoo.load(f"hf-hub:{repo_id}@{'2' * 40}")
    assert "ZOO_MIRRORS" not in str(e.value)  # mirrors hold no revisions: not offered for a reference


def test_tampered_cached_weights_are_refused_removed_and_fetched_again(published, trained):
    repo_id, sha = published
    ref = f"hf-hub:{repo_id}@{sha}"
    zoo.load(ref)
    blob = hub.from_cache(repo_id, "model.safetensors", sha).resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1  # one bit in a tensor: the file still parses; only its hash can tell
    os.chmod(blob, 0o644)
    blob.write_bytes(bytes(data))
    r = run("verify", ref, ok=False)
    assert r.exit_code == 1 and "BAD sha256" in r.output
    hub.forget()
    with pytest.raises(errors.HashMismatchError, match="removed from the cache") as e:
        zoo.load(ref)
    assert e.value.removed and hub.from_cache(repo_id, "model.safetensors", sha) is None
    assert same_state(zoo.load(ref), trained / "model.safetensors")  # the next call downloads a good copy


@pytest.mark.parametrize(("damage", "error", "message"), [
    ("unknown-architecture", errors.UnknownArchitectureError, "names architecture 'nosucharch'"),
    ("too-large", errors.LimitExceededError, "tensor elements"),
    ("non-schema-key", errors.ConfigError, r"no config key\(s\) \['depth'\]"),
    ("no-config", errors.ModelRepoError, "has no config.json"),
])
def test_a_bad_config_on_the_hub_is_refused_before_the_weights_are_fetched(folder, use_olah, tmp_path, damage,
                                                                           error, message):
    if damage == "unknown-architecture":
        edit_config(folder, architecture="nosucharch")
    elif damage == "too-large":
        edit_config(folder, config={"ngf": 1_000_000})
    elif damage == "non-schema-key":
        edit_config(folder, config={"depth": 3})
    else:
        (folder / "config.json").unlink()
    repo_id = repo_name(tmp_path, "bad")
    sha = use_olah.publish(folder, repo_id)
    with pytest.raises(error, match=message):
        zoo.load(f"hf-hub:{repo_id}@{sha}")
    assert hub.from_cache(repo_id, "model.safetensors", sha) is None  # nothing downloaded for it
    if damage != "too-large":  # `zoo info` checks the schema (no torch, nothing allocated: no size bound)
        r = run("info", f"hf-hub:{repo_id}", ok=False)
        assert r.exit_code == 1 and "Traceback" not in r.output


def test_not_on_the_hub_and_no_such_revision(published):
    repo_id, _ = published
    with pytest.raises(errors.NotOnHubError, match="has no repository 'zoo-tests/does-not-exist'"):
        zoo.load("hf-hub:zoo-tests/does-not-exist")
    with pytest.raises(errors.RevisionNotFoundError, match="has no revision 'no-such-branch'"):
        zoo.load(f"hf-hub:{repo_id}@no-such-branch")
    with pytest.raises(errors.RevisionNotFoundError, match="has no revision '1111"):
        zoo.load(f"hf-hub:{repo_id}@{'1' * 40}")
    r = run("info", "hf-hub:zoo-tests/does-not-exist", ok=False)
    assert r.exit_code == 1 and "has no repository" in r.output


def test_server_down_names_the_endpoint_and_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    reset_host()
    with pytest.raises(errors.HubUnreachableError, match=r"cannot reach http://127\.0\.0\.1:9.*HF_HUB_OFFLINE=1"):
        zoo.load("hf-hub:zoo-tests/anything")
    r = run("sample", "hf-hub:zoo-tests/anything@main", ok=False)
    assert r.exit_code == 1 and "cannot reach http://127.0.0.1:9" in r.output


def test_model_info_of_a_hub_repo(published, trained):
    repo_id, sha = published
    info = zoo.model_info(f"hf-hub:{repo_id}")
    assert isinstance(info, ModelSource) and (info.revision, info.requested_revision) == (sha, "main")
    assert info.sha256 == hub.sha256_file(trained / "model.safetensors") and info.architecture.name == "dcgan"
    assert zoo.model_info("dcgan.mnist").weights is not None  # registered names: the records, as before


# -- zoo eval takes references too -------------------------------------------------------------------


@pytest.mark.slow
def test_eval_of_a_folder_and_of_a_hub_repo(published, trained, folder, tmp_path):
    import torch

    from zoo.cli_train import eval as eval_cmd
    from zoo.metrics.classifier import build, save_classifier

    repo_id, sha = published
    torch.manual_seed(0)
    clf = tmp_path / "clf"
    save_classifier(build(channels=1, width=4), clf, {"config": {"channels": 1, "num_classes": 10, "width": 4}})
    mnist = Path(os.environ["ZOO_DATA_DIR"]) / "mnist"
    common = ["--data", str(mnist), "-n", "200", "--n-reference", "500", "--classifier", str(clf), "--no-baseline"]
    runner = CliRunner()
    res = runner.invoke(eval_cmd, [str(folder), *common, "--write"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    fid = json.loads((folder / "config.json").read_text())["metrics"]["fid"]
    res = runner.invoke(eval_cmd, [f"hf-hub:{repo_id}@{sha}", *common], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"hf-hub:{repo_id}@{sha} on mnist" in res.output and f"{fid:.5g}" in res.output  # the same weights
    res = runner.invoke(eval_cmd, [f"hf-hub:{repo_id}", *common, "--write"])
    assert res.exit_code != 0 and "--write stores the metrics in a folder" in str(res.exception)


def test_a_loaded_model_still_copies_and_pickles(trained):
    import copy
    import io

    import torch

    model = zoo.load(trained)
    twin = copy.deepcopy(model)  # AdaIN's stylize and training code deep-copy models
    assert twin.zoo_source is model.zoo_source and same_state(twin, trained / "model.safetensors")
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=False)
    assert back.zoo_source == model.zoo_source and back.zoo_source.architecture.name == "dcgan"


def test_bytes_that_are_not_what_the_server_published_are_refused(folder, monkeypatch):
    """A server (or a proxy) that sends other bytes than the ETag it states: refused, not cached."""
    from fakehub import FakeHub

    sha = "ab" * 20
    with FakeHub() as server:
        server.add_folder("zoo-tests/wrong-bytes", folder, sha)
        server.fault["model.safetensors"] = "wrong"
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("ZOO_MIRRORS", "")
        reset_host()
        with pytest.raises(errors.HashMismatchError, match="removed from the cache"):
            zoo.load(f"hf-hub:zoo-tests/wrong-bytes@{sha}")
        assert hub.from_cache("zoo-tests/wrong-bytes", "model.safetensors", sha) is None
        server.fault.clear()
        assert same_state(zoo.load("hf-hub:zoo-tests/wrong-bytes"), folder / "model.safetensors")


def test_an_oversized_config_on_the_hub_is_refused_before_it_is_downloaded(published, monkeypatch):
    repo_id, sha = published
    monkeypatch.setenv("ZOO_MAX_CONFIG_BYTES", "64")
    reset_host()
    with pytest.raises(errors.LimitExceededError, match="config.json is larger than the limit.*nothing was downloaded"):
        zoo.load(f"hf-hub:{repo_id}@{sha}")
    assert hub.from_cache(repo_id, "config.json", sha) is None


def test_info_and_card_of_a_hub_repo_import_no_torch(published, use_olah, tmp_path):
    repo_id, sha = published
    code = ("import sys, zoo; i = zoo.model_info(sys.argv[1]); c = zoo.card(sys.argv[1]); "
            "print(i.revision, 'torch' in sys.modules)")
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_ENDPOINT": use_olah.endpoint, "ZOO_MIRRORS": ""}
    out = subprocess.run([sys.executable, "-c", code, f"hf-hub:{repo_id}"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [sha, "False"]
