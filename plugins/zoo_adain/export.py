"""Writing a trained AdaIN model as a Hub-repo folder (`zoo train adain`'s export).

model.safetensors has the format of cards/zoo/adain-* (the contract): float32, written deterministically;
over the VGG16 it holds ``decoder.*`` only and config.json ``includes`` the encoder from
vgg16.hed-bsds500; over a random VGG-19 it holds ``encoder.*`` and ``decoder.*``. The card is a
:class:`zoo.card_writer.Card`; samples.jpg stylizes a held-out scikit-image photo.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from zoo.card_writer import Card, Citation, Metric, Result, SampleGrid, Training, rows, stylizer_snippet, write

from . import parts as T

if TYPE_CHECKING:  # pragma: no cover
    from zoo.training.engine import Trainer  # here a zoo_adain.trainer.AdaINTrainer, which imports this module


def folder_model_name(out: Path, arch: str = "adain") -> str:
    """``adain.<tag>`` from the folder's name (``adain-vgg16`` -> ``adain.vgg16``)."""
    tag = re.sub(r"[^a-z0-9_-]+", "-", Path(out).name.lower().removeprefix(f"{arch}-")).strip("-_") or "run"
    if not tag[0].isalnum():
        tag = "run-" + tag
    return f"{arch}.{tag}"


def _sample_style(cfg: T.TrainConfig) -> tuple[str, torch.Tensor] | None:
    """A held-out painting of the style folder when it has one, else its first image (256 px centre crop)."""
    from PIL import Image

    folder = Path(cfg.style_dir)
    paths = T.list_images(folder)
    held = [p for p in paths if p.stem in T.HELD_OUT_STYLES]
    pick = (held or paths or [None])[0]
    if pick is None:
        return None
    with Image.open(pick) as im:
        return pick.stem, T.center_square(im.convert("RGB"), 256)


def rewrite_card(folder: Path) -> Path:
    """Re-write ``folder``/README.md from its config.json (after `zoo eval --write` added figures)."""
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    caption = ("scikit-image's astronaut (held out of training), a held-out painting, and this model's "
               "stylization at 256x256.") if (folder / "samples.jpg").is_file() else None
    return write(card_content(config, folder_model_name(folder), caption), folder)


def write_style_folder(trainer: Trainer, out: Path, summary: dict[str, Any]) -> Path:
    from .convert import save_safetensors_deterministic
    from .runs import model_config

    cfg = trainer.cfg
    model = trainer.published().float().eval()
    vgg16 = cfg.encoder == "vgg16-hed"
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()
             if not (vgg16 and k.startswith("encoder."))}
    save_safetensors_deterministic(state, out / "model.safetensors", {"format": "pt"})
    settings = json.loads(json.dumps({k: v for k, v in vars(cfg).items() if k != "out"}))
    name = summary.get("name") or folder_model_name(out)
    config = {
        "architecture": "adain",
        "config": model_config(cfg),
        **({"includes": {"encoder": "vgg16.hed-bsds500"}} if vgg16 else {}),
        "dataset": "style-transfer photos and paintings (see README.md)",
        "training": {**{k: v for k, v in summary.items() if k not in ("architecture", "config", "name")},
                     "settings": settings, "losses": trainer.loss_names, "steps_done": summary.get("steps")},
        "metrics": {},
    }
    old = out / "config.json"
    if old.exists():  # keep metrics measured before when the weights are the same run's
        prev = json.loads(old.read_text())
        if prev.get("training", {}).get("steps_done") == config["training"]["steps_done"] and \
                prev.get("config") == config["config"]:
            config["metrics"] = prev.get("metrics", {})
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    sample = _write_samples(model, cfg, out)
    write(card_content(config, name, sample), out, needs_metrics=False)
    return out


