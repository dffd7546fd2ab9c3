"""The register_losses, register_recipes and register_commands hooks: records, conflicts, reserved names,
lazy commands, `zoo plugins --check`, and `zoo train`'s requirements said plainly."""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from tinyplugin import install_model_module, plugin_source

import zoo
from zoo.cli import cli


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def status(name: str):
    return {p.name: p for p in zoo.list_plugins()}[name]


LOSS_PLUGIN = """
import zoo

@zoo.hookimpl
def register_losses(register):
    register(zoo.Loss("least-squares-test", d="fakeplug_lossfns:d", g="fakeplug_lossfns:g",
                      paper="Mao et al. 2017", aliases=("lst",)))

@zoo.hookimpl
def register_recipes(register):
    register(zoo.TrainingRecipe("dcgan", "ls-test", {"loss": "lst", "lr": 1e-4, "batch_size": 16}))
"""

LOSS_FUNCTIONS = """
def d(real, fake):
    return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()

def g(fake):
    return 0.5 * ((fake - 1) ** 2).mean()
"""


# -- records -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [
    dict(name="Bad"), dict(name="has.dot"), dict(d="nocolon"), dict(g="a:b c"), dict(aliases="lst"),
    dict(aliases=("Bad Alias",)), dict(gradient_penalty="yes"),
])
def test_invalid_loss_records(bad):
    fields = dict(name="ls", d="m:d", g="m:g") | bad
    with pytest.raises(zoo.InvalidRecordError):
        zoo.Loss(**fields)


def test_loss_aliases_are_normalised():
    assert zoo.Loss("ls", d="m:d", g="m:g", aliases=["LS_GAN"]).names == ("ls", "ls-gan")


@pytest.mark.parametrize("bad", [
    dict(architecture="Dc.gan"), dict(name="Bad Name"), dict(settings=[1]), dict(settings={"loss": 3}),
    dict(settings={"f": object()}), dict(settings={"lr": float("nan")}),
])
def test_invalid_recipe_records(bad):
    fields = dict(architecture="dcgan", name="r", settings={}) | bad
    with pytest.raises(zoo.InvalidRecordError):
        zoo.TrainingRecipe(**fields)


@pytest.mark.parametrize("bad", [dict(name="Hello"), dict(name="-x"), dict(command="nocolon"), dict(help=3)])
def test_invalid_command_records(bad):
    with pytest.raises(zoo.InvalidRecordError):
        zoo.Command(**(dict(name="hello", command="m:cmd") | bad))


# -- losses and recipes through the hooks ---------------------------------------------------------------


def test_builtins_register_the_losses_through_the_hook():
    from zoo.plugins import get_host

    losses = get_host().registry.losses
    assert {n: r.plugin for n, r in losses.items()} == {
        "bce-nonsaturating": "gan", "bce-minimax": "gan", "wasserstein": "wgan", "wasserstein-gp": "wgan",
        "hinge": "sngan", "adain-content": "adain", "adain-style": "adain"}
    assert {n for n, r in losses.items() if r.kind != "adversarial"} == {"adain-content", "adain-style"}
    assert "loss:hinge" in status("sngan").provides
    # every loss name a committed recipe or card uses still resolves
    from zoo.training.losses import get_loss

    for name in ("bce-nonsaturating", "minimax", "bce", "wasserstein", "wgan", "wasserstein-gp", "wgan-gp",
                 "wgan_gp", "hinge"):
        assert get_loss(name).name in losses


def test_the_host_registers_no_loss_of_its_own(fake_plugins, monkeypatch):
    fake_plugins({"tiny": plugin_source(None)})
    monkeypatch.setenv("ZOO_PLUGINS", "tiny")
    from zoo.plugins import reset_host
    from zoo.training.losses import get_loss

    reset_host()
    with pytest.raises(zoo.ConfigError, match=r"choose one of none \(no loaded plugin registers a loss\)"):
        get_loss("hinge")


