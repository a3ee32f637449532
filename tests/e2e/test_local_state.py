"""`filetrail local --state-dir DIR` as real processes: what one serves before a stop, the
next serves after it."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from filetrail.cli import main
from filetrail.local.state import MANIFEST, PREVIOUS
from handlers import schema
from tests.e2e.conftest import (
    READY_SECONDS,
    LocalProcess,
    child_environment,
    filetrail_command,
    poll,
)
from tests.support.samples import PNG

EXE = b"MZ\x90\x00" + b"\x00" * 60
FILES = {
    "photos/cat.png": (PNG, "image/png"),
    "bad/tool.jpg": (EXE, "image/jpeg"),
    "notes/twice and ü+.txt": (b"first\n", "text/plain"),
    "notes/gone.txt": (b"bye\n", "text/plain"),
}
LOAD_UPLOADS = 120
STOP_SECONDS = 5.0


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                lines.append(value)
    return lines


def _one(path: Path, message: str) -> dict[str, Any]:
    found = [line for line in _json_lines(path) if line.get("message") == message]
    assert len(found) == 1, f"{len(found)} {message!r} lines in {path}"
    return found[0]


def _cli(local: LocalProcess, *argv: str) -> tuple[int, str]:
    """`filetrail ARGV` in this process, pointed at `local` as its ready line says."""
    ready = local.ready
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(out):
        env.setenv("AWS_ENDPOINT_URL", ready["endpoint_url"])
        env.setenv("AWS_DEFAULT_REGION", ready["region"])
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("FILETRAIL_TABLE", ready["table"])
        env.setenv("FILETRAIL_BUCKET", ready["bucket"])
        env.setenv("FILETRAIL_QUEUE_URL", ready["queue_url"])
        env.setenv("FILETRAIL_DLQ_URL", ready["dlq_url"])
        env.setenv("COLUMNS", "200")
        with contextlib.redirect_stderr(io.StringIO()):
            code = main(list(argv))
    return code, out.getvalue()


def _status(local: LocalProcess, key: str) -> dict[str, Any] | None:
    code, out = _cli(local, "status", key, "--json")
    if code != 0:
        return None
    item: dict[str, Any] = json.loads(out)
    return item if item["status"] != "PROCESSING" else None


def _served(local: LocalProcess) -> dict[str, Any]:
    """What S3 serves of the bucket: every version and marker, with tags and bodies."""
    s3 = local.client("s3")
    bucket = local.ready["bucket"]
    listing = s3.list_object_versions(Bucket=bucket)
    versions = []
    for version in listing.get("Versions", []):
        where = {"Bucket": bucket, "Key": version["Key"], "VersionId": version["VersionId"]}
        got = s3.get_object(**where)
        versions.append(
            {
                "listed": version,
                "body": got["Body"].read(),
                "contentType": got["ContentType"],
                "metadata": got["Metadata"],
                "tags": s3.get_object_tagging(**where)["TagSet"],
            }
        )
    return {"versions": versions, "markers": listing.get("DeleteMarkers", [])}


def _histories(local: LocalProcess) -> dict[str, tuple[str, str]]:
    """Each file's `filetrail history`, as a person reads it and as JSON."""
    histories = {}
    for key in FILES:
        human = _cli(local, "history", key)
        as_json = _cli(local, "history", key, "--json")
        assert human[0] == 0
        assert as_json[0] == 0
        histories[key] = (human[1], as_json[1])
    return histories


