"""Every outcome is one JSON line with the documented fields that metric filters match."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from handlers import schema
from handlers.errors import TransientError
from handlers.store import AuditStore
from tests.support.pipeline import Pipeline, provision
from tests.support.s3_events import load_fixture, sqs_event
from tests.support.samples import PDF, PE_EXE

DOCUMENTED_FIELDS = {
    schema.LOG_MESSAGE,
    schema.LOG_OUTCOME,
    schema.LOG_REASON,
    schema.LOG_DOCUMENT_ID,
    schema.LOG_BUCKET,
    schema.LOG_KEY,
    schema.LOG_SIZE,
    schema.LOG_DURATION_MS,
    schema.LOG_FILE_TYPE,
    schema.LOG_TRACE_ID,
}


def outcome_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines()]  # every line must be JSON
    return [line for line in lines if line.get(schema.LOG_MESSAGE) == schema.OUTCOME_MESSAGE]


def drive_every_outcome(pipeline: Pipeline) -> None:
    stored = pipeline.upload("doc.pdf", PDF)
    pipeline.process(stored)
    pipeline.process(stored)  # DUPLICATE
    pipeline.process(pipeline.upload("evil.jpg", PE_EXE))  # REJECTED
    pipeline.process(pipeline.delete("doc.pdf"))  # DELETED
    pipeline.process(pipeline.upload("folder/", b""))  # IGNORED
    pipeline.handle(sqs_event("not json"))  # INVALID
    pipeline.handle(sqs_event(load_fixture("s3-test-event.json")))  # TEST_EVENT


def test_every_processed_record_logs_exactly_one_outcome_line(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    drive_every_outcome(pipeline)

    outcomes = [line[schema.LOG_OUTCOME] for line in outcome_lines(capsys.readouterr().out)]
    assert outcomes == [
        "STORED",
        "DUPLICATE",
        "REJECTED",
        "DELETED",
        "IGNORED",
        "INVALID",
        "TEST_EVENT",
    ]


@pytest.mark.parametrize("level", ["WARNING", "ERROR"])
def test_every_outcome_line_is_written_at_a_quieter_log_level(
    session: boto3.session.Session, capsys: pytest.CaptureFixture[str], level: str
) -> None:
    drive_every_outcome(provision(session, **{schema.ENV_LOG_LEVEL: level}))

    assert len(outcome_lines(capsys.readouterr().out)) == 7


def test_upload_outcome_lines_carry_the_documented_fields(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline.process(pipeline.upload("evil.jpg", PE_EXE))

    (line,) = outcome_lines(capsys.readouterr().out)
    assert set(line) >= DOCUMENTED_FIELDS
    assert (line["outcome"], line["reason"], line["key"]) == (
        "REJECTED",
        "TYPE_MISMATCH",
        "evil.jpg",
    )
    assert isinstance(line[schema.LOG_DURATION_MS], float)
    assert line[schema.LOG_SIZE] == len(PE_EXE)


def test_a_key_with_a_newline_cannot_forge_a_second_log_line(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = 'x.txt\n{"message":"filetrail.outcome","outcome":"STORED"}'
    pipeline.process(pipeline.upload(forged, b"hello"))

    lines = outcome_lines(capsys.readouterr().out)
    assert [line["outcome"] for line in lines] == ["REJECTED"]
    assert lines[0]["key"] == forged


def test_a_failed_record_logs_one_error_outcome_line(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def throttled(*_: Any, **__: Any) -> Any:
        raise TransientError("ThrottlingException")

    monkeypatch.setattr(AuditStore, "load", throttled)
    record = pipeline.upload("doc.pdf", PDF)

    result = pipeline.handle(sqs_event({"Records": [record]}))

    assert len(result["batchItemFailures"]) == 1
    (line,) = outcome_lines(capsys.readouterr().out)
    assert (line["outcome"], line["errorType"], line["key"]) == (
        "ERROR",
        "TransientError",
        "doc.pdf",
    )
    assert "ThrottlingException" in line["error"]


def test_stale_notification_is_logged_as_stale_and_the_current_one_is_not(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    older = pipeline.upload("doc.pdf", PE_EXE)
    newer = pipeline.upload("doc.pdf", PDF)

    pipeline.process(newer)
    pipeline.process(older)

    lines = outcome_lines(capsys.readouterr().out)
    assert [(line["outcome"], line[schema.LOG_STALE]) for line in lines] == [
        ("STORED", False),
        ("REJECTED", True),
    ]
