"""The stylize contract: what `zoo stylize`, the style-transfer evaluator and the conformance kit call.

A style-transfer model (task ``"style-transfer"``) has

    model.stylize(content, style, *, alpha=1.0, **options)

- ``content``: a path, a PIL image, or a float tensor RGB in [0, 1] of shape (3, H, W) or (N, 3, H, W);
- ``style``: the same kinds (a model may take more, e.g. a style index; a model whose styles are built in
  gives ``style`` a default index, ``stylize(content, style=0, *, alpha=1.0)``, and the kit uses it);
- ``alpha`` (keyword, in [0, 1]): 1 full style, 0 as little style as the model can give;
- returns the same kind as ``content``: a PIL image (RGB) for a path or a PIL image, at the content's size;
  a float tensor in [0, 1] of the content's shape for a tensor;
- deterministic (the same inputs give the same output) and without side effects on the model's mode.

Everything else is optional (``options``): a model takes the ones it supports. The zoo passes an option
only when the user asked for it (:func:`call_stylize`); one the model's signature does not take is refused
with a message that names the option, never passed to crash the model with a TypeError. The options `zoo
stylize` may pass, by name: ``style_weights`` (several styles), ``preserve_color``, ``mask`` / ``masks``,
``size``, ``style_size``, ``max_pixels``, ``keep_alpha``, ``precision``, ``resample``.

This module imports no torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

#: the options `zoo stylize` may pass beside alpha, and the command-line flag of each
CLI_OPTIONS: Mapping[str, str] = {
    "style_weights": "--style-weights",
    "preserve_color": "--preserve-color",
    "mask": "--mask",
    "masks": "--mask",
    "size": "--size",
    "style_size": "--style-size",
    "max_pixels": "--max-pixels",
    "keep_alpha": "--no-alpha",
    "precision": "--precision",
    "resample": "--resample",
}


def stylize_signature(model: Any) -> inspect.Signature:
    fn = getattr(model, "stylize", None)
    if not callable(fn):
        raise ConfigError(f"{_name(model)} is not a style-transfer model: it has no stylize() (see the stylize "
                          "contract in docs/plugins.md)")
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin or C function: assume it takes everything
        return inspect.Signature([inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD)])


def accepted_options(model: Any) -> set[str] | None:
    """The keyword options ``model.stylize`` takes; None when it takes ``**options`` (any)."""
    params = stylize_signature(model).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)}


def _name(model: Any) -> str:
    src = getattr(model, "zoo_source", None)
    name = getattr(src, "name", None) or getattr(src, "ref", None)
    return f"model {name!r}" if name else f"the {type(model).__name__} model"


def call_stylize(model: Any, content: Any, style: Any, *, alpha: float = 1.0, **options: Any) -> Any:
    """``model.stylize(content, style, alpha=alpha, **options)`` by the contract: ``options`` are only those the
    caller chose; one that the model's signature does not take raises :class:`ConfigError` naming it (and
    its `zoo stylize` flag), with the options the model does take."""
    accepted = accepted_options(model)
    if accepted is not None:
        if "alpha" not in accepted:
            raise ConfigError(f"{_name(model)}'s stylize{stylize_signature(model)} takes no alpha; the stylize "
                              "contract (docs/plugins.md) requires stylize(content, style, *, alpha=1.0)")
        refused = [k for k in options if k not in accepted]
        if refused:
            flags = ", ".join(f"{k} ({CLI_OPTIONS[k]})" if k in CLI_OPTIONS else k for k in refused)
            takes = sorted(accepted - {"content", "style", "self"})
            raise ConfigError(f"{_name(model)} does not take {flags}: its stylize() takes {takes}. Leave "
                              "the option out, or choose a model that has it (`zoo info NAME`).")
    return model.stylize(content, style, alpha=alpha, **options)


__all__ = ["CLI_OPTIONS", "accepted_options", "call_stylize", "stylize_signature"]
