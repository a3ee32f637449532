"""Run a file through validation again: a synthetic ObjectCreated notification for the
upload the status item names, marked with a fresh reprocessId so the handler records it
as a new attempt (the history only gains events)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from filetrail.errors import CliError
from handlers.model import StatusItem
from handlers.schema import EventType, Status

SYNTHETIC_EVENT_NAME = "ObjectCreated:Put"


@dataclass(frozen=True)
class Submission:
    document_id: str
    reprocess_id: str
    via: str
    target: str

    def to_json(self) -> dict[str, Any]:
        return {
            "documentId": self.document_id,
            "reprocessId": self.reprocess_id,
            "via": self.via,
            "target": self.target,
        }


def synthetic_notification(
    status: StatusItem, region: str | None, reprocess_id: str | None = None
) -> dict[str, Any]:
    if status.status == Status.DELETED:
        raise CliError(
            f"s3://{status.bucket}/{status.key} was deleted; there is no upload to reprocess"
        )
    if status.stage == EventType.SCANNED:
        # Only its malware scan result is in: the status carries no upload's identity (no
        # sequencer; the scan's time), and a notification made from it would pass for a
        # newer upload than the ones S3 has yet to announce.
        raise CliError(
            f"s3://{status.bucket}/{status.key} has a malware scan result but no upload "
            "notification yet; there is no upload to reprocess (it is processed when S3's "
            "notification arrives)"
        )
    obj: dict[str, Any] = {"key": quote_plus(status.key, safe="/")}
    for name, value in (
        ("size", status.file_size),
        ("eTag", status.etag),
        ("versionId", status.version_id),
        ("sequencer", status.sequencer),
    ):
        if value is not None:
            obj[name] = value
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region or "",
        "eventTime": status.uploaded_at,
        "eventName": SYNTHETIC_EVENT_NAME,
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": status.bucket, "arn": f"arn:aws:s3:::{status.bucket}"},
            "object": obj,
        },
        "filetrail": {"reprocessId": reprocess_id or str(uuid.uuid4())},
    }
    return {"Records": [record]}


def reprocess_id_of(notification: dict[str, Any]) -> str:
    return str(notification["Records"][0]["filetrail"]["reprocessId"])


ASYNC_ACCEPTED = 202


def submit_to_lambda(lambda_client: Any, function: str, notification: dict[str, Any]) -> None:
    """An asynchronous invoke: Lambda queues the event and answers 202 once it has it."""
    response = lambda_client.invoke(
        FunctionName=function,
        InvocationType="Event",
        Payload=json.dumps(notification).encode(),
    )
    if response.get("StatusCode") != ASYNC_ACCEPTED:
        raise CliError(
            f"function {function} did not accept the event: {response.get('StatusCode')}"
        )


def submit_to_queue(sqs_client: Any, queue_url: str, notification: dict[str, Any]) -> None:
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(notification))