def test_a_plugin_brings_a_loss_and_a_recipe_for_another_plugins_architecture(fake_plugins):
    site = fake_plugins({"lsq": LOSS_PLUGIN})
    (site / "fakeplug_lossfns.py").write_text(LOSS_FUNCTIONS)
    import torch

    from zoo.training.losses import get_loss
    from zoo.training.recipes import architecture_recipe

    loss = get_loss("LST")
    assert loss.name == "least-squares-test" and loss.plugin == "lsq"
    assert loss.g(torch.ones(3)).item() == 0.0 and loss.d(torch.ones(3), torch.zeros(3)).item() == 0.0
    arch = zoo.model_info("dcgan").architecture
    assert set(arch.recipes) == {"paper", "ls-test"} and arch.default_recipe == "paper"
    r = architecture_recipe(arch, "ls-test")
    assert (r.loss, r.lr_g, r.batch_size) == ("lst", 1e-4, 16)
    s = status("lsq")
    assert s.state == "ok" and s.registered == [] and sorted(s.provides) == ["loss:least-squares-test",
                                                                             "recipe:dcgan:ls-test"]
    with pytest.raises(zoo.ConfigError, match=r"no recipe 'nope'; its recipes: ls-test \(plugin lsq, loss lst\), "
                                              r"paper \(plugin dcgan, loss bce-nonsaturating, default\)"):
        architecture_recipe(arch, "nope")
    # zoo info shows the recipes and who brought them
    out = run("info", "dcgan").output
    assert re.search(r"recipes\s*: ls-test \(plugin lsq, loss lst\), paper \(.*default\)", out), out


def test_unknown_loss_names_every_loss_and_its_plugin():
    from zoo.training.losses import get_loss

    with pytest.raises(zoo.ConfigError) as e:
        get_loss("least-squares")
    assert "hinge (plugin sngan)" in str(e.value) and "wasserstein-gp (plugin wgan; also wgan-gp)" in str(e.value)


@pytest.mark.parametrize("claim", ["hinge", "wgan"])
def test_a_builtin_loss_name_or_alias_is_reserved(fake_plugins, claim):
    src = f"""
import zoo

@zoo.hookimpl
def register_losses(register):
    register(zoo.Loss("mine", d="m:d", g="m:g", aliases=("{claim}",)) if "{claim}" != "hinge"
             else zoo.Loss("hinge", d="m:d", g="m:g"))
"""
    fake_plugins({"thief": src})
    s = status("thief")
    assert s.state == "broken" and f"loss '{claim}'" in s.error and "built-in names are reserved" in s.error
    from zoo.training.losses import get_loss

    assert get_loss(claim).plugin in ("sngan", "wgan")


def test_two_plugins_registering_one_loss_names_both(fake_plugins):
    src = """
import zoo

@zoo.hookimpl
def register_losses(register):
    register(zoo.Loss("twice", d="m:d", g="m:g"))
"""
    fake_plugins({"aa-first": src, "bb-second": src})
    assert status("aa-first").state == "ok"
    err = status("bb-second").error
    assert "loss 'twice' is registered twice: by plugin 'aa-first' and by plugin 'bb-second'" in err


def test_a_builtin_recipe_name_is_reserved_but_new_recipes_are_welcome(fake_plugins):
    src = """
import zoo

@zoo.hookimpl
def register_recipes(register):
    register(zoo.TrainingRecipe("dcgan", "paper", {"loss": "hinge"}))
"""
    fake_plugins({"override": src})
    s = status("override")
    assert s.state == "broken" and "recipe 'dcgan:paper'" in s.error
    assert zoo.model_info("dcgan").architecture.recipes["paper"]["loss"] == "bce-nonsaturating"


def test_wrong_record_types_and_unknown_architectures_break_only_that_plugin(fake_plugins):
    garbage = """
import zoo

@zoo.hookimpl
def register_losses(register):
    register({"name": "dict"})
"""
    orphan = """
import zoo

@zoo.hookimpl
def register_recipes(register):
    register(zoo.TrainingRecipe("no-such-arch", "r", {}))
"""
    fake_plugins({"garbage": garbage, "orphan": orphan})
    assert "register() takes zoo.Loss, got dict (in register_losses)" in status("garbage").error
    assert "architecture 'no-such-arch', which no plugin registered" in status("orphan").error
    assert "dcgan" in zoo.list_models()


def test_a_recipe_naming_an_unregistered_loss_is_kept_and_check_reports_it(fake_plugins):
    src = """
import zoo

@zoo.hookimpl
def register_recipes(register):
    register(zoo.TrainingRecipe("dcgan", "typo", {"loss": "hnige"}))
"""
    fake_plugins({"typo": src})
    assert status("typo").state == "ok"  # the plugin giving the loss may just be disabled
    r = run("plugins", "--check", ok=False)
    assert r.exit_code == 1 and "recipe 'dcgan:typo'" in r.output and "names loss 'hnige'" in r.output


# -- commands -------------------------------------------------------------------------------------------


COMMAND_PLUGIN = """
import zoo

@zoo.hookimpl
def register_commands(register):
    register(zoo.Command("hello", "fakeplug_hello_cmd:hello", help="Say hello from a plugin."))
"""

