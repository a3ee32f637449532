"""The dispatcher's retry budget, with a handler that always fails, on a moto HTTP server."""

from __future__ import annotations

import json
import threading

import boto3
import pytest

from filetrail.local.dispatcher import Dispatcher, FailureCapture
from tests.e2e.conftest import poll


class FailingHandler:
    def __init__(self) -> None:
        self.calls = 0
        self.request_ids: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, event, context):
        with self._lock:
            self.calls += 1
            self.request_ids.append(context.aws_request_id)
        assert event["Records"][0]["eventSource"] == "aws:sqs"
        assert context.get_remaining_time_in_millis() > 0
        raise RuntimeError("table is on fire")


@pytest.fixture
def queues(emulated_aws):
    sqs = boto3.session.Session().client("sqs")
    name = f"dispatch-{id(sqs):x}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    return sqs, queue_url, dlq_url


def test_failed_message_is_tried_three_times_then_dead_lettered_with_the_error(queues):
    sqs, queue_url, dlq_url = queues
    handler = FailingHandler()
    dispatcher = Dispatcher(
        sqs=sqs,
        queue_url=queue_url,
        queue_arn="arn:aws:sqs:us-east-1:123456789012:dispatch",
        dlq_url=dlq_url,
        handler=handler,
        function_name="fn",
        region="us-east-1",
        failures=FailureCapture(),
        workers=1,
    )
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"Records": []}))
    dispatcher.start()
    try:

        def dead_lettered():
            response = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)
            return [json.loads(m["Body"]) for m in response.get("Messages", [])]

        [body] = poll(dead_lettered, timeout=20, what="the dead-lettered message")
    finally:
        dispatcher.stop()

    assert handler.calls == 3
    assert len(set(handler.request_ids)) == 3
    assert body["reason"] == "RETRIES_EXHAUSTED"
    assert body["attempts"] == 3
    assert body["error"] == "RuntimeError: table is on fire"
    assert body["record"] == {"Records": []}
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
