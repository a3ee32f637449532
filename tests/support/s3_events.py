"""Real-format S3 notifications for tests.

moto's own S3 events lack `sequencer` and `versionId` (and it cannot invoke Lambda),
so tests build notifications from fixtures copied from AWS's documented shape and
fill in the identity of an object they really put into the emulator.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def encode_key(key: str) -> str:
    """How S3 writes keys into notifications: form-URL-encoded UTF-8."""
    return quote_plus(key, safe="/~!*'()$@,;:=&")


def created_record(
    bucket: str,
    key: str,
    *,
    size: int | None,
    etag: str | None,
    version_id: str | None,
    sequencer: str | None,
    event_time: str = "2026-11-28T10:15:30.123Z",
    event_name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_fixture("s3-object-created.json")["Records"][0])
    record["eventName"] = event_name
    record["eventTime"] = event_time
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    obj["key"] = encode_key(key)
    for name, value in (
        ("size", size),
        ("eTag", etag),
        ("versionId", version_id),
        ("sequencer", sequencer),
    ):
        if value is None:
            obj.pop(name, None)
        else:
            obj[name] = value
    return record


def removed_record(
    bucket: str,
    key: str,
    *,
    version_id: str | None,
    sequencer: str | None,
    event_time: str = "2026-11-28T11:00:00.000Z",
) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_fixture("s3-object-removed.json")["Records"][0])
    record["eventTime"] = event_time
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    obj["key"] = encode_key(key)
    for name, value in (("versionId", version_id), ("sequencer", sequencer)):
        if value is None:
            obj.pop(name, None)
        else:
            obj[name] = value
    return record


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sqs_event(*bodies: Any) -> dict[str, Any]:
    """An SQS-triggered Lambda event whose message bodies are the given documents."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764324930123",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1764324930130",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:filetrail-intake",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }
