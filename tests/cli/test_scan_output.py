"""Malware scanning in the CLI: SCANNED events in `history`, files waiting too long in
`list --older-than`, and scan results in the dead-letter queue. Threat names come from a
scanner that read them out of an uploaded file: they are shown as inert as keys."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rich.console import Console

from filetrail import render
from filetrail.deadletters import parse
from filetrail.local.scanner import ObjectVersion, Verdict, scan_result_event
from handlers.model import AuditEvent, StatusItem
from handlers.schema import EventType, ScanResult, Status
from tests.cli.conftest import Context
from tests.cli.test_dlq import local_dead_letter
from tests.cli.test_hostile_keys import HOSTILE, RAW


def _scanned(threats: list[str] | None, result: str = "THREATS_FOUND") -> AuditEvent:
    details: dict[str, object] = {
        "result": result,
        "scanStatus": "COMPLETED",
        "scanner": "local",
        "objectVersionId": "v1",
    }
    if threats is not None:
        details["threats"] = threats
    return AuditEvent(
        document_id="doc-1",
        seq=2,
        type=EventType.SCANNED,
        at="2026-12-01T12:00:00.000Z",
        bucket="b",
        key="eicar.txt",
        upload_key="v1",
        upload={"versionId": "v1"},
        details=details,
    )


def _history(*events: AuditEvent) -> str:
    stream = io.StringIO()
    render.history(render.console(stream), "history", events)
    return stream.getvalue()


def test_history_shows_a_scan_result_and_its_threat_names():
    shown = _history(_scanned(["EICAR-Test-File"]))

    assert "SCANNED" in shown
    assert "scan THREATS_FOUND" in shown
    assert "threats: EICAR-Test-File" in shown
    assert "by local" in shown


def test_history_shows_a_clean_scan_without_threats():
    shown = _history(_scanned(None, "NO_THREATS_FOUND"))

    assert "scan NO_THREATS_FOUND" in shown
    assert "threats" not in shown


def test_history_shows_a_hostile_threat_name_inert():
    stream = io.StringIO()
    console = render.console(stream)
    console.width = 400  # the whole name on one line

    render.history(console, "history", [_scanned([HOSTILE])])

    shown = stream.getvalue()
    for raw in RAW:
        assert raw not in shown
    assert "x\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202egnp.exe[bold]b[/bold]" in shown


def _upload_at(stack, key: str, uploaded: datetime) -> None:
    event = stack.put(key, b"hello")
    event["Records"][0]["eventTime"] = uploaded.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    stack.runtime.handle(event, Context())


def test_list_older_than_shows_only_files_uploaded_before_now_minus_the_age(stack, cli):
    now = datetime.now(UTC)
    _upload_at(stack, "old.txt", now - timedelta(hours=2))
    _upload_at(stack, "new.txt", now - timedelta(minutes=5))

    result = cli("list", "--older-than", "1h", "--json")

    assert result.code == 0, result.err
    assert [i["key"] for i in result.json()["items"]] == ["old.txt"]


def test_list_older_than_pages_with_a_cursor_and_stays_below_the_age(stack, cli):
    now = datetime.now(UTC)
    for hours in (5, 4, 3, 2):
        _upload_at(stack, f"old-{hours}.txt", now - timedelta(hours=hours))
    _upload_at(stack, "new.txt", now)

    first = cli("list", "--older-than", "1h", "--limit", "2", "--json").json()
    argv = ["list", "--older-than", "1h", "--limit", "2", "--json", "--cursor", first["cursor"]]
    second = cli(*argv).json()

    assert [i["key"] for i in first["items"]] == ["old-2.txt", "old-3.txt"]
    assert [i["key"] for i in second["items"]] == ["old-4.txt", "old-5.txt"]
    assert second["cursor"] is None


def test_list_older_than_with_follow_is_a_usage_error(stack, cli):
    result = cli("list", "--older-than", "15m", "--follow")

    assert result.code == 2
    assert "--older-than" in result.err


def test_list_rejects_a_malformed_older_than_naming_the_option(stack, cli):
    result = cli("list", "--older-than", "soon")

    assert result.code == 2
    assert "--older-than 'soon'" in result.err


def test_a_dead_lettered_scan_result_names_its_file():
    version = ObjectVersion("uploads", "inbox/a b+c.txt", "v1", "abc")
    event = scan_result_event(version, Verdict(ScanResult.NO_THREATS_FOUND), region="us-east-1")
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": json.dumps(local_dead_letter(event)),
    }

    letter = parse(message)

    assert letter.files == ("s3://uploads/inbox/a b+c.txt",)
    assert letter.payload == event


def _waiting(awaiting: str | None, key: str = "reports/q3.txt") -> StatusItem:
    return StatusItem(
        document_id="doc-1",
        bucket="b",
        key=key,
        file_name="q3.txt",
        status=Status.PROCESSING,
        uploaded_at="2026-12-01T12:00:00.000Z",
        version=2,
        stage=EventType.VALIDATED,
        updated_at="2026-12-01T12:00:00.100Z",
        upload_key="u-1",
        awaiting=awaiting,
    )


def _shown(draw: Callable[[Console], None]) -> str:
    stream = io.StringIO()
    draw(render.console(stream))
    return stream.getvalue()


def test_status_says_what_a_processing_file_awaits():
    shown = _shown(lambda out: render.status(out, _waiting("SCAN")))

    assert "SCAN (the malware scan's result)" in shown


def test_status_says_a_file_scanned_first_awaits_its_validation():
    shown = _shown(lambda out: render.status(out, _waiting("VALIDATION")))

    assert "VALIDATION (its validation)" in shown


def test_list_shows_what_a_processing_file_awaits_in_the_reason_column():
    shown = _shown(lambda out: render.status_list(out, [_waiting("SCAN")], None, "b"))

    assert "awaiting SCAN" in shown


def test_status_json_carries_the_scan_result_and_what_a_file_awaits():
    document = _waiting("SCAN").to_json()

    assert document["awaiting"] == "SCAN"
    assert document["scanResult"] is None
