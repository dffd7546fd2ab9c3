"""The AdaIN training recipes kept in plugins/zoo_adain/recipes/ (`python -m zoo_adain.train @FILE`): the
published card's recipe file gives exactly the settings its config.json records, and options after @FILE win."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "plugins" / "zoo_adain" / "recipes"


def _settings(argv: list[str]) -> dict:
    from zoo_adain.train import parse_args

    cfg = parse_args(argv)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(cfg).items()}


def test_the_published_recipe_file_gives_the_settings_its_card_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the recipe's paths are relative to the repository root
    got = _settings(["@plugins/zoo_adain/recipes/adain-zoo.args", "--out", "x"])
    card = json.loads((ROOT / "cards/zoo/adain-zoo/config.json").read_text())["training"]
    per_run = {"steps", "minutes", "out"}  # how long a stretch runs, and where
    differ = {k: (got[k], card[k]) for k in got if k in card and k not in per_run and got[k] != card[k]}
    assert set(differ) <= {"init_decoder"}, differ
    assert card["init_decoder"].startswith(got["init_decoder"])  # the card adds which weights those were


def test_every_recipe_parses_and_later_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    files = sorted(RECIPES.glob("*.args"))
    assert len(files) >= 3
    for f in files:
        s = _settings([f"@{f.relative_to(ROOT)}", "--out", "x"])
        assert s["held_out_content"] == ["plasma:EveningGlow", "mate:Storm"], f  # the judge's photos stay out
        assert s["loss_network"] == "vgg16-hed" and s["keep_saves"]
    study = _settings(["@plugins/zoo_adain/recipes/encoder-study.args", "--encoder", "vgg16-hed", "--out", "x"])
    assert study["encoder"] == "vgg16-hed" and study["init_decoder"] in (None, "") and study["warmup_steps"] == 200
    judge = _settings(["@plugins/zoo_adain/recipes/judge-losses.args", "--out", "x"])
    assert judge["loss_network_content"] and not judge["normalise_features"]