def _dead_letters(local: LocalProcess) -> list[tuple[str, str]]:
    messages = (
        local.client("sqs")
        .receive_message(QueueUrl=local.ready["dlq_url"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return sorted((m["MessageId"], m["Body"]) for m in messages)


@dataclass
class Restart:
    state_dir: Path
    first_log: Path
    second_log: Path
    first_exit: int
    before: dict[str, Any]
    after: dict[str, Any]
    second: LocalProcess


@pytest.fixture(scope="module")
def restart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restart]:
    """Files processed by one local stack, stopped with SIGTERM, and a second started on
    the same --state-dir."""
    state_dir = tmp_path_factory.mktemp("state")
    logs = tmp_path_factory.mktemp("logs")
    args = ("--state-dir", str(state_dir))
    with (logs / "first.log").open("w") as stderr:
        first = LocalProcess(stderr=stderr, args=args)
        try:
            s3 = first.client("s3")
            bucket = first.ready["bucket"]
            for key, (body, content_type) in FILES.items():
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    Metadata={"uploader": "e2e"},
                    Tagging="team=blue",
                )
            for key in FILES:
                poll(lambda key=key: _status(first, key), what=f"an outcome for {key}")
            s3.put_object(
                Bucket=bucket,
                Key="notes/twice and ü+.txt",
                Body=b"second\n",
                ContentType="text/plain",
            )
            s3.delete_object(Bucket=bucket, Key="notes/gone.txt")
            poll(
                lambda: (_status(first, "notes/twice and ü+.txt") or {}).get("fileSize") == 7,
                what="the second upload's outcome",
            )
            poll(
                lambda: (_status(first, "notes/gone.txt") or {}).get("status") == "DELETED",
                what="the delete's outcome",
            )
            first.client("sqs").send_message(
                QueueUrl=first.ready["dlq_url"], MessageBody='{"reason": "RETRIES_EXHAUSTED"}'
            )
            before = {
                "histories": _histories(first),
                "served": _served(first),
                "deadLetters": _dead_letters(first),
            }
        finally:
            first_exit = first.stop()
    with (logs / "second.log").open("w") as stderr:
        second = LocalProcess(stderr=stderr, args=args)
        try:
            after = {
                "histories": _histories(second),
                "served": _served(second),
                "deadLetters": _dead_letters(second),
            }
            yield Restart(
                state_dir,
                logs / "first.log",
                logs / "second.log",
                first_exit,
                before,
                after,
                second,
            )
        finally:
            second.stop()


def test_history_after_a_restart_is_what_it_was_before(restart: Restart) -> None:
    assert restart.after["histories"] == restart.before["histories"]


def test_versions_and_delete_markers_survive_a_restart_with_their_ids(restart: Restart) -> None:
    before, after = restart.before["served"], restart.after["served"]

    assert [v["listed"] for v in after["versions"]] == [v["listed"] for v in before["versions"]]
    assert after["markers"] == before["markers"]
    assert len(after["versions"]) == 5
    assert len(after["markers"]) == 1


def test_tags_bodies_and_metadata_survive_a_restart(restart: Restart) -> None:
    assert restart.after["served"]["versions"] == restart.before["served"]["versions"]
    tags = {v["listed"]["Key"]: v["tags"] for v in restart.after["served"]["versions"]}
    assert {"Key": "filetrail-status", "Value": "STORED"} in tags["photos/cat.png"]
    assert {"Key": "team", "Value": "blue"} in tags["photos/cat.png"]


def test_dead_letters_survive_a_restart(restart: Restart) -> None:
    assert restart.after["deadLetters"] == restart.before["deadLetters"]
    assert len(restart.after["deadLetters"]) == 1


def test_the_first_start_says_where_the_state_is_saved(restart: Restart) -> None:
    ready = _one(restart.first_log, "filetrail.local.ready")

    assert ready["stateDir"] == str(restart.state_dir)
    assert ready["restored"] is None
    assert "nothing to restore" in ready["notice"]


def test_the_next_start_says_what_it_restored(restart: Restart) -> None:
    ready = _one(restart.second_log, "filetrail.local.ready")

    assert ready["restored"]["objectVersions"] == 5
    assert ready["restored"]["deleteMarkers"] == 1
    assert "restored the state saved at" in ready["notice"]
    assert "5 object version(s), 1 delete marker(s)" in ready["notice"]


def test_the_stop_says_what_it_saved(restart: Restart) -> None:
    stopped = _one(restart.first_log, "filetrail.local.stopped")

    assert restart.first_exit == 0
    assert stopped["saved"]["stateDir"] == str(restart.state_dir)
    assert stopped["saved"]["counts"]["objectVersions"] == 5
    assert stopped["saved"]["error"] is None


def test_a_directory_in_use_by_a_running_stack_is_refused(restart: Restart) -> None:
    code, err = _start_expecting_failure(restart.state_dir)

    assert code == 2
    assert "in use by another filetrail local" in err


def test_a_restored_file_deleted_after_the_restart_is_reconciled_to_deleted(
    restart: Restart,
) -> None:
    second = restart.second
    second.client("s3").delete_object(Bucket=second.ready["bucket"], Key="photos/cat.png")

    item = poll(
        lambda: (_status(second, "photos/cat.png") or {}).get("status") == "DELETED" or None,
        what="the restored file's delete to be recorded",
    )

    assert item
    assert _cli(second, "verify", "--all")[0] == 0


def test_deleting_an_old_version_of_a_restored_file_leaves_it_as_it_is(
    restart: Restart,
) -> None:
    """Reconciliation asks S3 which version it serves and compares the id with the status
    item's: had the restore given the versions new ids, the file would be re-validated."""
    second = restart.second
    s3 = second.client("s3")
    bucket, key = second.ready["bucket"], "notes/twice and ü+.txt"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    oldest = min(versions, key=lambda v: v["LastModified"])
    served = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    before = json.loads(restart.before["histories"][key][1])["events"]
    s3.delete_object(Bucket=bucket, Key=key, VersionId=oldest["VersionId"])

    def settled() -> list[dict[str, Any]] | None:
        events: list[dict[str, Any]] = json.loads(_cli(second, "history", key, "--json")[1])[
            "events"
        ]
        return events if len(events) > len(before) and events[-1]["type"] != "RECEIVED" else None

    events = poll(settled, what="the version delete to be recorded")
    status = _status(second, key)

    assert status is not None
    assert status["status"] == "SUCCESS"
    assert status["versionId"] == served
    assert not [e for e in events[len(before) :] if e["type"] == "VALIDATED"]


def _start_expecting_failure(state_dir: Path) -> tuple[int, str]:
    result = subprocess.run(  # noqa: S603 - our own command
        filetrail_command("local", "--json", "--state-dir", str(state_dir)),
        capture_output=True,
        text=True,
        env=child_environment(),
        timeout=READY_SECONDS,
        check=False,
    )
    assert result.stdout == "", "a refused state directory must not start the stack"
    return result.returncode, result.stderr


def _tree(path: Path) -> dict[str, tuple[bytes | None, int]]:
    return {
        str(entry.relative_to(path)): (
            entry.read_bytes() if entry.is_file() else None,
            entry.stat().st_mtime_ns,
        )
        for entry in sorted(path.rglob("*"))
    }


def test_a_corrupt_manifest_is_refused_with_exit_2_and_left_untouched(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text('{"format": "filetrail-local-state", "vers')
    (tmp_path / "state-20261201T120000000000Z").mkdir()
    before = _tree(tmp_path)

    code, err = _start_expecting_failure(tmp_path)

    assert code == 2
    assert "is corrupt" in err
    assert "is not valid JSON" in err
    assert _tree(tmp_path) == before


def test_a_foreign_directory_is_refused_with_exit_2_and_left_untouched(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("\\documentclass{article}")
    before = _tree(tmp_path)

    code, err = _start_expecting_failure(tmp_path)

    assert code == 2
    assert "is not a filetrail local state" in err
    assert _tree(tmp_path) == before


def test_the_state_of_another_stack_is_refused_with_exit_2(tmp_path: Path) -> None:
    manifest = {
        "format": "filetrail-local-state",
        "version": 1,
        "stack": "someone-else",
        "region": "us-east-1",
    }
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))

    code, err = _start_expecting_failure(tmp_path)

    assert code == 2
    assert "is the state of stack 'someone-else', not 'filetrail-local'" in err


def test_a_second_save_moves_the_first_state_aside(tmp_path: Path) -> None:
    args = ("--state-dir", str(tmp_path))
    assert LocalProcess(args=args).stop() == 0
    first = json.loads((tmp_path / MANIFEST).read_text())

    assert LocalProcess(args=args).stop() == 0

    assert json.loads((tmp_path / PREVIOUS / MANIFEST).read_text()) == first
    assert (tmp_path / PREVIOUS / first["data"]).is_dir()
    assert json.loads((tmp_path / MANIFEST).read_text())["savedAt"] != first["savedAt"]


@dataclass(frozen=True)
class Loaded:
    stop_seconds: float
    exit_code: int
    stopped: dict[str, Any]
    restarted: LocalProcess


@pytest.fixture(scope="module")
def stopped_under_load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """SIGTERM sent once LOAD_UPLOADS uploads are queued faster than they are processed,
    then a restart on the same --state-dir."""
    state_dir = tmp_path_factory.mktemp("loaded")
    log = tmp_path_factory.mktemp("logs") / "loaded.log"
    args = ("--state-dir", str(state_dir))
    with log.open("w") as stderr:
        local = LocalProcess(stderr=stderr, args=args)
        s3 = local.session.client(
            "s3", endpoint_url=local.ready["endpoint_url"], config=Config(max_pool_connections=8)
        )

        def upload(n: int) -> None:
            s3.put_object(Bucket=local.ready["bucket"], Key=f"load/{n}.png", Body=PNG + bytes(n))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, range(LOAD_UPLOADS)))
        started = time.monotonic()
        local.process.send_signal(signal.SIGTERM)
        try:
            exit_code = local.process.wait(timeout=60)
        finally:
            seconds = time.monotonic() - started
            local.process.kill()
            local.stop()
    restarted = LocalProcess(args=args)
    try:
        yield Loaded(seconds, exit_code, _one(log, "filetrail.local.stopped"), restarted)
    finally:
        restarted.stop()


