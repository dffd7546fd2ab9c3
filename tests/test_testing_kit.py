"""The conformance kit (zoo.testing): it passes the built-in plugins and a good
plugin, and each way a plugin can be wrong fails with a message that says what
to fix."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import zoo
from zoo import testing
from zoo.testing import ConformanceError

# the plugins the zoo's own distribution declares (its entry points), found as the host finds them
BUILTINS = sorted(p.name for p in zoo.list_plugins() if p.distribution == "zoo-models")

GOOD_MODEL = """
import torch
from torch import nn
from zoo.generative import ImageGenerator

class Gen(ImageGenerator):
    def __init__(self, width=4):
        super().__init__()
        self.latent_dim, self.channels, self.image_size = 3, 1, 2
        self.net = nn.Linear(3, width)
        self.out = nn.Linear(width, 4)

    def forward(self, z):
        return torch.tanh(self.out(self.net(z))).view(-1, 1, 2, 2)

def build(width=4):
    return Gen(width)
"""

CARD = """\
---
license: %(license)s
library_name: zoo
tags: [gan, test]
datasets: [none]
model-index:
- name: kit.test
  results:
  - task: {type: unconditional-image-generation}
    dataset: {name: none, type: none, split: none}
    metrics:
    - {type: params, value: 36, name: "number of parameters, counted by torch"}
---
# kit.test

## Model description
A tiny generator for the conformance kit's tests.

## Intended use
Tests.

## How to use
```python
import zoo
G = zoo.load("%(load)s")
```

## Training data
None.

## Training procedure
Seeded initialisation.

## Evaluation
None.

## Limitations
Noise.

