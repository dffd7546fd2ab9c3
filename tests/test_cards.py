"""Model cards: every card in cards/ passes the schema; registry records agree with
the files they pin; cards are read with huggingface_hub's ModelCard."""

from __future__ import annotations

import json

import pytest
from conftest import CARDS, card_repos

import zoo
from zoo.cards import check_card, parse_card, read_card_file, render
from zoo.hub import sha256_file
from zoo.publish import folder_revision

REPOS = card_repos()


def test_there_are_cards():
    assert REPOS, "cards/ holds no Hub-repo folder"


@pytest.mark.parametrize("repo_id,folder", REPOS, ids=[r for r, _ in REPOS])
def test_every_card_passes_the_schema(repo_id, folder):
    problems = check_card((folder / "README.md").read_text(), str(folder))
    assert not problems, "\n".join(map(str, problems))
    # weights derived on the user's machine (zoo.derived) are not committed; every other folder has its file
    assert (folder / "model.safetensors").is_file() or repo_id in _derived_repos()
    config = json.loads((folder / "config.json").read_text())
    assert "architecture" in config and "config" in config


def _derived_repos() -> set[str]:
    return {w.repo_id for n in zoo.list_models(pretrained=True) if (w := zoo.model_info(n).weights).derive}


def _registered_in_cards():
    out = []
    for name in zoo.list_models(pretrained=True):
        w = zoo.model_info(name).weights
        if (CARDS / w.repo_id).is_dir():
            out.append(w)
    return out


def test_every_card_folder_is_registered():
    registered = {w.repo_id for w in _registered_in_cards()}
    assert registered == {r for r, _ in REPOS}


@pytest.mark.parametrize("w", _registered_in_cards(), ids=lambda w: w.name)
def test_records_pin_exactly_the_files_in_cards(w):
    folder = CARDS / w.repo_id
    if w.derive:  # the complete folder is the one derived on this machine, card and config copied from cards/
        from zoo.derived import find_or_derive

        f = find_or_derive(w)
        for name in ("README.md", "config.json"):
            assert (f.parent / name).read_bytes() == (folder / name).read_bytes(), f"{w.name}: stale derived {name}"
        folder = f.parent
    f = folder / w.filename
    assert sha256_file(f) == w.sha256, f"{w.name}: sha256 in the registry is stale"
    assert f.stat().st_size == w.size
    assert folder_revision(folder) == w.revision, (
        f"{w.name}: the registered revision is not the commit sha of {folder}; update it to "
        f"{folder_revision(folder)}"
    )
    config = json.loads((folder / "config.json").read_text())
    assert dict(w.config) == config["config"]
    assert w.architecture == config["architecture"]
    assert (w.source == "zoo" or w.derive) and w.verified


@pytest.mark.parametrize("w", _registered_in_cards(), ids=lambda w: w.name)
def test_card_through_the_api_from_the_embedded_mirror(w, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    card = zoo.card(w.name)
    assert card.data.library_name == "zoo"
    assert card.data.license == w.license
    text = render(card)
    assert "HOW TO USE" in text.upper() and "license:" in text


def test_card_through_olah(use_olah):
    w = _registered_in_cards()[0]
    card = zoo.card(w.name)
    assert card.data.to_dict()["library_name"] == "zoo"


GOOD = (CARDS / REPOS[0][0] / "README.md").read_text() if REPOS else ""


@pytest.mark.parametrize("mutate,expect", [
    (lambda t: t.replace("library_name: zoo", "library_name: other"), "library_name must be 'zoo'"),
    (lambda t: t.replace("## Limitations", "## Nothing to see"), "missing section '## Limitations'"),
    (lambda t: t.replace("zoo.load(", "zoo.lod("), "zoo.load"),
    (lambda t: t.split("\n---", 1)[1], "front matter"),
    (lambda t: t.replace("license:", "license: [unclosed", 1), "invalid YAML"),
])
def test_schema_catches_defects(mutate, expect):
    problems = check_card(mutate(GOOD))
    assert any(expect in p.message for p in problems), problems


def test_malformed_card_error_has_file_and_line(tmp_path):
    f = tmp_path / "README.md"
    f.write_text("---\nlicense: mit\ntags: [a, b\nlibrary_name: zoo\n---\n# x\n")
    with pytest.raises(zoo.CardError) as e:
        read_card_file(f)
    assert str(f) in str(e.value) and e.value.line is not None and 2 <= e.value.line <= 5


def test_fuzz_card_reader_raises_only_card_errors():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=400), st.booleans())
    def run(text, with_front):
        doc = ("---\n" + text + "\n---\n# t\n") if with_front else text
        try:
            parse_card(doc, "fuzz.md")
        except zoo.CardError as e:
            assert "fuzz.md" in str(e)
        check_card(doc)  # never raises

    run()
