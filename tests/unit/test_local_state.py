"""The --state-dir format: which directories are a state, and saving that never loses one."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from filetrail.errors import EXIT_USAGE
from filetrail.local import state as state_module
from filetrail.local.state import (
    MANIFEST,
    PREVIOUS,
    Identity,
    Snapshot,
    StateDir,
    StateDirError,
    validate_manifest,
)

IDENTITY = Identity("filetrail-local", "us-east-1", "bucket", "table", ("queue", "dlq"))
BODY = b"hello\n"
SHA = hashlib.sha256(BODY).hexdigest()
WHEN = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _manifest(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "filetrail-local-state",
        "version": 1,
        "stack": "filetrail-local",
        "region": "us-east-1",
        "resources": {"bucket": "bucket", "table": "table", "queues": ["queue", "dlq"]},
        "savedAt": "2026-12-01T12:00:00.123Z",
        "data": "state-20261201T120000123456Z",
        "counts": {"objectVersions": 1},
    }
    document.update(changes)
    return document


def _snapshot(text: str = "one") -> Snapshot:
    return Snapshot(
        versions=[
            {"key": "a.txt", "versionId": "v1", "lastModified": "x", "body": SHA, "note": text},
            {"key": "a.txt", "versionId": "v2", "lastModified": "y", "deleteMarker": True},
        ],
        bodies={SHA: BODY},
        items=[{"pk": {"S": text}}],
        queues={"queue": [{"id": "m1", "body": text}], "dlq": []},
    )


def _tree(path: Path) -> dict[str, bytes | None]:
    """Every entry under `path` with its content: equal trees mean nothing was touched."""
    return {
        str(entry.relative_to(path)): entry.read_bytes() if entry.is_file() else None
        for entry in sorted(path.rglob("*"))
    }


def _open(path: Path) -> StateDir:
    state = StateDir.open(path, IDENTITY)
    state.close()
    return state


def test_a_manifest_of_this_stack_is_accepted() -> None:
    manifest = validate_manifest(_manifest(), IDENTITY, "m")

    assert manifest.data == "state-20261201T120000123456Z"
    assert manifest.counts == {"objectVersions": 1}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "something-else"}, "is not a filetrail local state"),
        ({"version": 2}, "format version 2; this filetrail reads version 1"),
        ({"stack": "other-stack"}, "is the state of stack 'other-stack'"),
        ({"region": "eu-west-1"}, "was saved in region 'eu-west-1'"),
        ({"resources": {"bucket": "b"}}, "names other resources"),
        ({"savedAt": 5}, "savedAt is missing"),
        ({"data": "../../etc"}, "data is not a state-<time> directory name"),
        ({"counts": {"items": -1}}, "counts is not a map of counts"),
        ({"counts": {"items": "3"}}, "counts is not a map of counts"),
    ],
)
def test_a_manifest_that_does_not_fit_is_refused_saying_why(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(StateDirError, match=message) as refused:
        validate_manifest(_manifest(**changes), IDENTITY, "m")

    assert refused.value.exit_code == EXIT_USAGE


def test_a_manifest_that_is_not_an_object_is_not_a_state() -> None:
    with pytest.raises(StateDirError, match="is not a filetrail local state"):
        validate_manifest(["filetrail-local-state"], IDENTITY, "m")


def test_a_missing_directory_is_created_and_starts_empty(tmp_path: Path) -> None:
    state = _open(tmp_path / "new" / "state")

    assert (tmp_path / "new" / "state").is_dir()
    assert state.restored is None


def test_an_empty_directory_starts_empty(tmp_path: Path) -> None:
    assert _open(tmp_path).restored is None


def test_what_an_interrupted_first_save_left_counts_as_empty(tmp_path: Path) -> None:
    (tmp_path / ".filetrail-partial-state-x").mkdir()

    assert _open(tmp_path).restored is None


def test_a_saved_state_is_restored_as_it_was_saved(tmp_path: Path) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    state.save(_snapshot(), WHEN)
    state.close()

    restored = _open(tmp_path)

    assert restored.restored == _snapshot()
    assert restored.manifest is not None
    assert restored.manifest.saved_at == "2026-12-01T12:00:00.123Z"


def test_a_directory_with_files_but_no_manifest_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    before = _tree(tmp_path)

    with pytest.raises(StateDirError, match=r"holds no filetrail-state.json.*notes.txt"):
        StateDir.open(tmp_path, IDENTITY)

    assert _tree(tmp_path) == before


def test_a_manifest_that_is_not_json_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text('{"format": "filetrail-local-st')
    before = _tree(tmp_path)

    with pytest.raises(StateDirError, match=r"is corrupt: .* is not valid JSON"):
        StateDir.open(tmp_path, IDENTITY)

    assert _tree(tmp_path) == before


def test_a_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")

    with pytest.raises(StateDirError, match="is not a directory"):
        StateDir.open(tmp_path / "file", IDENTITY)


def test_a_body_that_does_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    manifest = state.save(_snapshot(), WHEN)
    state.close()
    pack = tmp_path / manifest.data / "objects.bin"
    pack.write_bytes(b"jello\n")

    with pytest.raises(StateDirError, match="does not match its SHA-256"):
        StateDir.open(tmp_path, IDENTITY)


def test_data_that_disagrees_with_the_manifest_counts_is_refused(tmp_path: Path) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    manifest = state.save(_snapshot(), WHEN)
    state.close()
    (tmp_path / manifest.data / "dynamodb.json").write_text(json.dumps({"items": []}))

    with pytest.raises(StateDirError, match="its manifest says"):
        StateDir.open(tmp_path, IDENTITY)


def test_a_missing_data_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps(_manifest()))

    with pytest.raises(StateDirError, match=r"data directory .* is missing"):
        StateDir.open(tmp_path, IDENTITY)


def test_a_directory_in_use_by_another_process_is_refused(tmp_path: Path) -> None:
    first = StateDir.open(tmp_path, IDENTITY)
    try:
        with pytest.raises(StateDirError, match="in use by another filetrail local"):
            StateDir.open(tmp_path, IDENTITY)
    finally:
        first.close()


def test_a_save_moves_the_state_it_replaces_to_previous(tmp_path: Path) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    state.save(_snapshot("one"), WHEN)
    state.save(_snapshot("two"), WHEN.replace(second=1))
    state.close()

    assert _open(tmp_path).restored == _snapshot("two")
    assert _open(tmp_path / PREVIOUS).restored == _snapshot("one")


def test_a_third_save_keeps_only_the_state_before_it(tmp_path: Path) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    for second, text in enumerate(("one", "two", "three")):
        state.save(_snapshot(text), WHEN.replace(second=second))
    state.close()

    assert _open(tmp_path / PREVIOUS).restored == _snapshot("two")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        MANIFEST,
        PREVIOUS,
        "state-20261201T120002123456Z",
    ]


def test_a_save_that_fails_midway_leaves_the_saved_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateDir.open(tmp_path, IDENTITY)
    state.save(_snapshot("one"), WHEN)
    real_replace = os.replace

    def crash_on_manifest(source: Any, target: Any) -> None:
        if Path(target).name == MANIFEST:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(state_module.os, "replace", crash_on_manifest)
    with pytest.raises(OSError, match="No space left"):
        state.save(_snapshot("two"), WHEN.replace(second=1))
    state.close()
    monkeypatch.undo()

    assert _open(tmp_path).restored == _snapshot("one")
