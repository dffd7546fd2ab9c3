"""The one writer of model cards: a typed description of a card's content in, Hugging Face card text out.

Every card the zoo writes (``zoo train``, ``zoo eval --write``, ``zoo convert``, the metrics'
classifier, the plugin scaffold) is a :class:`Card` rendered by :func:`render` through one
template (:data:`SECTIONS`): the front matter is huggingface_hub's ``ModelCardData``, the
measured and quoted numbers its ``EvalResult`` (the ``model-index``), and the body the sections of
the zoo's schema (:mod:`zoo.cards`) in a fixed order. :func:`write` renders, checks the text with
:func:`zoo.cards.check_card` and writes ``README.md``; a card that fails the schema is never
written. A plugin may use it too (it is public API)::

    from zoo.card_writer import Card, Citation, Metric, Result, Training, write

    card = Card(name="mynet.demo", title="mynet.demo", summary="...", license="mit", tags=("gan",),
                intended_use="...", how_to_use=generator_snippet("mynet.demo"), training_data="...",
                training=Training("...", command="python -m mynet.train"), evaluation="...",
                limitations="...", citation=Citation(paper="Author. Title. 2024."),
                results=(Result("unconditional-image-generation", "MNIST", "ylecun/mnist", "test",
                                (Metric("fid", 3.2, "FID of 10k samples vs test, ..."),)),))
    write(card, "hub/my-org/mynet-demo")

Importing this module imports neither torch nor huggingface_hub (both only when rendering).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CardError

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import ModelCard

    from ..registry import Architecture

__all__ = [
    "Card",
    "Citation",
    "Metric",
    "Result",
    "SampleGrid",
    "Training",
    "generator_snippet",
    "render",
    "to_model_card",
    "write",
]


@dataclass(frozen=True)
class Metric:
    """One number of a model-index result; ``name`` says how it was measured (the schema needs it)."""

    type: str  # fid, kid, accuracy, ...
    value: float
    name: str

    def rounded(self) -> float | int:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise CardError(f"metric {self.type!r}: value must be a number, got {self.value!r}")
        return self.value if isinstance(self.value, int) else float(f"{float(self.value):.4g}")


@dataclass(frozen=True)
class Result:
    """A model-index result: one task on one dataset split, its metrics. With ``source_name`` it quotes a
    number published elsewhere (the Hub's ``source`` field), not one measured here."""

    task_type: str
    dataset_name: str
    dataset_type: str
    split: str
    metrics: tuple[Metric, ...]
    task_name: str | None = None
    source_name: str | None = None
    source_url: str | None = None
    protocol: str = ""  # for a quoted number: how its source measured it (shown in the Evaluation section)

    @property
    def published(self) -> bool:
        return bool(self.source_name)


@dataclass(frozen=True)
class Citation:
    """What the Citation section cites: the architecture's paper and reference code (from its
    ``Architecture`` record), then any others (the dataset's, ...)."""

    paper: str
    reference_code: str = ""
    others: tuple[str, ...] = ()

    @classmethod
    def of(cls, arch: Architecture, *others: str) -> Citation:
        return cls(arch.paper, arch.reference_code, tuple(o for o in others if o))


@dataclass(frozen=True)
class SampleGrid:
    """A picture of samples in the repo folder, shown under the description."""

    file: str
    caption: str = ""


@dataclass(frozen=True)
class Training:
    """The Training procedure section: prose, the command that reproduces the weights, what follows it."""

    text: str
    command: str = ""
    command_note: str = "Command:"
    details: str = ""


@dataclass(frozen=True)
class Card:
    """Everything a model card says. ``name`` is what ``zoo.load`` takes; ``how_to_use`` must show it."""

    name: str
    title: str
    summary: str  # the model description (Markdown)
    license: str
    tags: tuple[str, ...]
    intended_use: str
    how_to_use: str
    training_data: str
    training: Training
    evaluation: str  # the protocol and what the numbers mean (Markdown); quoted results are added after it
    limitations: str
    citation: Citation
    datasets: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    base_model: str | None = None
    architecture: str = ""  # the architecture's registered name, shown with its paper and reference code
    sample_grid: SampleGrid | None = None
    results: tuple[Result, ...] = ()
    notes: tuple[str, ...] = ()  # paragraphs of an optional Notes section, before Limitations
    extra_metadata: dict[str, Any] = field(default_factory=dict)  # more front matter keys, as given


# The template: (heading, how to fill it). One place says which sections a card has and in which order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("Model description", "_description"),
    ("Intended use", "intended_use"),
    ("How to use", "how_to_use"),
    ("Training data", "training_data"),
    ("Training procedure", "_training"),
    ("Evaluation", "_evaluation"),
    ("Notes", "_notes"),  # left out when empty
    ("Limitations", "limitations"),
    ("Citation", "_citation"),
)


def generator_snippet(name: str, *, cli: bool = True) -> str:
    """The How-to-use text of an image generator registered as ``name``."""
    text = (f'```python\nimport zoo\n\nG = zoo.load("{name}")            # the generator, eval mode\n'
            "images = G.sample(16, seed=0)     # float tensor in [0, 1], shape (16, C, H, W)\n```")
    return text + (f"\n\nor `zoo sample {name} -n 64 --seed 0 -o grid.png`." if cli else "")