def test_a_stop_with_work_in_flight_still_exits_within_5_seconds_when_saving(
    stopped_under_load: Loaded,
) -> None:
    assert stopped_under_load.exit_code == 0
    assert stopped_under_load.stop_seconds < STOP_SECONDS


def test_notifications_left_at_a_stop_are_saved_with_the_state(
    stopped_under_load: Loaded,
) -> None:
    stopped = stopped_under_load.stopped

    assert stopped["unprocessed"] > 0
    assert stopped["saved"]["counts"]["messages"] >= stopped["unprocessed"]


def test_every_upload_queued_at_a_stop_is_processed_after_the_restart(
    stopped_under_load: Loaded,
) -> None:
    local = stopped_under_load.restarted
    dynamodb = local.client("dynamodb")
    pending = {f"load/{n}.png" for n in range(LOAD_UPLOADS)}

    def all_stored() -> bool:
        for key in sorted(pending):
            item = dynamodb.get_item(
                TableName=local.ready["table"],
                Key={
                    schema.PARTITION_KEY: {"S": schema.document_id(local.ready["bucket"], key)},
                    schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
                },
            ).get("Item")
            if item and item["status"]["S"] == "SUCCESS":
                pending.discard(key)
        return not pending

    assert poll(all_stored, timeout=60, what=f"all {LOAD_UPLOADS} uploads stored")


def test_a_save_that_fails_exits_1_and_names_the_error(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        local = LocalProcess(stderr=stderr, args=("--state-dir", str(state_dir)))
        state_dir.rmdir()
        state_dir.write_text("not a directory any more")

        code = local.stop()

    assert code == 1
    assert f"filetrail: error: could not save the state to {state_dir}" in log.read_text()
    assert _one(log, "filetrail.local.stopped")["saved"]["error"]


def test_a_stack_whose_table_was_deleted_is_not_saved_and_the_old_state_stays(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    args = ("--state-dir", str(state_dir))
    assert LocalProcess(args=args).stop() == 0
    before = _tree(state_dir)
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        local = LocalProcess(stderr=stderr, args=args)
        local.client("dynamodb").delete_table(TableName=local.ready["table"])

        code = local.stop()

    assert code == 1
    assert "could not save the state" in log.read_text()
    assert not [line for line in log.read_text().splitlines() if line.startswith("Traceback")]
    assert _tree(state_dir) == before
