"""The conformance kit: plain functions a plugin's own tests call.

    from zoo import testing

    def test_conformance():
        testing.check_plugin("myplugin")          # everything below, for all it registers

    def test_weights_from_my_mirror():
        with testing.use_mirror("hub"):           # a folder laid out <repo_id>/<file>, offline
            testing.check_load_roundtrip("myarch.demo")

Each check raises :class:`ConformanceError` (an ``AssertionError``, so pytest
shows it as a failure) whose message says what to fix, and returns what it
checked. Nothing here needs pytest.

- :func:`check_registrations`: the plugin is installed, loads, registers valid
  records, and its registration module imports no torch;
- :func:`check_builds_on_meta`: the builder builds on the meta device with the
  defaults (so ``zoo.load`` pays no initialisation), generators have
  ``latent_dim`` and ``sample``, style-transfer models ``stylize``;
- the stylize contract (:mod:`zoo.stylizing`, in :func:`check_load_roundtrip`): signature with
  ``alpha``, tensors (3, H, W) and (N, 3, H, W), PIL images and paths in with the same kind out,
  alpha changes the output, deterministic, mode kept;
- :func:`check_weights`: the file is found like ``zoo.load`` finds it, matches
  its pinned sha256 and size, is safetensors, and loads strictly;
- :func:`check_revision`: the pinned revision is one that some source has (the
  cache, the endpoint, or a mirror folder whose publication gets that commit);
- :func:`check_card`: the card passes the schema, names the model in its
  ``zoo.load`` snippet and agrees with the record's licence;
- :func:`check_load_roundtrip`: ``zoo.load`` gives an eval-mode model whose
  tensors are the file's, and a generator samples in [0, 1], deterministically;
- :func:`check_repo_folder`: a Hub-repo folder is publishable (``zoo push`` runs it);
- :func:`check_plugin`: all of the above for everything a plugin registered.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import SizeMismatchError, ZooError
from .repos.check import FolderReport, check_repo_folder as _check_repo_folder
from .repos.hub import sha256_file

__all__ = [
    "ConformanceError",
    "check_builds_on_meta",
    "check_card",
    "check_load_roundtrip",
    "check_plugin",
    "check_registrations",
    "check_repo_folder",
    "check_revision",
    "check_weights",
    "use_mirror",
]

HEAVY_MODULES = ("torch", "torchvision", "timm")


class ConformanceError(ZooError, AssertionError):
    """A plugin does not meet the zoo's conventions; the message says what to fix."""


def _fail(subject: str, problem: str, fix: str) -> ConformanceError:
    return ConformanceError(f"{subject}: {problem}. Fix: {fix}")


def _import_path(path: str):
    import importlib

    module, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _host():
    from .plugins import get_host

    return get_host()


@contextlib.contextmanager
def use_mirror(*folders: str | os.PathLike[str], offline: bool = True) -> Iterator[None]:
    """Within the block the zoo finds weights in ``folders`` (laid out ``<repo_id>/<file>``).

    ``offline`` (the default) also sets HF_HUB_OFFLINE=1 so that no network is
    tried. The environment and the plugin host are restored afterwards.
    """
    from .plugins import reset_host

    saved = {k: os.environ.get(k) for k in ("ZOO_MIRRORS", "HF_HUB_OFFLINE")}
    os.environ["ZOO_MIRRORS"] = os.pathsep.join(str(Path(f).resolve()) for f in folders)
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    reset_host()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_host()


# -- registrations ------------------------------------------------------------


def _status(plugin_name: str):
    host = _host()
    status = host.plugins.get(plugin_name.lower())
    if status is None:
        installed = ", ".join(sorted(host.plugins)) or "none"
        raise _fail(
            f"plugin {plugin_name!r}", "no such plugin is installed (installed: " + installed + ")",
            'declare it in pyproject.toml under [project.entry-points."zoo.plugins"] '
            f'({plugin_name} = "<your_package>") and install the package (pip install -e .)',
        )
    return status


