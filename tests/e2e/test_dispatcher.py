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


class BlockingHandler:
    """Holds its first invocation until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, event, context):
        self.entered.set()
        self.release.wait(timeout=20)
        return {"batchItemFailures": []}


def _dispatcher(queues, handler) -> Dispatcher:
    sqs, queue_url, dlq_url = queues
    return Dispatcher(
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


def test_stop_reports_an_invocation_still_running_after_the_grace_period(queues):
    sqs, queue_url, _ = queues
    handler = BlockingHandler()
    dispatcher = _dispatcher(queues, handler)
    sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
    dispatcher.start()
    poll(handler.entered.is_set, what="the first invocation")

    still_running = dispatcher.stop(timeout=0.1)

    handler.release.set()
    assert still_running == 1


def test_messages_received_but_not_invoked_are_visible_again_after_stop(queues):
    sqs, queue_url, _ = queues
    handler = BlockingHandler()
    dispatcher = _dispatcher(queues, handler)
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(3)],
    )
    dispatcher.start()
    poll(handler.entered.is_set, what="the first invocation")
    dispatcher.stop(timeout=0)

    handler.release.set()

    assert dispatcher.stop(timeout=10) == 0
    visible = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert visible == "2"


def test_processed_messages_leave_the_queue(queues):
    sqs, queue_url, _ = queues
    dispatcher = _dispatcher(queues, lambda event, context: {"batchItemFailures": []})
    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(3)],
    )
    dispatcher.start()

    def drained():
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(value == "0" for value in attributes.values())

    try:
        poll(drained, what="the processed messages deleted")
    finally:
        dispatcher.stop()
    assert dispatcher.stats.invocations == 3


def _unwrapping(queues, handler):
    sqs, queue_url, dlq_url = queues
    return Dispatcher(
        sqs=sqs,
        queue_url=queue_url,
        queue_arn="arn:aws:sqs:us-east-1:123456789012:dispatch",
        dlq_url=dlq_url,
        handler=handler,
        function_name="fn",
        region="us-east-1",
        failures=FailureCapture(),
        workers=1,
        unwrap=True,
    )


def test_unwrapping_dispatcher_hands_the_handler_the_body_as_the_whole_event(queues):
    """EventBridge invokes a Lambda target asynchronously with the event itself, no SQS
    record around it: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html"""
    sqs, queue_url, _ = queues
    seen = []
    dispatcher = _unwrapping(queues, lambda event, context: seen.append(event))
    event = {"version": "0", "detail-type": "GuardDuty Malware Protection Object Scan Result"}
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    dispatcher.start()
    try:
        poll(lambda: seen, what="the invocation")
    finally:
        dispatcher.stop()

    assert seen == [event]


def test_unwrapping_dispatcher_retries_a_raised_error_then_dead_letters_the_event(queues):
    """An asynchronous invocation that fails is retried twice, then sent on:
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"""
    sqs, queue_url, dlq_url = queues
    calls = []

    def failing(event, context):
        calls.append(event)
        raise RuntimeError("table is on fire")

    dispatcher = _unwrapping(queues, failing)
    event = {"version": "0", "id": "scan-1"}
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    dispatcher.start()
    try:

        def dead_lettered():
            response = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)
            return [json.loads(m["Body"]) for m in response.get("Messages", [])]

        [body] = poll(dead_lettered, timeout=20, what="the dead-lettered event")
    finally:
        dispatcher.stop()

    assert calls == [event, event, event]
    assert body["record"] == event
    assert body["attempts"] == 3
