"""Messages that said the wrong thing (issue 23): each now names the real fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli


def test_offline_download_of_a_registered_name_says_to_go_online_or_use_a_mirror(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from zoo.plugins import reset_host

    reset_host()
    res = CliRunner().invoke(cli, ["download", "dcgan.mnist"])
    assert res.exit_code != 0
    out = res.output
    assert "Unset HF_HUB_OFFLINE" in out and "zoo.load('dcgan.mnist')" in out and "cards/" in out
    assert "hf-hub:" not in out and "Run `zoo download`" not in out


@pytest.mark.parametrize("rev", ["<commit>", "main~1", "a b", "v1:2", "-x", "branch/"])
def test_a_revision_that_is_no_commit_or_branch_is_refused_before_the_network(rev, monkeypatch):
    import huggingface_hub

    def no_network(*a, **k):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the network was reached")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    with pytest.raises(zoo.InvalidRefError, match="neither a commit sha|may not hold"):
        zoo.load(f"hf-hub:org/name@{rev}")
    with pytest.raises(zoo.InvalidRefError):
        zoo.load("hf-hub:org/name", revision=rev)


def test_placeholder_revision_says_what_to_put_there():
    with pytest.raises(zoo.InvalidRefError, match="placeholder: put the commit that `zoo push` printed"):
        zoo.load("hf-hub:org/name@<commit>")
    from zoo.refs import parse_ref

    assert parse_ref("hf-hub:org/name@refs/pr/1").revision == "refs/pr/1"
    assert parse_ref("hf-hub:org/name@v1.0").revision == "v1.0"
    assert parse_ref("hf-hub:org/name@" + "a" * 40).pinned


def test_stylize_help_offers_only_models_that_exist():
    res = CliRunner().invoke(cli, ["stylize", "--help"])
    assert res.exit_code == 0
    assert "adain.paper" not in res.output
    import re

    for name in re.findall(r"\b(adain(?:\.[a-z0-9-]+)?)\b", res.output):
        zoo.model_info(name)  # every model the help names is registered


def test_card_pictures_are_the_cards_own_relative_images():
    from zoo.publish import card_pictures

    text = ('![samples](samples.png)\n![x](https://e.com/a.png) ![y](../up.png) ![z](/abs.png)\n'
            '<img src="grids/heldout.jpg" width=3> ![again](samples.png) ![doc](notes.txt)')
    assert card_pictures(text) == ["samples.png", "grids/heldout.jpg"]


def test_zoo_download_fetches_the_pictures_the_card_shows(use_olah):
    from zoo.hub import from_cache

    out = CliRunner().invoke(cli, ["download", "dcgan.mnist"])
    assert out.exit_code == 0, out.output
    w = zoo.model_info("dcgan.mnist").weights
    assert "samples.png hub" in out.output
    cached = from_cache(w.repo_id, "samples.png", w.revision)
    assert cached is not None and cached.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
