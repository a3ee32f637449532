"""The dead-letter queue: what reached it, and sending it back through processing.

Three producers write to it, each with its own envelope:

- Lambda's on-failure destination (a deployed stack) writes an invocation record: the
  original event under `requestPayload`, why under `requestContext.condition`, the error
  under `responsePayload`
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
- the handler parks a record that can never succeed (`"source": "filetrail"`, the record);
- local mode's dispatcher parks a message that exhausted its retries
  (`"source": "filetrail-local-dispatcher"`, the notification it carried);
- EventBridge parks a malware scan result it could not deliver to the function: the event
  itself as the body, why in the message attributes `ERROR_CODE` and `ERROR_MESSAGE`
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).

SQS has no peek: listing receives every message with a short visibility timeout and then
makes each visible again (so each listing counts as one receive in `attempts`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

# Long enough to list or redrive a full queue before a message shows up again.
HOLD_SECONDS = 120
RECEIVE_BATCH = 10
# Long polling asks every SQS server, so an empty answer means the queue is empty.
RECEIVE_WAIT_SECONDS = 1

LAMBDA_RECORD = "lambda"
HANDLER_RECORD = "filetrail"
LOCAL_RECORD = "filetrail-local-dispatcher"
EVENTBRIDGE_RECORD = "eventbridge"
UNKNOWN_RECORD = "unknown"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    source: str
    reason: str | None
    error: str | None
    at: str | None
    attempts: int
    files: tuple[str, ...]
    # The event to send back through processing; None when it cannot be recovered.
    payload: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "source": self.source,
            "reason": self.reason,
            "error": self.error,
            "at": self.at,
            "attempts": self.attempts,
            "files": list(self.files),
            "redrivable": self.payload is not None,
        }


def parse(message: Mapping[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    try:
        body: Any = json.loads(message.get("Body", ""))
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    source, reason, error, at, payload = _envelope(body)
    if source == EVENTBRIDGE_RECORD:
        reason, error = _attribute(message, "ERROR_CODE"), _attribute(message, "ERROR_MESSAGE")
    if at is None and attributes.get("SentTimestamp"):
        sent = int(attributes["SentTimestamp"]) / 1000
        at = datetime.fromtimestamp(sent, UTC).isoformat(timespec="milliseconds")
        at = at.replace("+00:00", "Z")
    return DeadLetter(
        message_id=str(message["MessageId"]),
        receipt_handle=str(message["ReceiptHandle"]),
        source=source,
        reason=reason,
        error=error,
        at=at,
        attempts=int(attributes.get("ApproximateReceiveCount", 0)),
        files=_files(payload),
        payload=payload,
    )


def _envelope(
    body: dict[str, Any],
) -> tuple[str, str | None, str | None, str | None, dict[str, Any] | None]:
    if isinstance(body.get("requestContext"), dict) and "requestPayload" in body:
        context = body["requestContext"]
        response = body.get("responsePayload")
        error = None
        if isinstance(response, dict):
            parts = [response.get("errorType"), response.get("errorMessage")]
            error = ": ".join(str(p) for p in parts if p) or None
        payload = body["requestPayload"]
        return (
            LAMBDA_RECORD,
            _str(context.get("condition")),
            error,
            _str(body.get("timestamp")),
            payload if isinstance(payload, dict) else None,
        )
    if body.get("source") == HANDLER_RECORD:
        record = body.get("record")
        payload = {"Records": [record]} if isinstance(record, dict) else None
        return (
            HANDLER_RECORD,
            _str(body.get("reason")),
            _str(body.get("error")),
            _str(body.get("at")),
            payload,
        )
    if body.get("source") == LOCAL_RECORD:
        record = body.get("record")
        return (
            LOCAL_RECORD,
            _str(body.get("reason")),
            _str(body.get("error")),
            None,
            record if isinstance(record, dict) else None,
        )
    if isinstance(body.get("detail-type"), str) and isinstance(body.get("detail"), dict):
        return EVENTBRIDGE_RECORD, None, None, _str(body.get("time")), body
    return UNKNOWN_RECORD, None, None, None, None


def _attribute(message: Mapping[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name)
    return _str(value.get("StringValue")) if isinstance(value, dict) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _files(payload: Mapping[str, Any] | None) -> tuple[str, ...]:
    """`s3://bucket/key` of each S3 record in the event (keys arrive URL-encoded), or of
    the object a malware scan result is about (its key arrives as S3 stores it)."""
    if payload is not None and isinstance(payload.get("detail"), dict):
        scanned = payload["detail"].get("s3ObjectDetails")
        if isinstance(scanned, dict) and scanned.get("bucketName") and "objectKey" in scanned:
            return (f"s3://{scanned['bucketName']}/{scanned['objectKey']}",)
    if payload is None or not isinstance(payload.get("Records"), list):
        return ()
    files = []
    for record in payload["Records"]:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict):
            continue
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if bucket and key is not None:
            files.append(f"s3://{bucket}/{unquote_plus(str(key))}")
    return tuple(files)


class HeldLetters:
    """Messages received from the queue and invisible to others until settled: deleted
    (their payload was accepted again) or released (made visible again)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self.letters: list[DeadLetter] = []
        self._settled: set[str] = set()

    def receive(self, limit: int) -> None:
        seen = {letter.message_id for letter in self.letters}
        while len(self.letters) < limit:
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(self.letters)),
                WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                VisibilityTimeout=HOLD_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch = response.get("Messages", [])
            if not batch:
                return
            for message in batch:
                if message["MessageId"] not in seen:
                    seen.add(message["MessageId"])
                    self.letters.append(parse(message))

    def delete(self, letter: DeadLetter) -> None:
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=letter.receipt_handle)
        self._settled.add(letter.message_id)

    def release(self) -> None:
        for letter in self.letters:
            if letter.message_id in self._settled:
                continue
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url,
                ReceiptHandle=letter.receipt_handle,
                VisibilityTimeout=0,
            )
            self._settled.add(letter.message_id)


@contextmanager
def held(sqs: Any, queue_url: str, limit: int) -> Iterator[HeldLetters]:
    """Up to `limit` messages for the block; what it did not delete is released after,
    even when it fails (if releasing fails too, they reappear after HOLD_SECONDS)."""
    letters = HeldLetters(sqs, queue_url)
    try:
        letters.receive(limit)
        yield letters
    finally:
        letters.release()
