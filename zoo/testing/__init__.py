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

The package: :mod:`.common` (the error, the host, ``use_mirror``), :mod:`.registrations`,
:mod:`.published` (weights, revision, card) and :mod:`.models` (loading, the generator and stylize
contracts); every check is importable from ``zoo.testing``.
"""

from __future__ import annotations

import os

from ..errors import ZooError
from ..repos.check import FolderReport, check_repo_folder as _check_repo_folder
from .common import (  # noqa: F401  (zoo.testing's names before the split)
    HEAVY_MODULES, ConformanceError, _fail, _import_path, _host, use_mirror, _weights,
)
from .models import (  # noqa: F401  (zoo.testing's names before the split)
    check_load_roundtrip, _check_generator, _check_stylizer,
)
from .published import (  # noqa: F401  (zoo.testing's names before the split)
    check_weights, check_revision, check_card,
)
from .registrations import (  # noqa: F401  (zoo.testing's names before the split)
    _status, registration_imports, check_registrations, check_builds_on_meta,
)


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
