"""Conformance checks of a plugin's registrations and builders: :func:`check_registrations`,
:func:`check_builds_on_meta`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from ..errors import ZooError
from .common import _fail, _host, _import_path, HEAVY_MODULES


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


def check_builds_on_meta(arch: str, **config: Any):
    """Build ``arch`` (defaults, overridden by ``config``) on the meta device; returns the model."""
    import torch

    from ..loading import import_builder

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
            from ..training.engine import Trainer

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
