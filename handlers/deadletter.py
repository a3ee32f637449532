"""SQS adapter: park a notification that can never succeed, with its reason."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws_errors import translate

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

# SQS takes 256 KiB; keep room for the envelope around an oversized raw record.
MAX_RAW_CHARS = 200_000


class DeadLetterQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, raw: Any, reason: str, error: str, *, request_id: str | None, at: str) -> None:
        record = json.dumps(raw, default=repr)
        body: dict[str, Any] = {
            "source": "filetrail",
            "reason": reason,
            "error": error,
            "requestId": request_id,
            "at": at,
        }
        if len(record) > MAX_RAW_CHARS:
            body["recordTruncated"] = record[:MAX_RAW_CHARS]
        else:
            body["record"] = raw
        try:
            self._client.send_message(
                QueueUrl=self._url, MessageBody=json.dumps(body, default=repr)
            )
        except (ClientError, BotoCoreError) as failure:
            raise translate(failure, f"send to dead-letter queue {self._url}") from failure
