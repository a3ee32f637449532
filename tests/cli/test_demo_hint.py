"""After `make demo`, the demo says how to run `filetrail` by name when it is not on PATH."""

from __future__ import annotations

from pathlib import Path

from filetrail.demo import path_hint

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
