"""The plugin host: discovery, isolation of broken plugins, allow/disable lists, duplicates."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from tinyplugin import install_model_module, plugin_source

import zoo
from zoo.plugins import get_host

BUILTINS = {"adain", "dcgan", "gan", "sngan", "wgan"}


def test_builtins_are_entry_points_and_load():
    names = {p.name for p in zoo.list_plugins()}
    assert BUILTINS <= names
    for p in zoo.list_plugins():
        if p.name in BUILTINS:
            assert p.distribution == "zoo-models"
            assert p.state == "ok", p.error


def test_registration_records_the_plugin(fake_plugins):
    site = fake_plugins({"tiny": plugin_source(None)})
    install_model_module(site)
    info = zoo.model_info("tiny")
    assert info.architecture.plugin == "tiny"
    assert info.weights is None
    assert "tiny" in zoo.list_models()
    status = {p.name: p for p in zoo.list_plugins()}["tiny"]
    assert status.registered == ["tiny"] and status.distribution == "fake-zoo-plugins"


def test_plugin_raising_at_import_leaves_the_rest_working(fake_plugins):
    fake_plugins({"boom": "raise RuntimeError('kaput at import')\n"})
    statuses = {p.name: p for p in zoo.list_plugins()}
    assert statuses["boom"].state == "broken"
    assert "kaput at import" in statuses["boom"].error
    assert "dcgan" in zoo.list_models()  # the others still work
    with pytest.raises(zoo.PluginError, match="kaput at import"):
        zoo.model_info("boom.anything")


def test_plugin_raising_at_registration(fake_plugins):
    src = textwrap.dedent("""
        import zoo
        @zoo.hookimpl
        def register_architectures(register):
            raise ValueError("no registering today")
    """)
    fake_plugins({"sulky": src})
    status = {p.name: p for p in zoo.list_plugins()}["sulky"]
    assert status.state == "broken" and "no registering today" in status.error
    assert "dcgan" in zoo.list_models()


def test_plugin_registering_garbage(fake_plugins):
    src = textwrap.dedent("""
        import zoo
        @zoo.hookimpl
        def register_architectures(register):
            register({"name": "dict-is-not-a-record"})
    """)
    fake_plugins({"garbage": src})
    status = {p.name: p for p in zoo.list_plugins()}["garbage"]
    assert status.state == "broken"
    assert "zoo.Architecture or zoo.Weights" in status.error


def test_plugin_registering_an_invalid_record(fake_plugins):
    src = textwrap.dedent("""
        import zoo
        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name="Bad.Name", builder="x:y", default_tag="t",
                                      schema={}, paper="", reference_code=""))
    """)
    fake_plugins({"invalid": src})
    status = {p.name: p for p in zoo.list_plugins()}["invalid"]
    assert status.state == "broken" and "lower case" in status.error


def test_duplicate_name_names_both_plugins(fake_plugins):
    src = textwrap.dedent("""
        import zoo
        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name="dcgan", builder="x:y", default_tag="t",
                                      schema={}, paper="", reference_code=""))
    """)
    fake_plugins({"zz-impostor": src})
    status = {p.name: p for p in zoo.list_plugins()}["zz-impostor"]
    assert status.state == "broken"
    assert "'dcgan'" in status.error and "'dcgan' and by plugin 'zz-impostor'" in status.error
    # the first registration stands
    assert zoo.model_info("dcgan").architecture.plugin == "dcgan"


def test_weights_for_unknown_architecture_are_rejected(fake_plugins):
    src = textwrap.dedent("""
        import zoo
        @zoo.hookimpl
        def register_weights(register):
            register(zoo.Weights(name="ghost.x", repo_id="a/b", revision="0"*40, sha256="0"*64,
                                 size=1, config={}, license="mit", dataset="none"))
    """)
    fake_plugins({"ghost": src})
    status = {p.name: p for p in zoo.list_plugins()}["ghost"]
    assert status.state == "broken" and "no plugin registered" in status.error
    assert "ghost.x" not in zoo.list_models()


def test_allow_list_and_disable_list(fake_plugins, monkeypatch, tmp_path):
    site = fake_plugins({"tiny": plugin_source(None)})
    install_model_module(site)
    monkeypatch.setenv("ZOO_PLUGINS", "tiny")
    from zoo.plugins import reset_host

    reset_host()
    assert zoo.list_models() == ["tiny"]
    states = {p.name: p.state for p in zoo.list_plugins()}
    assert states["dcgan"] == "disabled" and states["tiny"] == "ok"

    monkeypatch.delenv("ZOO_PLUGINS")
    conf = tmp_path / "zoo.toml"
    conf.write_text('[plugins]\ndisable = ["tiny"]\n')
    monkeypatch.setenv("ZOO_CONFIG", str(conf))
    reset_host()
    assert "tiny" not in zoo.list_models()
    assert {p.name: p.state for p in zoo.list_plugins()}["tiny"] == "disabled"


def test_host_is_built_once_per_process():
    assert get_host() is get_host()


def test_listing_imports_no_torch():
    code = textwrap.dedent("""
        import sys, zoo
        zoo.list_models(); zoo.model_info("dcgan"); zoo.list_plugins()
        from zoo.cli import cli
        from click.testing import CliRunner
        for args in (["list"], ["info", "dcgan"], ["plugins"], ["card", "dcgan"]):
            r = CliRunner().invoke(cli, args)
            assert r.exit_code == 0, r.output
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    import os

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
