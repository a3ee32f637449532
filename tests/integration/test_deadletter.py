"""A dead-lettered record always fits in one SQS message, measured as SQS measures it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from handlers.deadletter import DeadLetterQueue
from handlers.schema import Reason
from tests.support.pipeline import receive_all

# The deployed queue's limit: the provider's default MaximumMessageSize. SQS counts the
# body's UTF-8 bytes plus any message attributes:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
SQS_LIMIT = 262_144
# Characters JSON escapes, some twice once the record's text is embedded in the message.
ESCAPED = '"\\\u0001\u00e9\u2028'


@pytest.fixture
def sqs(session: boto3.session.Session) -> Any:
    return session.client("sqs")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    """moto enforces the queue's MaximumMessageSize, so this queue refuses what AWS would."""
    return str(
        sqs.create_queue(
            QueueName="dead-letters", Attributes={"MaximumMessageSize": str(SQS_LIMIT)}
        )["QueueUrl"]
    )


def send(sqs: Any, queue_url: str, raw: Any, error: str = "missing s3.object.key") -> str:
    DeadLetterQueue(sqs, queue_url).send(
        raw, Reason.INVALID_EVENT, error, request_id="req-1", at="2026-11-28T10:00:00.000Z"
    )
    (message,) = receive_all(sqs, queue_url, delete=True)
    body: str = message["Body"]
    return body


def test_record_full_of_escaped_characters_fits_in_one_message(sqs: Any, queue_url: str) -> None:
    raw = {"Records": [{"eventSource": "aws:s3", "junk": ESCAPED * 44_000}]}

    body = send(sqs, queue_url, raw)

    assert len(body.encode()) <= SQS_LIMIT
    document = json.loads(body)
    assert document["reason"] == Reason.INVALID_EVENT
    assert json.dumps(raw).startswith(document["recordTruncated"])
    assert len(document["recordTruncated"]) > 100_000  # truncated, not emptied


def test_record_that_fits_is_sent_whole(sqs: Any, queue_url: str) -> None:
    raw = {"Records": [{"eventSource": "aws:s3", "junk": ESCAPED * 1_000}]}

    document = json.loads(send(sqs, queue_url, raw))

    assert document["record"] == raw
    assert "recordTruncated" not in document


def test_oversized_error_message_still_fits(sqs: Any, queue_url: str) -> None:
    error = "unsupported eventName " + '"' * 300_000

    body = send(sqs, queue_url, {"Records": []}, error)

    assert len(body.encode()) <= SQS_LIMIT
    assert json.loads(body)["error"].startswith("unsupported eventName")
