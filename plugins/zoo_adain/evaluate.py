"""The style-transfer judge: the one evaluator of every style-transfer figure (`zoo eval NAME`).

Registered by the adain plugin (``zoo.Evaluator("style-judge", "style-transfer", ...)``), which owns the
judge network; it scores any model that has ``stylize`` (the contract of zoo.stylizing), AdaIN or not.

Protocol (the paper's losses, Huang & Belongie 2017, measured with a fixed ImageNet-descended network):

- judge: ``vgg16.hed-bsds500`` (relu1_1..relu4_1), in float32;
- held-out pairs, kept out of every training run: photos scikit-image's astronaut, chelsea, coffee (the
  ``skimage`` set, 9 pairs; the default, available offline everywhere) and, in the ``wallpapers`` set (15
  pairs), the Debian wallpapers plasma:EveningGlow and mate:Storm (packages plasma-workspace-wallpapers and
  mate-backgrounds); paintings The Scream, Udnie, Woman with a Hat from the data folder's style/;
- each photo and painting is resized (shorter side) and centre-cropped to SIZE x SIZE (default 256), stylized
  with ``alpha=1`` (``precision="fp32"`` and ``style_size=None``, the style as given, when the model
  takes them), and scored:
  content loss: MSE at relu4_1 between the output and AdaIN(judge(photo), judge(painting));
  style loss: over relu1_1..relu4_1, MSE of channel means plus MSE of channel stds, output vs painting;
  palette: mean |difference| of the per-channel RGB mean and std, output vs painting;
  SSIM: of the output's luminance to the photo's (scikit-image, data range 1);
- reference rows, measured the same way: the photo itself and a pixel colour transfer.

The numbers are means over the pairs; lower is better except SSIM. bench/bench_adain_eval.py prints the
same table for several models at once and draws the grids, from these functions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from zoo.errors import DataError

from . import train as T

JUDGE = "vgg16.hed-bsds500"
HELD_OUT_STYLES = ("the_scream", "udnie", "woman_with_hat_matisse")
SKIMAGE_HELD_OUT = ("astronaut", "chelsea", "coffee")
WALLPAPER_HELD_OUT = ("plasma:EveningGlow", "mate:Storm")
MANIFEST = Path(__file__).resolve().parents[2] / "cards" / "zoo" / "adain-vgg16" / "content-debian.tsv"
SETS = ("skimage", "wallpapers")
METRICS = ("content_loss_judge", "style_loss_judge", "palette_l1", "ssim_to_content")
_KEYS = {"content": "content_loss_judge", "style": "style_loss_judge", "palette": "palette_l1",
         "ssim": "ssim_to_content"}


def judge_network(weights: str | None = None) -> torch.nn.Module:
    """The judge, frozen, float32: the zoo model vgg16.hed-bsds500 (or its tensors from ``weights``)."""
    if weights:
        return T.vgg16_hed_encoder(weights)
    import zoo

    return zoo.load(JUDGE).float().eval()


def style_image(style_dir: Path, name: str) -> Image.Image:
    for suf in T.IMAGE_SUFFIXES:
        p = Path(style_dir) / f"{name}{suf}"
        if p.is_file():
            with Image.open(p) as im:
                return im.convert("RGB")
    raise DataError(f"the painting {name!r} is not in {style_dir}: pass --data with the style-transfer "
                    f"folder (its style/ holds {', '.join(HELD_OUT_STYLES)})")


def style_folder(data: str | Path | None) -> Path:
    if data is None:
        raise DataError("the style-transfer judge needs the held-out paintings: pass --data DIR (the style-transfer "
                        "data folder, whose style/ holds The Scream, Udnie and Woman with a Hat)")
    root = Path(data)
    return root / "style" if (root / "style").is_dir() else root


def held_out_set(data: str | Path | None, size: int = 256, which: str = "skimage",
                 style_names: Sequence[str] = HELD_OUT_STYLES
                 ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(contents, styles): name -> (1, 3, size, size) tensors of the held-out set ``which``; ``style_names``:
    other paintings of the style folder in place of the held-out three (e.g. training paintings, to tell
    under-fitting from poor generalisation: the figures are then not the held-out ones)."""
    if which not in SETS:
        raise DataError(f"held-out set {which!r}: choose one of {list(SETS)}")
    contents = {n: T.center_square(T.skimage_image(n), size)[None] for n in SKIMAGE_HELD_OUT}
    if which == "wallpapers":
        paths = dict(T.read_manifest(MANIFEST)) if MANIFEST.is_file() else {}
        for n in WALLPAPER_HELD_OUT:
            p = paths.get(n)
            if p is None or not p.is_file():
                raise DataError(f"the held-out wallpaper {n} is not installed ({p}): install the Debian packages "
                                "plasma-workspace-wallpapers and mate-backgrounds, or use the default set "
                                "(--set heldout=skimage)")
            with Image.open(p) as im:
                contents[n] = T.center_square(im.convert("RGB"), size)[None]
    folder = style_folder(data)
    styles = {n: T.center_square(style_image(folder, n), size)[None] for n in style_names}
    return contents, styles


