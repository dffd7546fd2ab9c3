"""Re-pinning a plugin's published.py record to its card folder (zoo.repos.repin), on a copy of a real card."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from zoo.errors import RepinError
from zoo.repos.hub import sha256_file
from zoo.repos.publish import folder_revision
from zoo.repos.repin import main, repin_source

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "plugins" / "zoo_sngan" / "published.py"
CARD = ROOT / "cards" / "zoo" / "sngan-mnist"


def _record(source: str, name: str) -> dict:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Weights":
            kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            if kw["name"] == name:
                return kw
    raise AssertionError(name)


def test_an_unchanged_folder_leaves_the_file_as_it_is() -> None:
    source = PUBLISHED.read_text()
    result = repin_source(source, "sngan.mnist", CARD)
    # metrics are rounded (4 decimals, or 4 significant digits under 1); the committed ones are the folder's own to that rounding
    assert set(result.changed) <= {"metrics"}
    assert result.source.count("zoo.Weights(") == source.count("zoo.Weights(")


def test_a_changed_folder_is_re_pinned_and_only_its_record_changes(tmp_path: Path) -> None:
    folder = tmp_path / "sngan-mnist"
    shutil.copytree(CARD, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["metrics"]["fid"] = 12.3456789
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))
    with (folder / "model.safetensors").open("ab") as f:  # other bytes: another sha256 and size
        f.write(b" ")
    source = PUBLISHED.read_text()
    notes = "A new note,\n  with \"quotes\" and a backslash \\ in it. " + "word " * 60
    result = repin_source(source, "sngan.mnist", folder, notes=notes)
    rec = _record(result.source, "sngan.mnist")
    assert rec["revision"] == folder_revision(folder)
    assert rec["sha256"] == sha256_file(folder / "model.safetensors")
    assert rec["size"] == (folder / "model.safetensors").stat().st_size
    assert rec["metrics"]["fid"] == 12.3457
    assert rec["notes"] == " ".join(notes.split())
    assert max(len(line) for line in result.source.splitlines() if "word" in line) <= 110
    for other in ("sngan.fashion-mnist", "sngan.cifar10"):  # the other records are untouched
        assert _record(result.source, other) == _record(source, other)
    assert {"revision", "sha256", "size", "metrics", "notes"} == set(result.changed)


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    source = PUBLISHED.read_text()
    with pytest.raises(RepinError, match="no zoo.Weights"):
        repin_source(source, "sngan.nope", CARD)
    with pytest.raises(RepinError, match="does not exist"):
        repin_source(source, "sngan.mnist", tmp_path)
    folder = tmp_path / "card"
    shutil.copytree(CARD, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["metrics"] = {}
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RepinError, match="zoo eval FOLDER --write"):
        repin_source(source, "sngan.mnist", folder)


def test_the_command_rewrites_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "published.py"
    shutil.copy(PUBLISHED, target)
    notes = tmp_path / "notes.txt"
    notes.write_text("Measured again.")
    assert main([str(target), "sngan.mnist", str(CARD), "--notes-file", str(notes)]) == 0
    assert "notes" in capsys.readouterr().out
    assert _record(target.read_text(), "sngan.mnist")["notes"] == "Measured again."
    assert main([str(target), "sngan.bad", str(CARD)]) == 1
    assert "repin: no zoo.Weights" in capsys.readouterr().err
