"""Events that can never succeed are logged whole, dead-lettered, and not retried."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.pipeline import Pipeline
from tests.support.s3_events import created_record, load_fixture, s3_event, sqs_event
from tests.support.samples import PDF


def _broken_record() -> dict[str, Any]:
    record = created_record("bucket-x", "a.pdf", size=1, etag="e", version_id=None, sequencer="0A")
    del record["s3"]["object"]["key"]
    return record


def test_record_missing_its_key_goes_to_the_dead_letter_queue_with_its_reason(
    pipeline: Pipeline,
) -> None:
    record = _broken_record()

    result = pipeline.process(record)

    assert result == {"outcomes": ["INVALID"]}
    (message,) = pipeline.dlq_messages()
    body = json.loads(message["Body"])
    assert body["reason"] == "INVALID_EVENT"
    assert "s3.object.key" in body["error"]
    assert body["record"] == record


def test_invalid_record_is_logged_whole(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    record = _broken_record()

    pipeline.process(record)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (line,) = [entry for entry in lines if entry.get("outcome") == "INVALID"]
    assert json.loads(line["record"]) == record
    assert line["reason"] == "INVALID_EVENT"


def test_sqs_body_that_is_not_json_is_dead_lettered_not_retried(pipeline: Pipeline) -> None:
    event = sqs_event("this is not json {")

    result = pipeline.handle(event)

    assert result == {"batchItemFailures": []}
    (message,) = pipeline.dlq_messages()
    assert "not JSON" in json.loads(message["Body"])["error"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("eventVersion", "3.0", "eventVersion"),
        ("eventName", "ObjectRestore:Completed", "eventName"),
        ("eventTime", "yesterday", "eventTime"),
        ("eventSource", "aws:sns", "eventSource"),
    ],
)
def test_unsupported_or_malformed_fields_are_rejected_clearly(
    pipeline: Pipeline, field: str, value: str, expected: str
) -> None:
    record = created_record("bucket-x", "a.pdf", size=1, etag="e", version_id=None, sequencer="0A")
    record[field] = value

    pipeline.process(record)

    (message,) = pipeline.dlq_messages()
    assert expected in json.loads(message["Body"])["error"]


def test_s3_test_event_records_nothing(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    result = pipeline.handle(sqs_event(load_fixture("s3-test-event.json")))

    assert result == {"batchItemFailures": []}
    assert pipeline.dlq_messages() == []
    outcomes = [json.loads(line).get("outcome") for line in capsys.readouterr().out.splitlines()]
    assert outcomes == ["TEST_EVENT"]


def test_invalid_record_does_not_stop_the_valid_ones_beside_it(pipeline: Pipeline) -> None:
    good = pipeline.upload("good.pdf", PDF)

    result = pipeline.handle(s3_event(_broken_record(), good))

    assert result == {"outcomes": ["INVALID", "STORED"]}
    assert pipeline.types("good.pdf") == ["RECEIVED", "VALIDATED", "STORED"]


def test_event_that_is_not_an_object_is_invalid(pipeline: Pipeline) -> None:
    result = pipeline.handle(["not", "an", "event"])  # type: ignore[arg-type]

    assert result == {"outcomes": ["INVALID"]}
    assert len(pipeline.dlq_messages()) == 1