def luminance(x: torch.Tensor) -> np.ndarray:
    w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (x.float() * w).sum(1)[0].numpy()


def colour_transfer(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """The reference row: the photo's per-channel mean and std moved to the painting's."""
    cm, cs = c.mean((2, 3), keepdim=True), c.std((2, 3), keepdim=True)
    sm, ss = s.mean((2, 3), keepdim=True), s.std((2, 3), keepdim=True)
    return ((c - cm) / (cs + 1e-6) * ss + sm).clamp(0, 1)


@torch.inference_mode()
def scores(judge: torch.nn.Module, out: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> dict[str, float]:
    """The four numbers of one pair (see the module's text)."""
    from skimage.metrics import structural_similarity

    out = out.float()
    fo, fc, fs = judge.forward_features(out), judge.forward_features(c), judge.forward_features(s)
    content = F.mse_loss(fo[-1], T.adain(fc[-1], fs[-1])).item()
    style = T.style_loss(fo, fs).item()
    palette = ((out.mean((2, 3)) - s.mean((2, 3))).abs().mean() + (out.std((2, 3)) - s.std((2, 3))).abs().mean()).item()
    ssim = float(structural_similarity(luminance(out), luminance(c), data_range=1.0))
    return {"content": content, "style": style, "palette": palette, "ssim": ssim}


def style_loss_by_layer(judge: torch.nn.Module, out: torch.Tensor, s: torch.Tensor) -> list[float]:
    """The judge's style loss of one pair split by layer: [mean term, std term] for relu1_1, relu2_1, ... in
    that order; their sum is ``scores(...)["style"]`` (which layer carries a gap between two models)."""
    terms = T.style_loss_terms(judge.forward_features(out.float()), judge.forward_features(s))
    return [float(t) for pair in terms for t in pair]


def stylizer(model: Any) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``f(content, style) -> image`` through the stylize contract, alpha 1, fp32 where the model takes a
    precision, the style as given where it takes a style_size; a model without ``stylize`` (an AdaIN run's bare module) is called as ``model(c, s)``."""
    if not callable(getattr(model, "stylize", None)):
        return lambda c, s: model(c, s)
    from zoo.stylizing import accepted_options, call_stylize

    accepted = accepted_options(model) or set()
    # the protocol's inputs as given: fp32, and the style at the protocol's size (AdaIN's stylize would
    # otherwise resize it to 512 px first, which changes its statistics and so the figures)
    extra: dict[str, Any] = {"precision": "fp32"} if "precision" in accepted else {}
    if "style_size" in accepted:
        extra["style_size"] = None
    return lambda c, s: call_stylize(model, c, s, alpha=1.0, **extra)


def evaluate_pairs(models: Mapping[str, Any], contents: Mapping[str, torch.Tensor],
                   styles: Mapping[str, torch.Tensor], judge: torch.nn.Module, progress: bool = False
                   ) -> tuple[list[str], dict[str, list[dict[str, float]]], dict[str, dict[str, float]],
                              dict[tuple[str, str, str], torch.Tensor]]:
    """Every (content, style) pair through the unchanged photo, a colour transfer and each model: the
    methods, their per-pair and mean scores, and every output (method, content, style) -> image."""
    methods = ["content image", "colour transfer", *models]
    per: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    outputs: dict[tuple[str, str, str], torch.Tensor] = {}
    run = {name: stylizer(m) for name, m in models.items()}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(contents) * len(styles), unit="pair", desc="style judge", file=sys.stderr)
    with torch.inference_mode():
        for cn, c in contents.items():
            for sn, s in styles.items():
                if bar is not None:
                    bar.update(1)
                outs = {"content image": c, "colour transfer": colour_transfer(c, s)}
                for name, f in run.items():
                    outs[name] = f(c, s).float().clamp(0, 1)
                for m, o in outs.items():
                    per[m].append(scores(judge, o, c, s))
                    outputs[(m, cn, sn)] = o
    if bar is not None:
        bar.close()
    table = {m: {k: float(np.mean([d[k] for d in per[m]])) for k in per[m][0]} for m in methods}
    return methods, per, table, outputs


def protocol_strings(n_pairs: int, size: int, pairs_of: str = "held-out pairs") -> dict[str, str]:
    """Metric -> protocol, in the short form of Weights.protocols (``pairs_of``: what the pairs are, for a set
    other than the held-out one)."""
    pairs = f"{n_pairs} {pairs_of} at {size} px"
    return {"content_loss_judge": f"{JUDGE} judge, {pairs}", "style_loss_judge": f"{JUDGE} judge, {pairs}",
            "palette_l1": f"RGB palette distance, {pairs}", "ssim_to_content": f"luminance SSIM to the photo, {pairs}"}


def evaluate_stylizer(model: Any, job: Any) -> dict[str, Any]:
    """The registered evaluator: ``zoo eval NAME --data STYLE_DATA [--set size=256] [--set heldout=skimage]``."""
    settings = dict(getattr(job, "settings", {}) or {})
    unknown = sorted(set(settings) - {"size", "heldout", "judge_weights"})
    if unknown:
        raise DataError(f"the style-transfer judge takes --set size=N, heldout={'|'.join(SETS)} and judge_weights=FILE; "
                        f"not {unknown}")
    size = int(settings.get("size", 256))
    which = str(settings.get("heldout", "skimage"))
    contents, styles = held_out_set(job.data, size, which)
    limit = getattr(job, "n_samples", None)
    if limit:  # -n N: the first N photos (each with every painting): a smaller protocol of its own
        contents = dict(list(contents.items())[: max(1, -(-int(limit) // len(styles)))])
    judge = judge_network(settings.get("judge_weights"))
    _, per, table, _ = evaluate_pairs({"model": model}, contents, styles, judge,
                                      progress=bool(getattr(job, "progress", True)))
    n = len(contents) * len(styles)
    protocols = protocol_strings(n, size)
    out: dict[str, Any] = {_KEYS[k]: round(v, 4) for k, v in table["model"].items()}
    out["protocols"] = protocols
    out["protocol"] = (f"the style-transfer judge ({JUDGE}, float32): {n} held-out pairs ({', '.join(contents)} x "
                       f"{', '.join(styles)}), {size}x{size} centre crops, alpha 1")
    out["protocol_info"] = {"evaluator": "style-judge", "network": JUDGE, "reference": f"held-out set {which}: "
                            f"{list(contents)} x {list(styles)}", "split": "held-out", "n_samples": n, "size": size}
    out["references"] = {m: {_KEYS[k]: round(v, 4) for k, v in table[m].items()}
                         for m in ("content image", "colour transfer")}
    out["per_pair"] = [{"content": cn, "style": sn, **{_KEYS[k]: round(v, 4) for k, v in d.items()}}
                       for (cn, sn), d in zip([(c, s) for c in contents for s in styles], per["model"])]
    return out


__all__ = ["HELD_OUT_STYLES", "JUDGE", "METRICS", "SETS", "SKIMAGE_HELD_OUT", "WALLPAPER_HELD_OUT", "colour_transfer",
           "evaluate_pairs", "evaluate_stylizer", "held_out_set", "judge_network", "luminance", "protocol_strings",
           "scores", "stylizer"]
