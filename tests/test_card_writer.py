"""zoo.card_writer: the one writer of cards; zoo.cards.render through rich, torch-free."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

import zoo
from zoo.card_writer import Card, Citation, Metric, Result, SampleGrid, Training, generator_snippet, render, write
from zoo.cards import check_card


def _card(**kw) -> Card:
    base = dict(
        name="toy.demo", title="toy.demo", summary="A toy generator.", license="mit", tags=("gan", "toy"),
        intended_use="Tests.", how_to_use=generator_snippet("toy.demo"), training_data="None.",
        training=Training("Seeded init.", command="python -m toy.make --seed 0"), evaluation="Measured by p.",
        limitations="Noise.", citation=Citation("Author. A paper. 2024.", "https://example.org/code"),
        architecture="toy", sample_grid=SampleGrid("samples.png", "64 samples."),
        results=(Result("unconditional-image-generation", "MNIST", "ylecun/mnist", "test",
                        (Metric("fid", 3.21987, "FID of 10k samples vs test, protocol p"),)),
                 Result("unconditional-image-generation", "MNIST", "ylecun/mnist", "test",
                        (Metric("fid", 42.72, "published FID, 50k vs train"),), source_name="someone/repo",
                        source_url="https://example.org", protocol="50k vs train")),
    )
    base.update(kw)
    return Card(**base)


def test_written_card_passes_the_schema_and_reads_back_with_huggingface_hub(tmp_path):
    from huggingface_hub import ModelCard

    path = write(_card(), tmp_path)
    text = path.read_text()
    assert check_card(text) == []
    card = ModelCard.load(path)
    assert card.data.library_name == "zoo" and card.data.license == "mit"
    front = yaml.safe_load(text.split("---")[1])
    results = front["model-index"][0]["results"]
    # a quoted number on the same split stays its own result with its source (not merged into the measured one)
    assert len(results) == 2 and results[1]["source"]["name"] == "someone/repo"
    assert results[0]["metrics"][0] == {"type": "fid", "value": 3.22, "name": "FID of 10k samples vs test, protocol p"}
    assert "Published for this recipe: FID 42.72 (someone/repo; 50k vs train)." in text
    assert "Author. A paper. 2024." in text and "Reference code: https://example.org/code" in text
    assert "![samples](samples.png)" in text and "python -m toy.make --seed 0" in text
    assert text.index("## Evaluation") < text.index("## Limitations") < text.index("## Citation")
    assert "## Notes" not in text
    assert "## Notes\n\nFirst.\n\n## Limitations" in render(_card(notes=("First.",)))


def test_a_card_that_fails_the_schema_is_not_written(tmp_path):
    with pytest.raises(zoo.CardError, match="zoo.load") as e:
        write(_card(how_to_use="pip install toy"), tmp_path)
    assert "docs/plugins.md" in str(e.value)
    assert not (tmp_path / "README.md").exists()
    with pytest.raises(zoo.CardError, match="model-index"):
        write(_card(results=()), tmp_path, needs_metrics=True)
    assert write(_card(results=()), tmp_path).is_file()  # no results: no model-index needed


def test_training_export_takes_the_citation_from_the_architecture_record():
    from zoo.training.export import render_card

    config = {"architecture": "sngan", "config": {"nc": 1}, "recipe_name": "paper", "recipe": {"loss": "hinge"},
              "dataset": "mnist", "training": {"image_size": 32, "steps": 1, "command": "zoo train sngan"}}
    text = render_card(config)
    assert zoo.model_info("sngan").architecture.paper in text
    assert zoo.model_info("sngan").architecture.reference_code in text


def test_the_schema_error_points_at_the_guide(tmp_path):
    from zoo.cards import read_card_file

    f = tmp_path / "README.md"
    f.write_text("---\nlicense: mit\nlibrary_name: zoo\ntags: [a]\n---\n# x\n")
    with pytest.raises(zoo.CardError, match=r"docs/plugins\.md, '4\. Make real weights and a card'"):
        read_card_file(f, needs_metrics=False)


def test_render_uses_rich_without_torch_and_writes_only_its_own_styles():
    code = (
        "import sys, zoo\n"
        "from zoo.cards import render\n"
        "plain = render(zoo.card('dcgan.mnist'))\n"
        "coloured = render(zoo.card('dcgan.mnist'), color=True)\n"
        "assert 'rich' in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)\n"
        "assert '\\x1b' not in plain and 'HOW TO USE' in plain.upper() and 'license: mit' in plain\n"
        "assert '## ' not in plain and '```' not in plain\n"  # Markdown rendered, not echoed
        "rest = coloured.replace('\\x1b[1m', '').replace('\\x1b[4m', '').replace('\\x1b[0m', '')\n"
        "assert '\\x1b[1m' in coloured and '\\x1b' not in rest\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