## Citation
None.
"""


def registration(repo: dict | None, *, model_module: str = "fakeplug_kit_model", size_delta: int = 0,
                 extra: str = "") -> str:
    src = f"""
        import zoo
        {extra}

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(
                name="kit", builder="{model_module}:build", default_tag="test",
                schema={{"width": zoo.Field("int", 4, min=1)}},
                paper="none (tests)", reference_code="none (tests)"))
        """
    if repo is not None:
        src += f"""
        @zoo.hookimpl
        def register_weights(register):
            register(zoo.Weights(
                name="kit.test", repo_id="{repo['repo_id']}", revision="{repo['revision']}",
                sha256="{repo['sha256']}", size={repo['size'] + size_delta}, config={{"width": 4}},
                license="mit", dataset="none"))
        """
    return textwrap.dedent(src)


def make_folder(root: Path, model_source: str = GOOD_MODEL, *, card_license: str = "mit",
                load_name: str = "kit.test", repo_id: str = "kit-org/kit-test") -> dict:
    """A Hub-repo folder of real weights of the kit model; returns its pins."""
    import torch
    from safetensors.torch import save_file

    from zoo.hub import sha256_file
    from zoo.publish import folder_revision

    folder = root / repo_id
    folder.mkdir(parents=True)
    ns: dict = {}
    exec(model_source, ns)
    torch.manual_seed(0)
    model = ns["build"](4)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"architecture": "kit", "config": {"width": 4}}))
    (folder / "README.md").write_text(CARD % {"license": card_license, "load": load_name})
    w = folder / "model.safetensors"
    return {"repo_id": repo_id, "revision": folder_revision(folder), "sha256": sha256_file(w),
            "size": w.stat().st_size, "folder": folder, "mirror": root}


@pytest.fixture
def kit(tmp_path, fake_plugins, monkeypatch):
    """Install the kit plugin: install(model_source=..., registration kwargs...) -> pins."""

    def install(model_source: str = GOOD_MODEL, *, folder_model: str | None = None, with_weights: bool = True,
                card_license: str = "mit", load_name: str = "kit.test", **reg) -> dict:
        repo = make_folder(tmp_path / "mirror", folder_model or model_source, card_license=card_license,
                           load_name=load_name) if with_weights else None
        site = fake_plugins({"kit": registration(repo, **reg)})
        (site / "fakeplug_kit_model.py").write_text(model_source)
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "mirror"))
        return repo or {}

    return install


# -- passes --------------------------------------------------------------------


def test_the_builtins_are_found():
    assert {"adain", "dcgan", "gan", "sngan", "wgan"} <= set(BUILTINS)


@pytest.mark.parametrize("plugin", BUILTINS)
def test_builtin_plugins_conform(plugin, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # weights, if any, from the embedded cards/ mirror
    checked = testing.check_plugin(plugin)
    assert checked["architectures"]
    assert set(checked["weights"]) == {n for n in zoo.list_models(pretrained=True)
                                       if zoo.model_info(n).weights.plugin == plugin}


def test_a_good_plugin_passes_every_check(kit):
    repo = kit()
    assert testing.check_plugin("kit") == {"architectures": ["kit"], "weights": ["kit.test"]}
    assert testing.check_weights("kit.test").stat().st_size == repo["size"]
    model = testing.check_load_roundtrip("kit")
    assert not model.training
    report = testing.check_repo_folder(repo["folder"])
    assert report.architecture == "kit" and report.weights == ("model.safetensors",)


def test_use_mirror_sets_and_restores_the_environment(kit, tmp_path, monkeypatch):
    repo = kit()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("ZOO_MIRRORS", "")
    import os

    with testing.use_mirror(repo["mirror"]):
        assert os.environ["HF_HUB_OFFLINE"] == "1"
        testing.check_weights("kit.test")
    assert os.environ["ZOO_MIRRORS"] == "" and "HF_HUB_OFFLINE" not in os.environ


# -- each failure says what to fix ----------------------------------------------


def test_not_installed(kit):
    kit()
    with pytest.raises(ConformanceError, match=r"no such plugin is installed.*entry-points"):
        testing.check_registrations("nope")


def test_broken_plugin(fake_plugins):
    fake_plugins({"kit": "import zoo\nraise RuntimeError('boom at import')\n"})
    with pytest.raises(ConformanceError, match="could not load it: RuntimeError: boom at import"):
        testing.check_registrations("kit")


def test_registration_that_imports_torch(kit):
    kit(extra="import torch")
    with pytest.raises(ConformanceError, match=r"registering imports \['torch'\].*model.py"):
        testing.check_registrations("kit")
    # the same plugin passes when the light check is off: the problem is only the import
    assert testing.check_registrations("kit", light=False) == ["kit", "kit.test"]


@pytest.mark.parametrize("module", ["fakeplug_no_such_module", "fakeplug_no_such_package.model", "zoo.no_such_module"])
def test_builder_module_that_does_not_exist(kit, module):
    kit(model_module=module)
    with pytest.raises(ConformanceError, match="names a module that cannot be found"):
        testing.check_registrations("kit", light=False)


def test_builder_that_creates_tensors_off_meta(kit):
    bad = GOOD_MODEL.replace(
        "self.out = nn.Linear(width, 4)",
        "self.out = nn.Linear(width, 4)\n        self.register_buffer('scale', torch.ones(4, device='cpu'))")
    kit(bad, with_weights=False)
    with pytest.raises(ConformanceError, match=r"\['scale'\] were created off the meta device"):
        testing.check_builds_on_meta("kit")


def test_builder_that_reads_values_fails_on_meta(kit):
    bad = GOOD_MODEL.replace("self.out = nn.Linear(width, 4)",
                             "self.out = nn.Linear(width, 4)\n        float(self.out.weight.detach().sum())")
    kit(bad, with_weights=False)
    with pytest.raises(ConformanceError, match="fails on the meta device"):
        testing.check_builds_on_meta("kit")


def test_generator_without_sample(kit):
    bad = GOOD_MODEL.replace("class Gen(ImageGenerator):", "class Gen(nn.Module):")
    kit(bad, with_weights=False)
    with pytest.raises(ConformanceError, match="ImageGenerator"):
        testing.check_builds_on_meta("kit")


def test_wrong_size_in_the_record(kit):
    repo = kit(size_delta=1)
    with pytest.raises(ConformanceError, match=f"set size={repo['size']}"):
        testing.check_weights("kit.test")


def test_tampered_weights_are_a_hash_mismatch(kit):
    repo = kit()
    path = repo["folder"] / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(zoo.HashMismatchError):
        testing.check_weights("kit.test")


def test_card_that_loads_another_model(kit):
    kit(load_name="other.model")
    with pytest.raises(ConformanceError, match=r'show `zoo.load\("kit.test"\)`'):
        testing.check_card("kit.test")


def test_card_licence_disagrees_with_the_record(kit):
    kit(card_license="apache-2.0")
    with pytest.raises(ConformanceError, match="license 'apache-2.0', the Weights record 'mit'"):
        testing.check_card("kit.test")


def test_nondeterministic_sampling(kit):
    bad = GOOD_MODEL.replace("return torch.tanh(self.out(self.net(z))).view(-1, 1, 2, 2)",
                             "return torch.tanh(self.out(self.net(z + torch.randn_like(z)))).view(-1, 1, 2, 2)")
    kit(bad)
    with pytest.raises(ConformanceError, match="same seed gave different images"):
        testing.check_load_roundtrip("kit.test")


def test_samples_outside_the_unit_range(kit):
    bad = GOOD_MODEL + textwrap.dedent("""
        def _sample(self, n, *, seed=None):
            return ImageGenerator.sample(self, n, seed=seed) * 3 - 1
        Gen.sample = _sample
        """)
    kit(bad)
    with pytest.raises(ConformanceError, match=r"not \[0, 1\].*to_unit_range"):
        testing.check_load_roundtrip("kit.test")


def test_check_plugin_lists_every_failure(kit):
    bad = GOOD_MODEL.replace("class Gen(ImageGenerator):", "class Gen(nn.Module):")
    kit(bad, folder_model=GOOD_MODEL, card_license="apache-2.0", size_delta=1)
    with pytest.raises(ConformanceError) as e:
        testing.check_plugin("kit")
    msg = str(e.value)
    assert "fails 2 check(s)" in msg
    assert "ImageGenerator" in msg and "check_weights('kit.test')" in msg


# -- folders ---------------------------------------------------------------------


@pytest.fixture
def folder(kit):
    return kit()["folder"]


def test_folder_with_a_pickle_is_refused(folder):
    (folder / "extra.bin").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(zoo.WeightsError, match="extra.bin is a pickle.*zoo convert"):
        testing.check_repo_folder(folder)


def test_folder_with_a_torch_save_archive_under_another_name_is_refused(folder):
    import torch

    torch.save({"w": torch.zeros(1)}, folder / "weights.data")
    with pytest.raises(zoo.WeightsError, match="weights.data is a pickle"):
        testing.check_repo_folder(folder)


def test_folder_card_failing_the_schema(folder):
    card = folder / "README.md"
    card.write_text(card.read_text().replace("## Evaluation\nNone.\n", ""))
    with pytest.raises(zoo.CardError, match="missing section '## Evaluation'"):
        testing.check_repo_folder(folder)


def test_folder_card_with_bad_yaml_names_the_line(folder):
    card = folder / "README.md"
    card.write_text(card.read_text().replace("tags: [gan, test]", "tags: [gan, test"))
    with pytest.raises(zoo.CardError, match=r"README.md:\d+: invalid YAML"):
        testing.check_repo_folder(folder)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ('{"architecture": "kit",\n "config": {"width": 4,}}', r"config.json:2: invalid JSON"),
        ('["kit"]', r"config.json:1: must be a JSON object"),
        ('{"architecture": "kit", "config": {"depth": 2}}', r"no config key\(s\) \['depth'\].*does not build"),
        ('{"architecture": "kit", "config": {"width": 0}}', r"width' must be >= 1"),
        ('{"architecture": "kitt", "config": {}}', r"config.json:1: architecture 'kitt' is not registered.*'kit'"),
    ],
)
def test_folder_config_that_does_not_build(folder, config, match):
    (folder / "config.json").write_text(config)
    with pytest.raises(zoo.ConfigError, match=match):
        testing.check_repo_folder(folder)


def test_folder_weights_that_do_not_fit_the_config(folder):
    (folder / "config.json").write_text('{"architecture": "kit", "config": {"width": 5}}')
    with pytest.raises(zoo.StateDictError, match=r"'net.weight' has shape \(4, 3\).*expects \(5, 3\)"):
        testing.check_repo_folder(folder)


def test_folder_weights_with_missing_tensors(folder):
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    del state["out.bias"]
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(zoo.StateDictError, match=r"missing keys \['out.bias'\]"):
        testing.check_repo_folder(folder)


def test_folder_with_truncated_weights(folder):
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[:-10])
    with pytest.raises(zoo.WeightsError, match="beyond the end of the file"):
        testing.check_repo_folder(folder)


def test_folder_without_weights(folder):
    (folder / "model.safetensors").unlink()
    with pytest.raises(zoo.WeightsError, match="no .safetensors file"):
        testing.check_repo_folder(folder)
