"""After `make demo`, the demo says how to run `filetrail` by name when it is not on PATH."""

from __future__ import annotations

from pathlib import Path

from filetrail import render
from filetrail.demo import path_hint, print_next_steps

PROJECT = Path("/work/project")
SCRIPT = PROJECT / ".venv" / "bin" / "filetrail"


def test_hint_names_the_venv_to_activate_when_filetrail_is_not_on_path():
    hint = path_hint(lambda name: None, SCRIPT, PROJECT)

    assert hint is not None
    assert "source .venv/bin/activate" in hint
    assert ".venv/bin/filetrail" in hint


def test_hint_when_path_finds_another_filetrail():
    assert path_hint(lambda name: "/usr/local/bin/filetrail", SCRIPT, PROJECT) is not None


def test_no_hint_when_path_finds_this_filetrail():
    assert path_hint(lambda name: str(SCRIPT), SCRIPT, PROJECT) is None


def test_demo_prints_the_hint_as_lines_not_escaped_newlines(monkeypatch, capsys):
    monkeypatch.setattr("filetrail.demo.shutil.which", lambda name: None)
    out = render.console()

    print_next_steps(out)

    printed = capsys.readouterr().out
    assert "source " in printed
    assert "\\n" not in printed
