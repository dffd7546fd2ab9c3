"""Records, names, lookup and listing; configuration files and variables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.config import load_settings, read_toml
from zoo.registry import Architecture, Field, Registry, Weights


def arch(name="demo", **kw):
    base = dict(name=name, builder="pkg.mod:build", default_tag="base",
                schema={"width": Field("int", 8, min=1), "mode": Field("str", "a", choices=("a", "b"))},
                paper="p", reference_code="r")
    base.update(kw)
    return Architecture(**base)


def weights(name="demo.base", **kw):
    base = dict(name=name, repo_id="org/demo", revision="a" * 40, sha256="b" * 64, size=10,
                config={"width": 8}, license="mit", dataset="none")
    base.update(kw)
    return Weights(**base)


def filled() -> Registry:
    r = Registry()
    r.add(arch(), "p1")
    r.add(arch("other", default_tag="x"), "p1")
    r.add(weights(), "p1")
    r.add(weights("demo.big", config={"width": 64}), "p1")
    return r


def test_bare_name_means_default_tag():
    r = filled()
    assert r.info("demo").name == "demo.base"
    assert r.info("DEMO.Base").weights.config["width"] == 8
    info = r.info("other")  # an architecture whose default tag has no weights
    assert info.name == "other.x" and info.weights is None


def test_unknown_name_suggests_close_names():
    r = filled()
    with pytest.raises(zoo.UnknownModelError) as e:
        r.info("demo.bgi")
    assert "demo.big" in str(e.value) and "zoo list" in str(e.value)
    with pytest.raises(zoo.UnknownModelError, match="demo"):
        r.info("dmeo")
    with pytest.raises(zoo.UnknownModelError):
        r.info("")


def test_list_with_globs_and_pretrained():
    r = filled()
    assert r.list() == ["demo", "demo.base", "demo.big", "other"]
    assert r.list("demo.*") == ["demo.base", "demo.big"]
    assert r.list(["*big", "oth*"]) == ["demo.big", "other"]
    assert r.list(pretrained=True) == ["demo.base", "demo.big"]
    assert r.list("*.BIG", pretrained=True) == ["demo.big"]


def test_duplicates_name_both_plugins():
    r = filled()
    with pytest.raises(zoo.DuplicateNameError, match="'p1' and by plugin 'p2'"):
        r.add(weights(), "p2")


@pytest.mark.parametrize("bad", [
    dict(name="Demo"), dict(name="de.mo"), dict(builder="nocolon"), dict(default_tag="Bad Tag"),
    dict(schema={"x": 3}), dict(converters={"x": "not a path"}),
    dict(recipes={"r": {}}, default_recipe="missing"),
])
def test_invalid_architecture_records(bad):
    with pytest.raises(zoo.InvalidRecordError):
        arch(**bad)


@pytest.mark.parametrize("bad", [
    dict(name="demo"), dict(repo_id="noslash"), dict(revision="main"), dict(sha256="xyz"),
    dict(size=0), dict(filename="model.pth"), dict(source="elsewhere"),
])
def test_invalid_weights_records(bad):
    with pytest.raises(zoo.InvalidRecordError):
        weights(**bad)


def test_config_validation():
    a = arch()
    assert a.validate_config(width=3) == {"width": 3, "mode": "a"}
    with pytest.raises(zoo.ConfigError, match="no config key"):
        a.validate_config(depth=3)
    with pytest.raises(zoo.ConfigError, match="must be int"):
        a.validate_config(width="3")
    with pytest.raises(zoo.ConfigError, match="one of"):
        a.validate_config(mode="c")
    with pytest.raises(zoo.ConfigError, match=">= 1"):
        a.validate_config(width=0)


def test_weights_with_invalid_config_are_dropped():
    r = filled()
    r.add(weights("demo.bad", config={"width": "x"}), "p3")
    problems = r.check_consistency()
    assert problems and problems[0][0] == "p3"
    assert "demo.bad" not in r.weights


# -- zoo.toml ---------------------------------------------------------------

def test_malformed_toml_names_file_and_line(tmp_path):
    f = tmp_path / "zoo.toml"
    f.write_text('[hub]\nendpoint = "http://x"\ntimeout = = 3\n')
    with pytest.raises(zoo.ConfigError) as e:
        read_toml(f)
    assert f"{f}:3:" in str(e.value)


def test_unknown_key_and_wrong_type_name_the_line(tmp_path):
    f = tmp_path / "zoo.toml"
    f.write_text('[hub]\n# comment\nendpont = "x"\n')
    with pytest.raises(zoo.ConfigError, match=r":3: unknown key 'endpont'"):
        read_toml(f)
    f.write_text('[plugins]\ndisable = "dcgan"\n')
    with pytest.raises(zoo.ConfigError, match=r":2: \[plugins\] disable has the wrong type"):
        read_toml(f)


def test_settings_precedence(tmp_path, monkeypatch):
    f = tmp_path / "zoo.toml"
    f.write_text('[hub]\nendpoint = "http://from-file"\ntimeout = 3\n[mirrors]\npaths = ["m1", "@cards"]\n')
    s = load_settings({"ZOO_CONFIG": str(f)})
    assert s.endpoint == "http://from-file" and s.timeout == 3.0
    assert s.mirrors[0] == tmp_path / "m1" and s.mirrors[1].name == "cards"
    s = load_settings({"ZOO_CONFIG": str(f), "HF_ENDPOINT": "http://env/", "HF_HUB_OFFLINE": "1",
                       "ZOO_MIRRORS": "/a:/b", "ZOO_PLUGINS": "Dcgan, gan"})
    assert s.endpoint == "http://env" and s.offline
    assert [str(m) for m in s.mirrors[:2]] == ["/a", "/b"] and s.mirrors[2].name == "cards"  # @cards kept
    assert s.plugins_allow == ("dcgan", "gan")
    with pytest.raises(zoo.ConfigError, match="ZOO_TIMEOUT"):
        load_settings({"ZOO_CONFIG": str(f), "ZOO_TIMEOUT": "soon"})
    with pytest.raises(zoo.ConfigError, match="does not exist"):
        load_settings({"ZOO_CONFIG": str(tmp_path / "nope.toml")})


def test_shipped_zoo_toml_is_valid_and_commented():
    from zoo.config import embedded_path

    path = embedded_path("zoo.toml")
    data = read_toml(path)
    text = path.read_text()
    for section in data.values():
        for key in section:
            line = next(i for i, ln in enumerate(text.splitlines()) if ln.startswith(f"{key} ="))
            assert text.splitlines()[line - 1].startswith("#"), f"key {key} has no comment above it"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_config_reader_raises_only_config_errors(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "zoo.toml"
        f.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            read_toml(f)
        except zoo.ConfigError as e:
            assert str(f) in str(e)
