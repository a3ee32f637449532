"""SQS adapter: park a notification that can never succeed, with its reason."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws_errors import translate

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

# The deployed queue's MaximumMessageSize (the provider's default), counted as SQS counts
# it: the body's UTF-8 bytes plus attributes, of which none are sent.
MAX_MESSAGE_BYTES = 262_144
# An error message quotes what was wrong with the record, which may be most of it.
MAX_ERROR_CHARS = 8_192


class DeadLetterQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, raw: Any, reason: str, error: str, *, request_id: str | None, at: str) -> None:
        body: dict[str, Any] = {
            "source": "filetrail",
            "reason": reason,
            "error": error[:MAX_ERROR_CHARS],
            "requestId": request_id,
            "at": at,
            "record": raw,
        }
        message = _encode(body)
        if len(message) > MAX_MESSAGE_BYTES:
            del body["record"]
            message = _truncated(body, json.dumps(raw, default=repr))
        try:
            self._client.send_message(QueueUrl=self._url, MessageBody=message.decode())
        except (ClientError, BotoCoreError) as failure:
            raise translate(failure, f"send to dead-letter queue {self._url}") from failure


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, default=repr).encode()


def _truncated(body: dict[str, Any], record: str) -> bytes:
    """The message with the longest prefix of the record's JSON text that fits.

    Embedding that text escapes it again (a quote becomes three characters), so the size is
    measured on the final encoding, shrinking in proportion until it fits.
    """
    keep = len(record)
    while True:
        body["recordTruncated"] = record[:keep]
        message = _encode(body)
        if len(message) <= MAX_MESSAGE_BYTES or keep == 0:
            return message
        embedded = len(message) - len(_encode({**body, "recordTruncated": ""}))
        room = MAX_MESSAGE_BYTES - (len(message) - embedded)
        keep = min(keep - 1, max(0, keep * room // embedded))
