"""Scan results as EventBridge delivers them, parsed into `Scan` or an invalid record.

https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers import schema
from handlers.events import InvalidRecord, ScanRecord, parse_notification
from tests.support.s3_events import load_fixture, sqs_event
from tests.support.scan_events import scan_event


def parse_one(event: Any) -> Any:
    records = list(parse_notification(event))
    assert len(records) == 1
    return records[0]


def test_aws_example_event_is_a_scan_of_one_object_version() -> None:
    record = parse_one(load_fixture("guardduty-scan-result.json"))

    assert isinstance(record, ScanRecord)
    scan = record.scan
    assert (scan.bucket, scan.key, scan.version_id) == (
        "amzn-s3-demo-bucket",
        "report.pdf",
        "d41d8cd98f00b204e9800998ecf8427e",
    )
    assert scan.result == schema.ScanResult.NO_THREATS_FOUND
    assert scan.clean
    assert scan.document_id == schema.document_id("amzn-s3-demo-bucket", "report.pdf")


def test_threat_names_are_kept_in_order() -> None:
    event = scan_event(
        "bkt", "a.pdf", version_id="v1", etag="e", result="THREATS_FOUND", threats=["T1", "T2"]
    )

    record = parse_one(event)

    assert isinstance(record, ScanRecord)
    assert record.scan.threats == ("T1", "T2")
    assert not record.scan.clean


def test_key_is_taken_as_s3_stores_it_not_url_decoded() -> None:
    record = parse_one(scan_event("bkt", "a+b%20c.pdf", version_id="v1", etag="e"))

    assert isinstance(record, ScanRecord)
    assert record.scan.key == "a+b%20c.pdf"


def test_every_delivery_of_one_versions_scan_shares_an_idempotency_key() -> None:
    first = parse_one(scan_event("bkt", "a.pdf", version_id="v1", etag="e"))
    again = parse_one(
        scan_event("bkt", "a.pdf", version_id="v1", etag="e", time="2026-11-29T00:00:00Z")
    )
    other = parse_one(scan_event("bkt", "a.pdf", version_id="v2", etag="e"))

    assert first.scan.upload_key == again.scan.upload_key
    assert first.scan.upload_key != other.scan.upload_key


@pytest.mark.parametrize(
    ("scan_status", "expected"),
    [("SKIPPED", schema.ScanResult.UNSUPPORTED), ("FAILED", schema.ScanResult.FAILED)],
)
def test_a_scan_that_did_not_complete_without_a_result_is_never_clean(
    scan_status: str, expected: schema.ScanResult
) -> None:
    event = scan_event("bkt", "a.pdf", version_id="v1", etag="e", scan_status=scan_status)
    event["detail"].pop("scanResultDetails")

    record = parse_one(event)

    assert isinstance(record, ScanRecord)
    assert record.scan.result == expected


def mutate(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    event = scan_event("bkt", "a.pdf", version_id="v1", etag="e")
    target = event
    for name in path[:-1]:
        target = target[name]
    if value is None:
        target.pop(path[-1])
    else:
        target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("source",), "aws.s3", "unsupported EventBridge event"),
        (("detail-type",), "GuardDuty Finding", "unsupported EventBridge event"),
        (("time",), "yesterday", "not ISO 8601"),
        (("detail", "s3ObjectDetails"), None, "s3ObjectDetails is missing"),
        (("detail", "s3ObjectDetails", "bucketName"), "bad bucket!", "not a valid bucket name"),
        (("detail", "s3ObjectDetails", "objectKey"), "", "objectKey is missing"),
        (
            ("detail", "scanResultDetails"),
            {"scanResultStatus": "CLEAN"},
            "unknown scanResultStatus",
        ),
        (
            ("detail", "scanResultDetails"),
            {"scanResultStatus": "THREATS_FOUND", "threats": [{"id": 1}]},
            "a threat has no name",
        ),
    ],
)
def test_malformed_scan_events_are_invalid_records(
    path: tuple[str, ...], value: Any, message: str
) -> None:
    record = parse_one(mutate(path, value))

    assert isinstance(record, InvalidRecord)
    assert message in record.error


def test_a_scan_naming_no_version_and_no_etag_is_invalid() -> None:
    record = parse_one(scan_event("bkt", "a.pdf", version_id=None, etag=None))

    assert isinstance(record, InvalidRecord)
    assert "names no object version" in record.error


def test_a_scan_result_carried_by_sqs_is_a_scan_with_its_message_id() -> None:
    """An EventBridge rule may target SQS, and `filetrail dlq redrive` sends a result back
    through local mode's queue: the body is then the EventBridge event itself."""
    records = list(
        parse_notification(sqs_event(scan_event("bkt", "a.pdf", version_id="v1", etag="e")))
    )

    assert len(records) == 1
    assert isinstance(records[0], ScanRecord)
    assert records[0].scan.version_id == "v1"
    assert records[0].message_id is not None