COMMAND_MODULE = """
import click

IMPORTED = True

@click.command()
@click.argument("who", default="world")
def hello(who):
    \"\"\"Say hello to WHO.\"\"\"
    click.echo(f"hello, {who}")
"""


def test_a_plugin_command_is_listed_from_its_record_and_imported_only_when_run(fake_plugins):
    site = fake_plugins({"greet": COMMAND_PLUGIN})
    (site / "fakeplug_hello_cmd.py").write_text(COMMAND_MODULE)
    out = run("--help").output
    assert re.search(r"Commands from plugins:\s+.*hello\s+Say hello from a plugin\. \[plugin greet\]", out, re.S)
    assert "fakeplug_hello_cmd" not in sys.modules
    assert run("hello", "zoo").output == "hello, zoo\n"
    assert "fakeplug_hello_cmd" in sys.modules
    assert status("greet").provides == ["command:hello"]


def test_a_command_that_fails_to_import_is_reported_not_fatal(fake_plugins):
    site = fake_plugins({"greet": COMMAND_PLUGIN})
    (site / "fakeplug_hello_cmd.py").write_text("raise SystemExit('the command module exits')\n")
    assert "hello" in run("--help").output  # listing never imports it
    r = run("hello", ok=False)
    assert r.exit_code == 1 and "plugin 'greet' is broken" in r.output and "the command module exits" in r.output
    check = run("plugins", "--check", ok=False)
    assert check.exit_code == 1 and "command 'hello' fakeplug_hello_cmd:hello" in check.output


def test_a_command_that_is_not_a_click_command_is_refused_when_run(fake_plugins):
    site = fake_plugins({"greet": COMMAND_PLUGIN})
    (site / "fakeplug_hello_cmd.py").write_text("def hello():\n    print('not click')\n")
    r = run("hello", ok=False)
    assert r.exit_code == 1 and "not a click command" in r.output


def test_a_plugin_may_not_shadow_a_zoo_command(fake_plugins):
    src = """
import zoo

@zoo.hookimpl
def register_commands(register):
    register(zoo.Command("list", "fakeplug_shadow:evil"))
"""
    fake_plugins({"shadow": src})
    s = status("shadow")
    assert s.state == "broken" and "one of the zoo's own commands" in s.error
    assert "dcgan.mnist" in run("list").output


def test_the_builtin_stylize_command_is_reserved(fake_plugins):
    src = """
import zoo

@zoo.hookimpl
def register_commands(register):
    register(zoo.Command("stylize", "fakeplug_other:stylize"))
"""
    fake_plugins({"other": src})
    assert "command 'stylize'" in status("other").error
    assert zoo.model_info("adain").architecture.plugin == "adain"
    from zoo.plugins import get_host

    assert get_host().registry.commands["stylize"].plugin == "adain"


def test_the_host_command_table_matches_the_cli():
    from zoo.cli import builtin_command_names
    from zoo.plugins import HOST_COMMANDS

    assert builtin_command_names() == set(HOST_COMMANDS)
    assert "stylize" not in HOST_COMMANDS


def test_help_works_when_the_plugins_cannot_load(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "no-such-plugin")
    from zoo.plugins import reset_host

    reset_host()
    out = run("--help").output
    assert "list" in out and "stylize" not in out
    r = run("list", ok=False)
    assert r.exit_code == 1 and "no-such-plugin" in r.output


def test_a_missing_command_mentions_broken_plugins(fake_plugins):
    fake_plugins({"boom": "raise RuntimeError('kaput')\n"})
    r = run("frobnicate", ok=False)
    assert r.exit_code == 2 and "No such command" in r.output and "boom" in r.output


