"""Local mode's scanner: the EICAR detector and the scan-result event it publishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from filetrail.local.scanner import (
    EICAR,
    EICAR_THREAT,
    ObjectVersion,
    Verdict,
    is_eicar,
    scan_result_event,
)
from handlers import schema
from handlers.schema import ScanResult

VERSION = ObjectVersion("uploads", "inbox/Q3 plan + résumé.txt", "3HL4kqtJlcpXroDTDmJ", "abc123")


def _judge(body: bytes) -> bool:
    return is_eicar(body[:129], len(body))


def test_the_eicar_string_is_the_68_bytes_eicar_publishes():
    assert len(EICAR) == 68
    assert EICAR.startswith(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS")
    assert EICAR.endswith(b"-TEST-FILE!$H+H*")


def test_the_eicar_file_is_eicar():
    assert _judge(EICAR)


@pytest.mark.parametrize("padding", [b"\n", b"\r\n", b" \t", b"\x1a", b" " * 60])
def test_eicar_followed_by_allowed_whitespace_up_to_128_bytes_is_eicar(padding):
    assert _judge(EICAR + padding)


def test_eicar_padded_past_128_bytes_is_not_eicar():
    assert not _judge(EICAR + b" " * 61)


def test_a_large_file_starting_with_eicar_is_not_eicar():
    assert not _judge(EICAR + b"\n" + b"A" * 1024 * 1024)


@pytest.mark.parametrize(
    "body",
    [
        EICAR[:-1],  # truncated
        EICAR.replace(b"X5O", b"X50"),  # the digit zero, not the letter O
        EICAR.lower(),
        b" " + EICAR,  # must start the file
        EICAR + b"x",  # followed by something that is not whitespace
        EICAR + b"\x0b",  # vertical tab is not among EICAR's whitespace
        b"",
    ],
    ids=["truncated", "zero-for-O", "lower-case", "leading-space", "trailing-text", "vt", "empty"],
)
def test_near_misses_are_not_eicar(body):
    assert not _judge(body)


def test_a_head_shorter_than_the_object_cannot_be_judged_eicar():
    assert not is_eicar(EICAR, 100)


def test_scan_result_event_has_eventbridge_envelope():
    at = datetime(2026, 12, 1, 12, 0, 0, 123000, tzinfo=UTC)

    event = scan_result_event(
        VERSION, Verdict(ScanResult.NO_THREATS_FOUND), region="us-east-1", at=at, event_id="e-1"
    )

    assert {k: v for k, v in event.items() if k != "detail"} == {
        "version": "0",
        "id": "e-1",
        "detail-type": "GuardDuty Malware Protection Object Scan Result",
        "source": "aws.guardduty",
        "account": "123456789012",
        "time": "2026-12-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [
            "arn:aws:guardduty:us-east-1:123456789012:malware-protection-plan/local-eicar-plan"
        ],
    }
    assert event["detail-type"] == schema.SCAN_EVENT_DETAIL_TYPE
    assert event["source"] == schema.SCAN_EVENT_SOURCE


def test_clean_scan_detail_matches_the_contract():
    event = scan_result_event(VERSION, Verdict(ScanResult.NO_THREATS_FOUND), region="us-east-1")

    assert event["detail"] == {
        "schemaVersion": "1.0",
        "scanStatus": "COMPLETED",
        "resourceType": "S3_OBJECT",
        "s3ObjectDetails": {
            "bucketName": "uploads",
            "objectKey": "inbox/Q3 plan + résumé.txt",
            "eTag": "abc123",
            "versionId": "3HL4kqtJlcpXroDTDmJ",
            "s3Throttled": False,
        },
        "scanResultDetails": {"scanResultStatus": "NO_THREATS_FOUND", "threats": None},
    }


def test_threats_found_lists_each_threat_by_name():
    verdict = Verdict(ScanResult.THREATS_FOUND, (EICAR_THREAT,))

    detail = scan_result_event(VERSION, verdict, region="us-east-1")["detail"]

    assert detail["scanStatus"] == "COMPLETED"
    assert detail["scanResultDetails"] == {
        "scanResultStatus": "THREATS_FOUND",
        "threats": [{"name": "EICAR-Test-File"}],
    }


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (ScanResult.UNSUPPORTED, "SKIPPED"),
        (ScanResult.ACCESS_DENIED, "SKIPPED"),
        (ScanResult.FAILED, "FAILED"),
    ],
)
def test_scan_status_follows_the_result(result, status):
    detail = scan_result_event(VERSION, Verdict(result), region="us-east-1")["detail"]

    assert detail["scanStatus"] == status
    assert detail["scanResultDetails"]["scanResultStatus"] == str(result)


def test_object_key_is_not_url_encoded():
    event = scan_result_event(VERSION, Verdict(ScanResult.NO_THREATS_FOUND), region="us-east-1")

    assert event["detail"]["s3ObjectDetails"]["objectKey"] == VERSION.key
    assert "%" not in json.dumps(event, ensure_ascii=False)


def test_an_unversioned_object_carries_no_version_id():
    version = ObjectVersion("uploads", "a.txt", "null", "abc")

    event = scan_result_event(version, Verdict(ScanResult.NO_THREATS_FOUND), region="us-east-1")

    assert "versionId" not in event["detail"]["s3ObjectDetails"]


def test_each_event_has_its_own_id():
    verdict = Verdict(ScanResult.NO_THREATS_FOUND)

    first = scan_result_event(VERSION, verdict, region="us-east-1")
    second = scan_result_event(VERSION, verdict, region="us-east-1")

    assert first["id"] != second["id"]
