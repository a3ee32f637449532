"""A file-events consumer: an application's SQS queue subscribed (raw delivery) to the topic.

Delivery is at least once, so a message may come twice: drop it by its `id`. A real
consumer keeps the ids it has handled somewhere durable (its own table, with a TTL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def consume(
    sqs: Any, queue_url: str, seen: set[str], handle: Callable[[dict[str, Any]], None]
) -> int:
    """Handle every message now in the queue once; returns how many were new."""
    new = 0
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = batch.get("Messages", [])
        if not messages:
            return new
        for message in messages:
            event = json.loads(message["Body"])
            if event["id"] not in seen:
                handle(event)  # e.g. event["type"] == "filetrail.file.stored"
                seen.add(event["id"])
                new += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
