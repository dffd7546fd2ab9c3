"""Conformance checks of a loaded model: :func:`check_load_roundtrip`, with the generator and the
stylize contracts (:mod:`zoo.stylizing`).
"""

from __future__ import annotations

from .common import _fail, _weights


def check_load_roundtrip(name: str):
    """zoo.load(name): eval mode, the file's exact tensors, and the model's API works."""
    import torch
    from safetensors import safe_open

    from .. import load
    from ..loading import weights_path

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

    from ..stylizing import accepted_options, call_stylize, stylize_signature

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