def test_help_and_stylize_help_import_no_torch():
    code = textwrap.dedent("""
        import sys
        from click.testing import CliRunner
        from zoo.cli import cli
        for args in (["--help"], ["stylize", "--help"], ["plugins"]):
            r = CliRunner().invoke(cli, args)
            assert r.exit_code == 0, r.output
        assert "stylize" in CliRunner().invoke(cli, ["--help"]).output
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- plugins --check ------------------------------------------------------------------------------------


def test_check_imports_every_builtin_path():
    r = run("plugins", "--check")
    assert "check: all imports succeed" in r.output


def test_check_reports_a_builder_that_fails_to_import(fake_plugins):
    fake_plugins({"tiny": plugin_source(None)})  # its model module is not installed
    assert "tiny" in run("plugins").output  # without --check nothing is imported
    r = run("plugins", "--check", ok=False)
    assert r.exit_code == 1
    assert "FAILED  tiny: builder of 'tiny' fakeplug_tiny_model:build: ModuleNotFoundError" in r.output
    import json

    data = json.loads(run("plugins", "--check", "--json", ok=False).stdout)
    assert [p["what"] for p in data["problems"]] == ["builder of 'tiny'"]


# -- zoo train: what it needs, said plainly ------------------------------------------------------------


def test_train_without_a_discriminator_says_what_to_add(fake_plugins, tmp_path):
    site = fake_plugins({"tiny": plugin_source(None)})
    install_model_module(site)
    r = run("train", "tiny", "--data", tmp_path, "--dataset", "mnist", "--out", tmp_path / "out", ok=False)
    assert r.exit_code == 1
    assert "components={'discriminator': 'your_package.model:build_discriminator'}" in r.output
    assert "broken" not in r.output and "docs/plugins.md" in r.output
    from zoo.training.run import check_trainable

    # AdaIN trains through its trainer component now; an architecture with neither is refused
    check_trainable(zoo.model_info("adain").architecture)
    with pytest.raises(zoo.errors.NotTrainableError, match=r"components=\{'trainer'"):
        check_trainable(zoo.model_info("vgg16").architecture)


def test_train_refuses_an_unknown_recipe_before_reading_data(tmp_path):
    r = run("train", "dcgan", "--recipe", "nope", "--data", tmp_path, "--dataset", "mnist", "--out",
            tmp_path / "out", ok=False)
    assert r.exit_code == 1 and "no recipe 'nope'" in r.output and "paper (plugin dcgan" in r.output


# -- the host names no architecture ---------------------------------------------------------------------


def _code_without_docstrings_and_comments(source: str) -> str:
    """The source with every docstring and comment blanked out (string literals that are code stay)."""
    tree = ast.parse(source)
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                spans.append((first.lineno, first.end_lineno))
    lines = source.splitlines()
    for a, b in spans:
        for i in range(a - 1, b):
            lines[i] = ""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        if tok.type != tokenize.COMMENT:
            out.append(tok.string)
    return " ".join(out)


def test_the_host_names_no_architecture_outside_docstrings():
    pattern = re.compile(r"adain|dcgan|sngan|wgan", re.I)
    files = sorted(ROOT.glob("zoo/*.py")) + sorted(ROOT.glob("zoo/*/*.py"))
    offenders = {str(f.relative_to(ROOT)): sorted(set(pattern.findall(_code_without_docstrings_and_comments(f.read_text()))))
                 for f in files}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"the host names architectures in code (issue 12): {offenders}"


def test_the_checker_sees_code_but_not_docstrings():
    src = '"""dcgan in a docstring."""\nx = 1  # sngan in a comment\ny = "wgan"\n'
    assert "wgan" in _code_without_docstrings_and_comments(src)
    assert "dcgan" not in _code_without_docstrings_and_comments(src)
    assert "sngan" not in _code_without_docstrings_and_comments(src)


# -- the scaffold shows where each goes ------------------------------------------------------------------


def test_the_scaffolds_commented_hooks_work_once_uncommented(tmp_path, monkeypatch):
    import importlib

    from zoo.plugins import reset_host
    from zoo.scaffold import new_plugin

    s = new_plugin("pix", tmp_path / "src")
    init = s.root / "zoo_pix" / "__init__.py"
    text = init.read_text()
    assert "components={\"discriminator\": \"zoo_pix.model:build_discriminator\"}" in text
    head, marker, block = text.partition("Uncomment and edit:\n")
    assert marker and "def register_losses" in block and "def register_commands" in block
    init.write_text(head + marker + "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                                              for line in block.splitlines()) + "\n")
    (s.root / "zoo_pix" / "losses.py").write_text(LOSS_FUNCTIONS.replace("def d(", "def d_loss(").replace("def g(", "def g_loss("))
    (s.root / "zoo_pix" / "cli.py").write_text(COMMAND_MODULE)
    site = tmp_path / "site"
    info = site / "zoo_pix-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-pix\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[zoo.plugins]\npix = zoo_pix\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(s.root))
    for m in [m for m in sys.modules if m == "zoo_pix" or m.startswith("zoo_pix.")]:
        monkeypatch.delitem(sys.modules, m)
    importlib.invalidate_caches()
    reset_host()
    st = status("pix")
    assert st.state == "ok", st.error
    assert sorted(st.provides) == ["command:pix-hello", "loss:pix-loss", "recipe:pix:paper"]
    from zoo.training.losses import get_loss

    assert get_loss("pix-loss").plugin == "pix"
    assert run("pix-hello", "scaffold").output == "hello, scaffold\n"