def registration_imports(plugin_name: str) -> list[str]:
    """Heavy modules (torch, ...) that importing the plugin and calling its hooks imports.

    Run in a fresh interpreter with this one's sys.path, so that what the test
    process already imported does not hide anything.
    """
    code = f"""
import json, sys
from importlib import metadata
eps = [ep for ep in metadata.entry_points(group="zoo.plugins") if ep.name.lower() == {plugin_name.lower()!r}]
mod = eps[0].load()
for hook in ("register_architectures", "register_weights"):
    fn = getattr(mod, hook, None)
    if fn is not None:
        fn(register=lambda record: None)
print(json.dumps([m for m in {list(HEAVY_MODULES)!r} if m in sys.modules]))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise _fail(f"plugin {plugin_name!r}", "importing it in a fresh interpreter failed:\n"
                    + out.stderr.strip()[-2000:], "make the registration module importable on its own")
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_registrations(plugin_name: str, *, light: bool = True) -> list[str]:
    """The plugin is installed, loads, and registers valid records; returns the names it registered.

    With ``light`` (the default), also checks in a fresh interpreter that
    importing the plugin and calling its hooks imports no torch.
    """
    import importlib.util

    status = _status(plugin_name)
    subject = f"plugin {status.name!r}"
    if status.state == "disabled":
        raise _fail(subject, "it is disabled in this environment", "unset ZOO_PLUGINS / remove it from the disable list")
    if status.state != "ok":
        raise _fail(subject, f"the host could not load it: {status.error}",
                    "fix the error above (run `zoo plugins` to see it again)")
    if not status.registered:
        raise _fail(subject, "it registered nothing",
                    "implement @zoo.hookimpl register_architectures(register) and call register(zoo.Architecture(...))")
    reg = _host().registry
    for name in status.registered:
        arch = reg.architectures.get(name)
        if arch is not None:
            if not arch.paper.strip() or not arch.reference_code.strip():
                raise _fail(f"architecture {name!r}", "paper or reference_code is empty",
                            "cite the paper and link the reference implementation")
            try:
                arch.validate_config({})
            except ZooError as e:
                raise _fail(f"architecture {name!r}", f"its schema's defaults do not validate ({e})",
                            "give every Field a default that passes its own type, choices and bounds") from e
            for kind, path in [("builder", arch.builder), *arch.components.items(), *arch.converters.items()]:
                module = path.partition(":")[0]
                try:
                    spec = importlib.util.find_spec(module)
                except (ImportError, ValueError):
                    spec = None
                if spec is None:
                    raise _fail(f"architecture {name!r}", f"{kind} {path!r} names a module that cannot be found",
                                "fix the import path ('package.module:function') or package the module")
        w = reg.weights.get(name)
        if w is not None and w.license.strip() == "":
            raise _fail(f"weights {name!r}", "no licence", "set license= to the weights' SPDX licence")
    if light:
        heavy = registration_imports(status.name)
        if heavy:
            raise _fail(subject, f"registering imports {heavy}",
                        "keep the model code in its own module (e.g. model.py) and name the builder by import "
                        "path, 'your_package.model:build'; import torch only there")
    return list(status.registered)


# -- building -----------------------------------------------------------------


def check_builds_on_meta(arch: str, **config: Any):
    """Build ``arch`` (defaults, overridden by ``config``) on the meta device; returns the model."""
    import torch

    from .loading import import_builder

    reg = _host().registry
    record = reg.architectures.get(arch.strip().lower())
    if record is None:
        raise _fail(f"architecture {arch!r}", "not registered", "register it, or check its name with `zoo list`")
    subject = f"architecture {record.name!r}"
    cfg = record.validate_config(config)
    builder = import_builder(record)
    try:
        with torch.device("meta"):
            model = builder(**cfg)
    except Exception as e:
        raise _fail(subject, f"the builder fails on the meta device ({type(e).__name__}: {e})",
                    "do not create tensors with an explicit device or read their values in __init__; "
                    "zoo.load builds under torch.device('meta') and assigns the weights afterwards") from e
    if not isinstance(model, torch.nn.Module):
        raise _fail(subject, f"the builder returned {type(model).__name__}", "return a torch.nn.Module")
    tensors = list(model.state_dict().items())
    if not tensors:
        raise _fail(subject, "the model has no parameters or buffers", "a model in the zoo has weights to load")
    off_meta = [k for k, v in tensors if not v.is_meta]
    if off_meta:
        raise _fail(subject, f"tensors {off_meta[:5]} were created off the meta device",
                    "create parameters and buffers without an explicit device= (or with register_buffer "
                    "of a tensor made from the default device)")
    if record.task == "image-generation":
        latent = getattr(model, "latent_dim", None)
        if not isinstance(latent, int) or latent < 1 or not callable(getattr(model, "sample", None)):
            raise _fail(subject, "a generator needs an int latent_dim and sample(n, *, seed=None)",
                        "subclass zoo.generative.ImageGenerator and set latent_dim, channels, image_size")
    elif record.task == "style-transfer" and not callable(getattr(model, "stylize", None)):
        raise _fail(subject, "a style-transfer model needs stylize(content, style, *, alpha=1.0)",
                    "add a stylize method")
    for part, path in record.components.items():
        if part == "trainer":  # a zoo.training.Trainer subclass, built by `zoo train` from a job, not a config
            from .training.engine import Trainer

            try:
                cls = _import_path(path)
            except Exception as e:
                raise _fail(subject, f"the trainer component {path} fails to import ({type(e).__name__}: {e})",
                            "name an importable zoo.training.Trainer subclass") from e
            if not (isinstance(cls, type) and issubclass(cls, Trainer)) or cls.from_job is Trainer.from_job:
                raise _fail(subject, f"the trainer component {path} is not a zoo.training.Trainer subclass with "
                            "a from_job classmethod", "subclass zoo.training.Trainer (docs/plugins.md, 'Training')")
            continue
        try:
            with torch.device("meta"):
                component = _import_path(path)(**cfg)
        except Exception as e:
            raise _fail(subject, f"component {part!r} ({path}) fails to build on the meta device "
                        f"({type(e).__name__}: {e})", "make it build from the same config as the builder") from e
        if not isinstance(component, torch.nn.Module):
            raise _fail(subject, f"component {part!r} is {type(component).__name__}", "return a torch.nn.Module")
    return model


# -- weights ------------------------------------------------------------------


def _weights(name: str):
    reg = _host().registry
    info = reg.info(name)
    if info.weights is None:
        raise _fail(f"model {info.name!r}", "it has no published weights",
                    "register zoo.Weights(...) for it, or check only the architecture")
    return info


def check_weights(name: str) -> Path:
    """The weights file of ``name``: found like zoo.load finds it, sha256 and size as pinned, loads strictly."""

    from .loading import build_for_loading, load_state, weights_path
    from .repos.check import compare_tensors, meta_state
    from .repos.folder import read_safetensors_header

    info = _weights(name)
    w = info.weights
    subject = f"weights {info.name!r}"
    try:
        path = weights_path(w)  # found like zoo.load finds it (derived on this machine for derive= records)
    except SizeMismatchError as e:  # sizes are compared before hashing: tell a size typo from a wrong file
        found = Path(e.path)
        if not found.is_file() or sha256_file(found) != w.sha256:
            raise
        path = found
    size = path.stat().st_size
    if size != w.size:
        raise _fail(subject, f"the file is {size} bytes, the record says {w.size}",
                    f"set size={size} in the Weights record (the sha256 matched, so the size is a typo)")
    _, expected = meta_state(info.architecture.name, dict(w.config))
    # tensors under an included model's prefix come from that model's own file
    own = {k: v for k, v in expected.items() if k.split(".", 1)[0] not in w.includes}
    compare_tensors(own, read_safetensors_header(path), f"{subject} ({path})")
    includes = {prefix: str(weights_path(_host().registry.weights[other])) for prefix, other in w.includes.items()}
    model = build_for_loading(info.architecture, info.architecture.validate_config(dict(w.config)))
    load_state(model, str(path), name=info.name, includes=includes)
    return path


def check_revision(name: str) -> str:
    """The revision ``name``'s Weights record pins is in some source; returns which one.

    Sources, as zoo.load tries them: the Hugging Face cache (a snapshot at that revision), the endpoint
    (unless offline), then each mirror folder, whose revision is the commit sha its first publication
    gets (``zoo.publish.folder_revision``, what ``zoo push --dry-run`` prints). A mirror folder matches
    the sha256 of a file whatever the revision, so a mistyped or stale pin would otherwise go unseen
    until a user without the mirror fails to download it. Weights derived on the machine are skipped.
    """
    from .errors import FileNotInRepoError, HubUnreachableError, NotOnHubError, RevisionNotFoundError
    from .repos.hub import _endpoint_name, file_metadata, from_cache
    from .repos.publish import folder_revision

    info = _weights(name)
    w = info.weights
    subject = f"weights {info.name!r}"
    if w.derive:
        return "derived on this machine"
    settings = _host().settings
    looked: list[str] = []
    if from_cache(w.repo_id, w.filename, w.revision) is not None:
        return "the Hugging Face cache"
    looked.append("the Hugging Face cache has no snapshot at it")
    endpoint = _endpoint_name(settings)
    if settings.offline:
        looked.append(f"{endpoint} was not asked (offline)")
    else:
        try:
            file_metadata(w.repo_id, w.filename, w.revision, settings)
            return endpoint
        except (RevisionNotFoundError, NotOnHubError, FileNotInRepoError) as e:
            looked.append(str(e).rstrip("."))
        except HubUnreachableError as e:
            looked.append(f"{endpoint} could not be asked ({e})".rstrip("."))
    for mirror in settings.mirrors:
        folder = Path(mirror) / w.repo_id
        if not (folder / w.filename).is_file():
            continue
        have = folder_revision(folder)
        if have == w.revision:
            return str(mirror)
        looked.append(f"the mirror folder {folder} is at revision {have}")
    if not any("mirror folder" in x for x in looked):
        looked.append(f"no mirror folder holds {w.repo_id}/{w.filename}")
    raise _fail(subject, f"no source has its pinned revision {w.revision!r} of {w.repo_id}: " + "; ".join(looked),
                "pin the revision that was published: `zoo push FOLDER --dry-run` prints it for a folder "
                "(zoo.publish.folder_revision), the Hub shows it for a repo; or publish that commit (`zoo push`)")


# -- cards --------------------------------------------------------------------


def check_card(name: str):
    """The card of ``name`` passes the schema, shows zoo.load of this name, and agrees on the licence."""
    from .cards import card_for, parse_card

    info = _weights(name)
    w = info.weights
    subject = f"card of {info.name!r}"
    card = card_for(info.name)
    parsed = parse_card(str(card))
    how = next((text for heading, (_, text) in parsed.sections.items()
                if heading.startswith(("how to use", "usage"))), "")
    spelled = {info.name, w.architecture} if w.tag == info.architecture.default_tag else {info.name}
    if not any(f'zoo.load("{n}"' in how or f"zoo.load('{n}'" in how for n in spelled):
        raise _fail(subject, f"'How to use' does not load this model (no zoo.load(\"{info.name}\"))",
                    f'show `zoo.load("{info.name}")` in the snippet')
    lic = str(parsed.metadata.get("license", "")).lower()
    if lic != w.license.lower():
        raise _fail(subject, f"the card says license {lic!r}, the Weights record {w.license!r}",
                    "make them agree")
    return card


# -- loading ------------------------------------------------------------------


def check_load_roundtrip(name: str):
    """zoo.load(name): eval mode, the file's exact tensors, and the model's API works."""
    import torch
    from safetensors import safe_open

    from . import load
    from .loading import weights_path

    info = _weights(name)
    w = info.weights
    subject = f"model {info.name!r}"
    model = load(info.name)
    if model.training:
        raise _fail(subject, "zoo.load returned a model in training mode", "this is a zoo bug: report it")
    state = model.state_dict()
    with safe_open(str(weights_path(w)), framework="pt") as f:
        for key in f.keys():
            if not torch.equal(state[key], f.get_tensor(key)):
                raise _fail(subject, f"tensor {key!r} differs from the file after loading",
                            "do not modify parameters in the builder after construction (e.g. in a hook)")
    if info.architecture.task == "image-generation":
        _check_generator(subject, model)
    elif info.architecture.task == "style-transfer":
        _check_stylizer(subject, model)
    return model


def _check_generator(subject: str, model) -> None:
    import torch

    a = model.sample(2, seed=0)
    b = model.sample(2, seed=0)
    c = model.sample(2, seed=1)
    if not isinstance(a, torch.Tensor) or a.dim() != 4 or a.shape[0] != 2:
        raise _fail(subject, f"sample(2) gave {getattr(a, 'shape', type(a))}", "return a (n, C, H, W) tensor")
    if a.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16) or not torch.isfinite(a).all():
        raise _fail(subject, "sample() gave non-float or non-finite values", "return finite float images")
    if a.min() < 0 or a.max() > 1:
        raise _fail(subject, f"sample() values lie in [{a.min():.3g}, {a.max():.3g}], not [0, 1]",
                    "map the generator's output to [0, 1] (zoo.generative.to_unit_range)")
    if not torch.equal(a, b):
        raise _fail(subject, "the same seed gave different images",
                    "draw latents from a torch.Generator seeded with seed (zoo.generative.ImageGenerator does)")
    if torch.equal(a, c):
        raise _fail(subject, "different seeds gave the same images", "use the seed to draw the latents")


def _check_stylizer(subject: str, model) -> None:
    """The stylize contract of docs/plugins.md (zoo.stylizing), as `zoo stylize` and `zoo eval` call it:
    the signature, tensors of both shapes, PIL images and paths in with the same kind out, alpha, and
    determinism."""
    import inspect
    import tempfile

    import torch
    from PIL import Image

    from .stylizing import accepted_options, call_stylize, stylize_signature

    fix = "follow the stylize contract in docs/plugins.md (stylize(content, style, *, alpha=1.0, **options))"
    sig = stylize_signature(model)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) < 2 and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise _fail(subject, f"stylize{sig} does not take content and style positionally", fix)
    accepted = accepted_options(model)
    if accepted is not None and "alpha" not in accepted:
        raise _fail(subject, f"stylize{sig} takes no alpha keyword", fix)
    alpha = sig.parameters.get("alpha")
    if alpha is not None and alpha.default is not inspect.Parameter.empty and alpha.default != 1.0:
        raise _fail(subject, f"alpha defaults to {alpha.default!r}, not 1.0 (full style)", fix)
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 64, 48, generator=g), torch.rand(1, 3, 64, 64, generator=g)
    # a model with built-in styles gives ``style`` a default index (stylize(content, style=0, ...)): the
    # checks use that index in place of a style image
    style_param = sig.parameters.get("style")
    builtin = style_param is not None and isinstance(style_param.default, int) and \
        not isinstance(style_param.default, bool)
    if builtin:
        style = style_param.default
    was = model.training
    out = call_stylize(model, content, style, alpha=1.0)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, 3, 64, 48):
        raise _fail(subject, f"stylize(tensor (1, 3, 64, 48), tensor) gave {getattr(out, 'shape', type(out))}",
                    "return a tensor of the content's shape for tensor inputs")
    if not out.dtype.is_floating_point or not torch.isfinite(out).all() or out.min() < 0 or out.max() > 1:
        raise _fail(subject, "stylize() output is not finite floats in [0, 1]", "clamp the output to [0, 1]")
    if model.training != was:
        raise _fail(subject, "stylize() changed the model's train/eval mode", "restore the mode it found")
    again = call_stylize(model, content, style, alpha=1.0)
    if not torch.equal(out, again):
        raise _fail(subject, "stylize() gave different outputs for the same inputs", "make it deterministic")
    single = call_stylize(model, content[0], style if builtin else style[0], alpha=1.0)
    if not isinstance(single, torch.Tensor) or tuple(single.shape) != (3, 64, 48):
        raise _fail(subject, f"stylize(tensor (3, 64, 48), ...) gave {getattr(single, 'shape', type(single))}",
                    "take (3, H, W) tensors and return the same shape")
    none = call_stylize(model, content, style, alpha=0.0)
    if not isinstance(none, torch.Tensor) or none.shape != out.shape or torch.equal(none, out):
        raise _fail(subject, "alpha=0.0 gave the same output as alpha=1.0 (or another shape)",
                    "use alpha to trade style for content")
    to_pil = lambda t: Image.fromarray((t[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8"))  # noqa: E731
    pil_c, pil_s = to_pil(content), (style if builtin else to_pil(style))
    got = call_stylize(model, pil_c, pil_s, alpha=1.0)
    if not isinstance(got, Image.Image) or got.size != pil_c.size or got.mode != "RGB":
        raise _fail(subject, f"stylize(PIL image, PIL image) gave {type(got).__name__} "
                    f"{getattr(got, 'size', '')} {getattr(got, 'mode', '')}",
                    "return an RGB PIL image of the content's size for PIL or path inputs")
    with tempfile.TemporaryDirectory() as d:
        cp, sp = f"{d}/content.png", (style if builtin else f"{d}/style.png")
        pil_c.save(cp)
        if not builtin:
            pil_s.save(sp)
        got = call_stylize(model, cp, sp, alpha=1.0)
    if not isinstance(got, Image.Image) or got.size != pil_c.size:
        raise _fail(subject, f"stylize(path, path) gave {type(got).__name__}",
                    "open paths as images and return a PIL image of the content's size")


# -- folders and whole plugins ------------------------------------------------


def check_repo_folder(folder: str | os.PathLike[str], *, needs_metrics: bool = True) -> FolderReport:
    """A Hub-repo folder is publishable: card schema, config builds, tensors fit, no pickles."""
    return _check_repo_folder(folder, needs_metrics=needs_metrics)


def check_plugin(plugin_name: str, *, weights: bool = True) -> dict[str, list[str]]:
    """Every check for everything ``plugin_name`` registered; one error listing every failure.

    With ``weights=False`` the weights, card and load checks are skipped (no
    download). Returns {"architectures": [...], "weights": [...]} checked.
    """
    names = check_registrations(plugin_name)
    reg = _host().registry
    failures: list[str] = []
    archs = [n for n in names if n in reg.architectures]
    models = [n for n in names if n in reg.weights]
    for arch in archs:
        try:
            check_builds_on_meta(arch)
        except ZooError as e:
            failures.append(str(e))
    if weights:
        for name in models:
            for check in (check_weights, check_revision, check_card, check_load_roundtrip):
                try:
                    check(name)
                except ZooError as e:
                    failures.append(f"{check.__name__}({name!r}): {e}")
                    break
    if failures:
        raise ConformanceError(f"plugin {plugin_name!r} fails {len(failures)} check(s):\n- " + "\n- ".join(failures))
    return {"architectures": archs, "weights": models if weights else []}