def stylizer_snippet(name: str, *, cli: bool = True) -> str:
    """The How-to-use text of a style-transfer model registered as ``name`` (the stylize contract of
    docs/plugins.md: paths, PIL images or tensors in; the same kind out)."""
    text = (f'```python\nimport zoo\n\nmodel = zoo.load("{name}")\n'
            'image = model.stylize("photo.jpg", "painting.jpg", alpha=1.0)   # a PIL image\n'
            'image.save("out.png")\n```')
    return text + (f"\n\nor `zoo stylize photo.jpg painting.jpg --model {name} -o out.png`." if cli else "")


def _description(card: Card) -> str:
    parts = [card.summary.strip()]
    if card.architecture:
        ref = f" Reference code: {card.citation.reference_code}." if card.citation.reference_code else ""
        parts.append(f"Architecture `{card.architecture}`: {card.citation.paper.strip()}{ref}")
    if card.sample_grid is not None:
        g = card.sample_grid
        parts.append(f"![samples]({g.file})" + (f"\n\n`{g.file}`: {g.caption.strip()}" if g.caption else ""))
    return "\n\n".join(p for p in parts if p)


def _training(card: Card) -> str:
    t = card.training
    parts = [t.text.strip()]
    if t.command:
        parts.append(f"{t.command_note.strip()}\n\n```\n{t.command.strip()}\n```".strip())
    parts.append(t.details.strip())
    return "\n\n".join(p for p in parts if p)


def _evaluation(card: Card) -> str:
    parts = [card.evaluation.strip()]
    for r in card.results:
        if r.published:
            numbers = ", ".join(f"{m.type.upper()} {m.rounded():.4g}" for m in r.metrics)
            how = "; ".join(x for x in (r.source_name or "", r.protocol) if x)
            parts.append(f"Published for this recipe: {numbers} ({how}).")
    return "\n\n".join(p for p in parts if p)


def _notes(card: Card) -> str:
    return "\n\n".join(p.strip() for p in card.notes if p.strip())


def _citation(card: Card) -> str:
    c = card.citation
    lines = [c.paper.strip()]
    if c.reference_code:
        lines.append(f"Reference code: {c.reference_code.strip()}")
    lines.extend(o.strip() for o in c.others)
    return "```\n" + "\n".join(lines) + "\n```"


def _model_index(card: Card) -> list[dict[str, Any]]:
    """The model-index through huggingface_hub's EvalResult, one entry per :class:`Result` (the Hub's own
    grouping by task and dataset would merge a quoted number into a measured one of the same split)."""
    from huggingface_hub import EvalResult
    from huggingface_hub.repocard_data import eval_results_to_model_index

    results: list[dict[str, Any]] = []
    for r in card.results:
        if not r.metrics:
            raise CardError(f"card {card.name!r}: a model-index result on {r.dataset_name} has no metrics")
        evals = [EvalResult(task_type=r.task_type, task_name=r.task_name, dataset_type=r.dataset_type,
                            dataset_name=r.dataset_name, dataset_split=r.split, metric_type=m.type,
                            metric_value=m.rounded(), metric_name=m.name, source_name=r.source_name,
                            source_url=r.source_url or None)
                 for m in r.metrics]
        results.extend(eval_results_to_model_index(card.name, evals)[0]["results"])
    return [{"name": card.name, "results": results}] if results else []


def front_matter(card: Card) -> str:
    """The YAML front matter (without the ``---`` lines): huggingface_hub's ModelCardData, then the
    model-index."""
    import yaml
    from huggingface_hub import ModelCardData

    data = ModelCardData(license=card.license, library_name="zoo", tags=list(card.tags),
                         datasets=list(card.datasets) or None, pipeline_tag=card.pipeline_tag,
                         base_model=card.base_model, **card.extra_metadata)
    text = data.to_yaml().strip()
    index = _model_index(card)
    if index:
        text += "\n" + yaml.safe_dump({"model-index": index}, sort_keys=False, allow_unicode=True,
                                      width=10_000).strip()
    return text


def render(card: Card) -> str:
    """The card's text: front matter, the title, then :data:`SECTIONS` in order (Notes only when given)."""
    body = [f"# {card.title}"]
    for heading, source in SECTIONS:
        fill = globals()[source](card) if source.startswith("_") else getattr(card, source)
        text = (fill or "").strip()
        if not text and heading == "Notes":
            continue
        body.append(f"## {heading}\n\n{text}")
    return f"---\n{front_matter(card)}\n---\n\n" + "\n\n".join(body) + "\n"


def check(text: str, *, needs_metrics: bool, where: str = "the card") -> None:
    """Raise CardError listing every way ``text`` fails the zoo's schema."""
    from . import CARD_GUIDE, check_card

    problems = check_card(text, where, needs_metrics=needs_metrics)
    if problems:
        raise CardError(f"the card writer produced a card that fails the schema: {'; '.join(map(str, problems))}. "
                        f"Fill the Card's fields ({CARD_GUIDE}).", path=where)


def write(card: Card, folder: str | Path, *, needs_metrics: bool | None = None,
          filename: str = "README.md") -> Path:
    """Render ``card``, check it against the schema (a model-index is required when the card has
    results, or when ``needs_metrics``), and write ``folder/README.md``; returns the path."""
    text = render(card)
    path = Path(folder) / filename
    check(text, needs_metrics=bool(card.results) if needs_metrics is None else needs_metrics, where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def to_model_card(card: Card) -> ModelCard:
    """The card as huggingface_hub's ``ModelCard`` (what ``ModelCard.load`` gives for the written file)."""
    from huggingface_hub import ModelCard

    return ModelCard(render(card))


def rows(pairs: Sequence[tuple[Any, Any]], header: tuple[str, str]) -> str:
    """A two-column Markdown table."""
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in pairs]
    return "\n".join(lines)
