"""Local mode's SQS: a receive costs the same however long the queue's backlog, and means
what moto's did (retention periods still expire messages)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import unix_time as moto_unix_time
from moto.sqs.models import Queue, sqs_backends

from filetrail.local import queues

QUEUE = "queues-test"


@pytest.fixture
def sqs() -> Iterator[tuple[Any, str]]:
    queues.install()
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName=QUEUE, Attributes={"MessageRetentionPeriod": "60"})
        yield client, url["QueueUrl"]


def test_receiving_never_recounts_the_queue(
    sqs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recounting per received message made each receive cost O(backlog²) (issue 9)."""
    client, url = sqs
    client.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(10)]
    )
    counted: list[int] = []
    real = Queue.approximate_number_of_messages

    def counting(queue: Queue) -> int:
        counted.append(1)
        return int(real.fget(queue))  # type: ignore[attr-defined]

    monkeypatch.setattr(Queue, "approximate_number_of_messages", property(counting))

    received = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert (len(received), len(counted)) == (10, 0)


def test_message_past_its_retention_period_is_not_received(sqs: tuple[Any, str]) -> None:
    client, url = sqs
    client.send_message(QueueUrl=url, MessageBody="old")
    [message] = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue(QUEUE)._messages
    message.sent_timestamp = int((time.time() - 61) * 1000)

    assert "Messages" not in client.receive_message(QueueUrl=url)


def test_message_within_its_retention_period_is_received(sqs: tuple[Any, str]) -> None:
    client, url = sqs
    client.send_message(QueueUrl=url, MessageBody="recent")

    assert [m["Body"] for m in client.receive_message(QueueUrl=url)["Messages"]] == ["recent"]


def test_clock_reads_what_moto_reads() -> None:
    assert abs(queues.unix_time() - moto_unix_time()) < 1.0
