"""ZOO_MIRRORS keeps the built-in mirror unless told otherwise, and the conformance kit catches a
revision pin that no source has."""

from __future__ import annotations

import dataclasses
import os

import pytest
from tinyplugin import install_model_module, make_repo, plugin_source

import zoo
from zoo import testing
from zoo.config import embedded_path, load_settings

CARDS = embedded_path("cards")


@pytest.mark.parametrize("value,expected", [
    ("/srv/zoo", ["/srv/zoo", "@cards"]),
    (f"/a{os.pathsep}/b", ["/a", "/b", "@cards"]),
    (f"@cards{os.pathsep}/srv/zoo", ["@cards", "/srv/zoo"]),  # named: kept where it is, once
    (f"/srv/zoo{os.pathsep}-@cards", ["/srv/zoo"]),  # opted out
    (f"-@cards{os.pathsep}/srv/zoo", ["/srv/zoo"]),
    ("-@cards", []),
    ("", []),  # set and empty: no mirror at all
])
def test_zoo_mirrors_keeps_the_builtin_mirror_by_default(value, expected):
    mirrors = load_settings({"ZOO_MIRRORS": value}).mirrors
    assert [("@cards" if m == CARDS else str(m)) for m in mirrors] == expected


def test_the_guides_recipe_keeps_builtin_models_working(tmp_path, monkeypatch):
    """`ZOO_MIRRORS=$PWD/hub HF_HUB_OFFLINE=1` (docs/plugins.md) for one's own plugin: the built-in
    models are still found, in the built-in mirror; `-@cards` is the documented way out."""
    (tmp_path / "hub").mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "hub"))
    card = zoo.card("dcgan.mnist")
    assert card.data.library_name == "zoo"
    monkeypatch.setenv("ZOO_MIRRORS", f"{tmp_path / 'hub'}{os.pathsep}-@cards")
    from zoo.plugins import reset_host

    reset_host()
    with pytest.raises(zoo.errors.WeightsNotFoundError, match="offline"):
        zoo.card("dcgan.mnist")


# -- the kit: a revision pin that no source has --------------------------------------------------


@pytest.fixture
def tiny(tmp_path, fake_plugins, monkeypatch):
    def install(revision: str | None = None):
        repo = make_repo(tmp_path / "mirror")
        pinned = dataclasses.replace(repo, revision=revision) if revision else repo
        site = fake_plugins({"tiny": plugin_source(pinned)})
        install_model_module(site)
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("ZOO_MIRRORS", str(tmp_path / "mirror"))
        return repo

    return install


def test_check_revision_passes_for_the_folders_publication_revision(tiny, tmp_path):
    tiny()
    assert testing.check_revision("tiny.test") == str(tmp_path / "mirror")


def test_check_revision_catches_a_pin_no_source_has(tiny, tmp_path):
    repo = tiny(revision="0123456789abcdef0123456789abcdef01234567")
    testing.check_weights("tiny.test")  # the sha256 matches: the weights check alone lets it through
    with pytest.raises(testing.ConformanceError) as e:
        testing.check_revision("tiny.test")
    msg = str(e.value)
    assert "no source has its pinned revision '0123456789abcdef0123456789abcdef01234567'" in msg
    assert f"is at revision {repo.revision}" in msg  # what the mirror folder has instead
    assert "not asked (offline)" in msg and "zoo push FOLDER --dry-run" in msg
    with pytest.raises(testing.ConformanceError, match="check_revision"):
        testing.check_plugin("tiny")


def test_check_revision_asks_the_endpoint_when_online(tiny, monkeypatch):
    tiny(revision="0123456789abcdef0123456789abcdef01234567")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("ZOO_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: it could not be asked
    monkeypatch.setenv("ZOO_TIMEOUT", "2")
    from zoo.plugins import reset_host

    reset_host()
    with pytest.raises(testing.ConformanceError, match=r"http://127\.0\.0\.1:9 could not be asked"):
        testing.check_revision("tiny.test")
