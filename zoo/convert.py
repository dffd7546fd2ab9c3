"""Converting upstream checkpoints into the zoo's layout, in the spirit of
timm's checkpoint filter functions.

A plugin names its converters in ``Architecture.converters`` (layout name ->
``"module:function"``). A converter is a pure function on state dicts::

    def from_layout(states: list[dict[str, Tensor]], config: dict) -> tuple[dict[str, Tensor], dict]

``states`` holds one state dict per source file, in the order given on the
command line (already unwrapped from ``{"state_dict": ...}`` style
containers); ``config`` is what the user passed (possibly empty). It returns
the state dict in the zoo's key layout and the builder config, with anything
it can infer from tensor shapes filled in (user values win; a conflict is a
:class:`~zoo.errors.ConversionError`). It raises ``ConversionError`` with a
message that says what is wrong.

:func:`convert` does the rest: reads the files (safetensors, or a pickle only
through ``torch.load(weights_only=True)``), calls the converter, validates the
config, builds the model on the meta device and loads the converted tensors
strictly (the same path ``zoo.load`` takes), runs it once, and writes a
Hub-repo folder: ``config.json``, ``model.safetensors`` and a ``README.md``
card saying where the weights came from and that this project did not verify
their quality.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .errors import ConversionError, ZooError
from .loading import import_path
from .registry import Architecture

if TYPE_CHECKING:  # pragma: no cover
    from .cards.writer import Card

StateDict = dict[str, torch.Tensor]
Converter = Callable[[list[StateDict], dict[str, Any]], tuple[StateDict, dict[str, Any]]]

# keys under which training scripts commonly nest the weights, tried in order
_CONTAINER_KEYS = ("state_dict", "model", "model_state_dict", "generator", "netG", "net_G", "G", "params", "ema")


@dataclass(frozen=True)
class ConversionResult:
    """What :func:`convert` wrote."""

    out_dir: Path
    architecture: str
    layout: str
    config: dict[str, Any]
    sha256: str
    size: int
    sources: list[dict[str, Any]] = field(default_factory=list)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_checkpoint(path: str | os.PathLike[str]) -> StateDict:
    """The tensors of an upstream file: safetensors, or a pickle read with ``weights_only=True``.

    A pickle that nests its weights (``{"state_dict": ...}``, ``{"netG": ...}``, ...)
    is unwrapped; ``module.`` prefixes (DataParallel) are stripped.
    """
    p = Path(path)
    if not p.is_file():
        raise ConversionError(f"{p}: no such file. Give the path of an upstream checkpoint.")
    with open(p, "rb") as f:
        head = f.read(16)
    obj: Any
    if p.suffix == ".safetensors" or _looks_like_safetensors(head):
        from safetensors.torch import load_file

        try:
            obj = load_file(str(p))
        except Exception as e:
            raise ConversionError(f"{p}: not a readable safetensors file ({e})") from e
    else:
        try:
            obj = torch.load(str(p), map_location="cpu", weights_only=True)
        except Exception as e:
            raise ConversionError(
                f"{p}: cannot be read with torch.load(weights_only=True) ({type(e).__name__}: {e}). "
                "The zoo never unpickles arbitrary objects: re-save the checkpoint as a plain state "
                "dict of tensors (torch.save(model.state_dict(), ...)) or as safetensors."
            ) from e
    return _unwrap(obj, str(p))


def _looks_like_safetensors(head: bytes) -> bool:
    # 8-byte little-endian header length, then a JSON object
    return len(head) >= 9 and head[8:9] == b"{"


def _unwrap(obj: Any, where: str) -> StateDict:
    for _ in range(3):
        if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            break
        if isinstance(obj, Mapping):
            inner = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), Mapping)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, Mapping) or not obj:
        raise ConversionError(f"{where}: holds no state dict (found {type(obj).__name__})")
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ConversionError(
            f"{where}: a mapping with keys {sorted(map(str, obj))[:8]} but no tensors; nested under "
            f"another key than {list(_CONTAINER_KEYS)}? Extract the state dict and save it alone."
        )
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


# -- helpers for converter functions ------------------------------------------------


def merge_config(inferred: Mapping[str, Any], given: Mapping[str, Any], *, layout: str) -> dict[str, Any]:
    """``given`` over ``inferred``; a given value that contradicts the tensors is an error."""
    out = dict(inferred)
    for k, v in given.items():
        if k in inferred and inferred[k] != v:
            raise ConversionError(
                f"{layout}: config {k}={v!r} contradicts the checkpoint, whose tensors say "
                f"{k}={inferred[k]!r}; drop {k!r} from --config or check the file"
            )
        out[k] = v
    return out


def rename(state: Mapping[str, torch.Tensor], mapping: Callable[[str], str | None]) -> StateDict:
    """Apply ``mapping`` to every key (None drops the key); two keys mapping to one is an error."""
    out: StateDict = {}
    for k, v in state.items():
        nk = mapping(k)
        if nk is None:
            continue
        if nk in out:
            raise ConversionError(f"keys map to the same name {nk!r} (one of them {k!r})")
        out[nk] = v
    return out


def require_keys(state: Mapping[str, torch.Tensor], keys: Sequence[str], *, layout: str, hint: str = "") -> None:
    missing = [k for k in keys if k not in state]
    if missing:
        raise ConversionError(
            f"not a {layout} checkpoint: missing {missing[:5]}; it has {sorted(state)[:6]}... {hint}".rstrip()
        )


def add_num_batches_tracked(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Checkpoints saved before PyTorch 0.4.1 lack batch norm's ``num_batches_tracked``: add zeros."""
    out = dict(state)
    for k in list(state):
        if k.endswith(".running_mean"):
            nbt = k[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(nbt, torch.tensor(0, dtype=torch.long))
    return out


def legacy_spectral_norm_keys(state: Mapping[str, torch.Tensor]) -> StateDict:
    """Keys of the old ``torch.nn.utils.spectral_norm`` (``X.weight_orig``, ``X.weight_u``,
    ``X.weight_v``) renamed to those of ``torch.nn.utils.parametrizations.spectral_norm``
    (``X.parametrizations.weight.original``, ``X.parametrizations.weight.0._u``, ``._v``)."""
    out: StateDict = {}
    for k, v in state.items():
        for old, new in (
            (".weight_orig", ".parametrizations.weight.original"),
            (".weight_u", ".parametrizations.weight.0._u"),
            (".weight_v", ".parametrizations.weight.0._v"),
        ):
            if k.endswith(old):
                k = k[: -len(old)] + new
                break
        out[k] = v
    return out


def fold_spectral_norm(state: Mapping[str, torch.Tensor], dims: Mapping[str, int] | None = None) -> StateDict:
    """Replace old-style spectral norm (``X.weight_orig``, ``X.weight_u``, ``X.weight_v``) by the plain
    weight it computes in eval mode, exactly as ``torch.nn.utils.spectral_norm`` does: ``weight_orig /
    sigma``, sigma = ``u . (W v)`` with W = weight_orig with dimension ``dim`` moved first, flattened to
    (weight.shape[dim], -1). torch normalises ConvTranspose weights (in, out, kh, kw) along ``dim=1`` and
    every other layer along 0.

    ``dims`` maps a layer's prefix ``X`` to its dim. A layer not in it gets 0 unless only dim 1 fits the
    lengths of u and v (a ConvTranspose whose in and out channels differ); a ConvTranspose with as many
    in as out channels must be named in ``dims``, since its tensors look like a Conv's. Exact for
    inference; for generators whose layers the zoo does not normalise."""
    dims = dict(dims or {})
    out = dict(state)
    for k in list(state):
        if not k.endswith(".weight_orig"):
            continue
        base = k[: -len(".weight_orig")]
        try:
            u, v = state[base + ".weight_u"], state[base + ".weight_v"]
        except KeyError as e:
            raise ConversionError(f"spectral norm of {base!r} lacks its u or v vector ({e})") from e
        w = state[k]
        dim = dims[base] if base in dims else _spectral_norm_dim(base, w, u, v)
        if not 0 <= dim < w.dim():
            raise ConversionError(f"spectral norm of {base!r}: dim {dim} is out of range for weight {tuple(w.shape)}")
        mat = w.double().movedim(dim, 0).reshape(w.shape[dim], -1)
        if u.numel() != mat.shape[0] or v.numel() != mat.shape[1]:
            raise ConversionError(
                f"spectral norm of {base!r}: u {tuple(u.shape)} and v {tuple(v.shape)} do not fit weight "
                f"{tuple(w.shape)} normalised along dim {dim} (torch uses dim=1 for ConvTranspose, 0 otherwise)")
        sigma = torch.dot(u.double().flatten(), torch.mv(mat, v.double().flatten()))
        out[base + ".weight"] = (w.double() / sigma).to(w.dtype)
        for suffix in (".weight_orig", ".weight_u", ".weight_v"):
            out.pop(base + suffix)
    return out


def _spectral_norm_dim(base: str, w: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> int:
    """The dim torch normalised ``w`` along, from the lengths of u and v: 0, or 1 when only 1 fits."""
    def fits(d: int) -> bool:
        return w.dim() > d and u.numel() == w.shape[d] and v.numel() * w.shape[d] == w.numel()

    if fits(0):
        return 0
    if fits(1):
        return 1
    raise ConversionError(
        f"spectral norm of {base!r}: u {tuple(u.shape)} and v {tuple(v.shape)} fit weight {tuple(w.shape)} "
        "along neither dim 0 nor dim 1; is the checkpoint damaged?")


def single(states: Sequence[StateDict], *, layout: str) -> StateDict:
    if len(states) != 1:
        raise ConversionError(f"layout {layout!r} converts one file, got {len(states)}")
    return states[0]


# -- the driver ----------------------------------------------------------------------


def choose_layout(arch: Architecture, layout: str | None) -> str:
    if not arch.converters:
        raise ConversionError(f"architecture {arch.name!r} has no converters")
    if layout is None:
        if len(arch.converters) == 1:
            return next(iter(arch.converters))
        raise ConversionError(
            f"architecture {arch.name!r} has several upstream layouts: choose one with --layout "
            f"({', '.join(sorted(arch.converters))})"
        )
    if layout not in arch.converters:
        raise ConversionError(
            f"architecture {arch.name!r} has no layout {layout!r}; its layouts: {sorted(arch.converters)}"
        )
    return layout


def convert(
    arch: str,
    sources: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    layout: str | None = None,
    config: Mapping[str, Any] | None = None,
    license: str = "other",
    source_url: str = "",
    overwrite: bool = False,
    name: str | None = None,
) -> ConversionResult:
    """Convert upstream checkpoint file(s) of ``arch`` into a Hub-repo folder ``out_dir``.

    ``name``: the ``arch.tag`` the weights are meant to be registered under, for
    the card's snippet (default ``<arch>.<layout>``).
    """
    from safetensors.torch import save_file

    from .loading import _build, load_state
    from .plugins import get_host

    host = get_host()
    record = host.registry.architectures.get(arch.strip().lower())
    if record is None:
        raise host.registry.unknown(arch)
    layout = choose_layout(record, layout)
    fn: Converter = import_path(record.converters[layout], record, f"converter {layout!r}")
    if not sources:
        raise ConversionError("give at least one checkpoint file to convert")
    states = [read_checkpoint(s) for s in sources]
    try:
        state, cfg = fn([dict(s) for s in states], dict(config or {}))
    except ZooError:
        raise
    except Exception as e:
        raise ConversionError(f"{arch} {layout}: converter failed: {type(e).__name__}: {e}") from e
    cfg = record.validate_config(cfg)

    out = Path(out_dir)
    target = out / "model.safetensors"
    if target.exists() and not overwrite:
        raise ConversionError(f"{target} exists; choose another -o folder or pass overwrite=True (--force)")
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    tmp = out / ".model.safetensors.tmp"
    save_file(tensors, str(tmp), metadata={"format": "pt", "zoo_architecture": record.name, "zoo_layout": layout})

    # check exactly as zoo.load does: meta build, strict assign, then one forward
    try:
        with torch.device("meta"):
            model = _build(record, cfg)
        load_state(model, str(tmp), name=f"{record.name} ({layout})")
        _smoke(model)
    except Exception as e:  # any failure: leave no half-written folder behind
        tmp.unlink(missing_ok=True)
        raise ConversionError(
            f"converted {record.name} weights do not load into the zoo model built from config "
            f"{json.dumps(cfg, sort_keys=True)}: {e}"
        ) from e
    os.replace(tmp, target)

    srcs = [{"file": Path(s).name, "sha256": sha256_file(s), "size": Path(s).stat().st_size} for s in sources]
    digest = sha256_file(target)
    size = target.stat().st_size
    meta = {
        "architecture": record.name,
        "config": cfg,
        "source": {"layout": layout, "converter": record.converters[layout], "files": srcs, "url": source_url},
        "weights": {"file": "model.safetensors", "sha256": digest, "size": size},
        "verified": False,
    }
    name = name or f"{record.name}.{layout}"
    meta["name"] = name
    (out / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    from .cards.writer import write

    write(card_content(record, layout, cfg, srcs, license=license, source_url=source_url, name=name), out,
          needs_metrics=False)
    return ConversionResult(out, record.name, layout, cfg, digest, size, srcs)


def _smoke(model: torch.nn.Module) -> None:
    from .generative import ImageGenerator

    if isinstance(model, ImageGenerator):
        x = model.sample(2, seed=0)
        if not torch.isfinite(x).all():
            raise ConversionError("the converted generator produces non-finite images")


def card_content(
    arch: Architecture,
    layout: str,
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    *,
    license: str = "other",
    source_url: str = "",
    name: str = "",
) -> Card:
    """The card of converted weights: where they came from, honest that they were not verified."""
    from .cards.writer import Card, Citation, Training

    files = "\n".join(f"- `{s['file']}` (sha256 `{s['sha256']}`, {s['size']} bytes)" for s in sources)
    where = source_url or "(the person who converted them did not give a URL)"
    cfg = json.dumps(dict(config), sort_keys=True)
    name = name or f"{arch.name}.{layout}"
    how = (
        "Once this folder is published (or put in a mirror laid out `<mirror>/<repo_id>/`) and registered as a "
        f"Weights record named `{name}`:\n\n```python\nimport zoo\nG = zoo.load(\"{name}\")\n"
        "images = G.sample(16, seed=0)  # float tensor in [0, 1], (n, C, H, W)\n```\n\n"
        "Before that, straight from this folder (`zoo.load` takes a Hub-repo folder too):\n\n"
        "```python\nimport zoo\nG = zoo.load(\"path/to/this/folder\")\n```"
    )
    return Card(
        name=name,
        title=f"{arch.name} (converted from the {layout} layout)",
        summary=(
            f"Weights of the `{arch.name}` architecture converted to the zoo's layout from an upstream checkpoint "
            f"in the **{layout}** layout with `zoo convert`.\n\nBuilder config: `{cfg}`"
        ),
        architecture=arch.name,
        license=license,
        tags=tuple(dict.fromkeys((arch.task, "gan", arch.name, "converted"))),
        intended_use="Sampling and research on generative models. These weights are as the upstream author "
        "published them.",
        how_to_use=how,
        training_data="Unknown to the zoo: see the upstream source.",
        training=Training(f"Not trained here. Converted from:\n\n{files}\n\nSource: {where}"),
        evaluation=(
            "**Not verified here.** This project checked only that the tensors load strictly into the model "
            "built from the config above and that it runs; it did not measure sample quality or reproduce the "
            "upstream author's figures."
        ),
        limitations="Quality, licence and training data are whatever the upstream checkpoint has; check them "
        "at the source before use.",
        citation=Citation.of(arch),
    )


def render_card(
    arch: Architecture,
    layout: str,
    config: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    *,
    license: str = "other",
    source_url: str = "",
    name: str = "",
) -> str:
    """The card text of converted weights (:func:`card_content` through zoo.card_writer)."""
    from .cards.writer import render

    return render(card_content(arch, layout, config, sources, license=license, source_url=source_url, name=name))