@torch.inference_mode()
def _write_samples(model: torch.nn.Module, cfg: T.TrainConfig, out: Path) -> str | None:
    from PIL import Image

    picked = _sample_style(cfg)
    if picked is None:
        return None
    style_name, s = picked
    c = T.center_square(T.skimage_image("astronaut"), 256)
    y = model(c[None], s[None]).float().clamp(0, 1)[0]
    sheet = torch.cat([c, s, y], dim=2)
    Image.fromarray((sheet.permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")).save(out / "samples.jpg", quality=90)
    return f"scikit-image's astronaut (held out of training), the painting {style_name}, and this model's stylization at 256x256."


def card_content(config: dict[str, Any], name: str, sample_caption: str | None) -> Card:
    """The card of an exported AdaIN folder (rendered by zoo.card_writer)."""
    from zoo.plugins import get_host

    tr = config["training"]
    st = tr.get("settings", {})
    record = get_host().registry.architectures.get("adain")
    citation = Citation.of(record) if record is not None else Citation("Huang, Belongie. ICCV 2017.")
    enc = config["config"].get("encoder")
    over = ("the ImageNet-descended VGG16 `vgg16.hed-bsds500` (its tensors load from that model's file)"
            if enc == "vgg16" else f"a fixed VGG-19-shaped encoder ({st.get('encoder')}, stored in this file)")
    metrics = config.get("metrics", {}) or {}
    evaluation = ("Not evaluated yet: `zoo eval FOLDER --data STYLE_DATA` scores it with the style-transfer judge "
                  "(content loss, style loss, SSIM under vgg16.hed-bsds500 on the held-out pairs).")
    results: tuple[Result, ...] = ()
    protocols = dict(metrics.get("protocols", {}) or {})
    measured = [k for k in protocols if isinstance(metrics.get(k), (int, float))]
    if measured and metrics.get("protocol"):
        table = [("this model", *[f"{float(metrics[k]):.4g}" for k in measured])]
        for row, values in dict(metrics.get("references", {}) or {}).items():
            table.append((f"reference: {row}", *[f"{float(values[k]):.4g}" if k in values else "" for k in measured]))
        evaluation = (f"Measured with `{metrics.get('command', 'zoo eval')}`: {metrics['protocol']}. Lower is better "
                      "except SSIM.\n\n| | " + " | ".join(measured) + " |\n|---|" + "---|" * len(measured) + "\n"
                      + "\n".join("| " + " | ".join(r) + " |" for r in table) + "\n\nProtocols: "
                      + "; ".join(f"{k}: {protocols[k]}" for k in measured) + ".")
        results = (Result("image-to-image", "held-out photo x painting pairs", "zoo-style-heldout", "held-out",
                          tuple(Metric(k, float(metrics[k]), protocols[k]) for k in measured),
                          task_name="Style transfer"),)
    return Card(
        name=name,
        title=name,
        summary=(f"An AdaIN decoder trained by `zoo train adain` over {over}; config "
                 f"`{json.dumps(config['config'], sort_keys=True)}`."),
        license="mit",
        tags=("style-transfer", "adain", "image-to-image", "zoo"),
        pipeline_tag="image-to-image",
        architecture="adain",
        sample_grid=SampleGrid("samples.jpg", sample_caption) if sample_caption else None,
        intended_use="Arbitrary style transfer for research, teaching and art: any photo in the manner of any painting.",
        how_to_use=stylizer_snippet(name),
        training_data=(f"Content: the photos of {list(st.get('content_dirs', []))} and manifests "
                       f"{list(st.get('content_lists', []))}, plus scikit-image's {list(st.get('skimage_content', []))}; "
                       f"styles: the paintings of {st.get('style_dir')}. Held out of training: "
                       f"{list(dict.fromkeys([*T.HELD_OUT_CONTENT, *st.get('held_out_content', [])]))} and "
                       f"{list(dict.fromkeys([*T.HELD_OUT_STYLES, *st.get('held_out_styles', [])]))}."),
        training=Training(
            "Trained with the zoo's training mechanism (`zoo.training.run_loop`) and AdaIN's trainer component "
            f"(`zoo_adain.trainer`), losses {tr.get('losses')}:\n\n"
            + rows([(k, v) for k, v in st.items() if v not in (None, "", [], ())], ("setting", "value")),
            command=str(tr.get("command", "")),
            details=(f"Seed {tr.get('seed')}, {tr.get('steps')} decoder steps, wall time {tr.get('wall_time_s')} s on "
                     f"{tr.get('machine')}, precision {tr.get('precision')}. Final logged losses: "
                     f"{json.dumps(tr.get('final_losses', {}))}."),
        ),
        evaluation=evaluation,
        limitations=("Trained briefly at a small crop size on a CPU unless the settings say otherwise: look at "
                     "samples.jpg before relying on it."),
        citation=citation,
        results=results,
    )
