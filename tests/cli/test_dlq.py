"""`filetrail dlq list` and `dlq redrive`: what reached the dead-letter queue, and the
round trip back through processing, via local mode's queue and via the function."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from filetrail.local.stack import Endpoints
from handlers import schema
from handlers.logs import LOGGER_NAME
from handlers.schema import Status
from handlers.store import AuditStore
from tests.support.scan_events import scan_event

FUNCTION = "filetrail-test-function"


def invocation_record(event: dict[str, Any]) -> dict[str, Any]:
    """What Lambda's on-failure destination sends after the retries, per
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"""
    return {
        "version": "1.0",
        "timestamp": "2026-11-30T09:15:02.123Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4c8b-8880-a18cdf61200e",
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorType": "TransientError", "errorMessage": "table throttled"},
    }


def local_dead_letter(event: dict[str, Any]) -> dict[str, Any]:
    """What local mode's dispatcher parks after three attempts (filetrail/local/dispatcher.py)."""
    return {
        "source": "filetrail-local-dispatcher",
        "reason": "RETRIES_EXHAUSTED",
        "error": "TransientError: table throttled",
        "attempts": 3,
        "messageId": "0f6b3c1e-6a43-4d4e-9d0c-3f1d6e3c9a11",
        "record": event,
    }


@pytest.fixture
def dlq_url(stack, monkeypatch: pytest.MonkeyPatch) -> str:
    url = stack.session.client("sqs").create_queue(QueueName=f"{stack.table}-dlq")["QueueUrl"]
    monkeypatch.setenv("FILETRAIL_DLQ_URL", url)
    return url


def _send(stack, dlq_url: str, body: dict[str, Any]) -> None:
    stack.session.client("sqs").send_message(QueueUrl=dlq_url, MessageBody=json.dumps(body))


def _queued(stack, dlq_url: str) -> int:
    attributes = stack.session.client("sqs").get_queue_attributes(
        QueueUrl=dlq_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _wait_for_outcome(stack, key: str, deadline_seconds: float = 15.0) -> str:
    store = AuditStore(stack.session.client("dynamodb"), stack.table)
    document_id = schema.document_id(stack.bucket, key)
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        item = store.get_status(document_id)
        if item is not None and item.status in (Status.SUCCESS, Status.FAILED):
            return str(item.status)
        time.sleep(0.05)  # polling interval of a deadline-bounded wait
    raise AssertionError(f"{key} was not processed within {deadline_seconds}s")


@dataclass
class FakeLambda:
    """Lambda's Invoke API on loopback: accepts an asynchronous invoke of FUNCTION with
    202 and runs the handler on the event, as Lambda would; refuses any other function."""

    stack: Any
    endpoint: str = ""
    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def fake_lambda(stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLambda]:
    monkeypatch.setattr(logging.getLogger(LOGGER_NAME), "disabled", True)
    fake = FakeLambda(stack)

    class Invoke(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            name = self.path.split("/functions/", 1)[1].split("/", 1)[0]
            if name != FUNCTION:
                error = json.dumps({"Type": "User", "Message": f"Function not found: {name}"})
                self._reply(404, error.encode(), {"x-amzn-ErrorType": "ResourceNotFoundException"})
                return
            event = json.loads(body)
            fake.invocations.append((self.headers.get("X-Amz-Invocation-Type", ""), event))
            self._reply(202, b"", {})
            stack.runtime.handle(event, None)

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Invoke)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", fake.endpoint)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def test_dlq_list_shows_reason_file_time_and_attempts(stack, cli, dlq_url):
    _send(stack, dlq_url, invocation_record(stack.put("in/a b.txt", b"hello")))

    result = cli("dlq", "list", "--json")

    assert result.code == 0, result.err
    [message] = result.json()["messages"]
    assert message["reason"] == "RetriesExhausted"
    assert message["error"] == "TransientError: table throttled"
    assert message["files"] == [stack.uri("in/a b.txt")]
    assert message["at"] == "2026-11-30T09:15:02.123Z"
    assert message["attempts"] == 1
    assert message["redrivable"] is True


def test_dlq_list_reads_local_mode_dead_letters(stack, cli, dlq_url):
    _send(stack, dlq_url, local_dead_letter(stack.put("a.txt", b"hello")))

    [message] = cli("dlq", "list", "--json").json()["messages"]

    assert message["reason"] == "RETRIES_EXHAUSTED"
    assert message["files"] == [stack.uri("a.txt")]
    assert message["at"]  # when SQS received it


def test_dlq_list_leaves_every_message_in_the_queue(stack, cli, dlq_url):
    for key in ("a.txt", "b.txt"):
        _send(stack, dlq_url, invocation_record(stack.put(key, b"hello")))

    first = cli("dlq", "list", "--json").json()["messages"]
    second = cli("dlq", "list", "--json").json()["messages"]

    assert len(first) == len(second) == 2
    assert {m["attempts"] for m in second} == {2}


def test_dlq_list_table_names_the_file_and_reason(stack, cli, dlq_url, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the whole URI on one line
    _send(stack, dlq_url, invocation_record(stack.put("a.txt", b"hello")))

    result = cli("dlq", "list")

    assert result.code == 0, result.err
    assert "RetriesExhausted" in result.out
    assert stack.uri("a.txt") in result.out


def test_dlq_list_of_an_empty_queue_says_so(stack, cli, dlq_url):
    result = cli("dlq", "list")

    assert result.code == 0, result.err
    assert "empty" in result.out


def test_dlq_without_a_queue_names_every_way_to_set_it(stack, cli):
    result = cli("dlq", "list")

    assert result.code == 1
    assert "--dlq-url" in result.err
    assert "FILETRAIL_DLQ_URL" in result.err


def test_dlq_redrive_through_local_queue_processes_the_file(stack, cli, dlq_url, processing):
    _send(stack, dlq_url, local_dead_letter(stack.put("a.txt", b"hello")))

    result = cli("dlq", "redrive", "--queue-url", stack.queue_url, "--json")

    assert result.code == 0, result.err
    assert [m["files"] for m in result.json()["redriven"]] == [[stack.uri("a.txt")]]
    assert _wait_for_outcome(stack, "a.txt") == "SUCCESS"
    assert _queued(stack, dlq_url) == 0


def test_dlq_redrive_invokes_the_function_with_the_original_event(stack, cli, dlq_url, fake_lambda):
    event = stack.put("a.txt", b"hello")
    _send(stack, dlq_url, invocation_record(event))

    result = cli("dlq", "redrive", "--function", FUNCTION)

    assert result.code == 0, result.err
    assert fake_lambda.invocations == [("Event", event)]
    assert _wait_for_outcome(stack, "a.txt") == "SUCCESS"
    assert _queued(stack, dlq_url) == 0


def test_dlq_redrive_keeps_a_message_the_function_did_not_accept(stack, cli, dlq_url, fake_lambda):
    _send(stack, dlq_url, invocation_record(stack.put("a.txt", b"hello")))

    result = cli("dlq", "redrive", "--function", "no-such-function")

    assert result.code == 1
    assert "function not found" in result.err
    # Released at once, not after the hold: the next listing sees it.
    assert len(cli("dlq", "list", "--json").json()["messages"]) == 1


def test_dlq_redrive_keeps_a_message_that_carries_no_event(stack, cli, dlq_url, processing):
    stack.session.client("sqs").send_message(QueueUrl=dlq_url, MessageBody="not an event")

    result = cli("dlq", "redrive", "--queue-url", stack.queue_url, "--json")

    assert result.code == 0, result.err
    assert result.json()["redriven"] == []
    assert len(result.json()["kept"]) == 1
    assert _queued(stack, dlq_url) == 1


def _undelivered_scan(stack, dlq_url: str, key: str) -> dict[str, Any]:
    """What EventBridge parks when it cannot deliver to its target: the event as the body,
    why in message attributes, per
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html"""
    stack.put(key, b"hello")
    version = stack.session.client("s3").head_object(Bucket=stack.bucket, Key=key)
    event = scan_event(
        stack.bucket, key, version_id=version.get("VersionId"), etag=version["ETag"].strip('"')
    )
    stack.session.client("sqs").send_message(
        QueueUrl=dlq_url,
        MessageBody=json.dumps(event),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": "Lambda throttled"},
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": "185"},
        },
    )
    return event


def test_dlq_list_names_the_file_of_a_scan_result_eventbridge_could_not_deliver(
    stack, cli, dlq_url
):
    _undelivered_scan(stack, dlq_url, "in/a b.txt")

    [message] = cli("dlq", "list", "--json").json()["messages"]

    assert (message["source"], message["reason"], message["error"]) == (
        "eventbridge",
        "SDK_CLIENT_ERROR",
        "Lambda throttled",
    )
    assert message["files"] == [stack.uri("in/a b.txt")]
    assert message["redrivable"] is True


def test_dlq_redrive_of_a_scan_result_through_local_queue_records_the_scan(
    stack, cli, dlq_url, processing
):
    _undelivered_scan(stack, dlq_url, "a.txt")

    result = cli("dlq", "redrive", "--queue-url", stack.queue_url, "--json")

    assert result.code == 0, result.err
    assert len(result.json()["redriven"]) == 1
    store = AuditStore(stack.session.client("dynamodb"), stack.table)
    document_id = schema.document_id(stack.bucket, "a.txt")
    deadline = time.monotonic() + 15
    while not any(e.type == "SCANNED" for e in store.iter_events(document_id)):
        assert time.monotonic() < deadline, "the redriven scan result was never recorded"
        time.sleep(0.05)  # polling interval of a deadline-bounded wait
    assert _queued(stack, dlq_url) == 0


def test_dlq_redrive_of_a_scan_result_invokes_the_function_with_the_event(
    stack, cli, dlq_url, fake_lambda
):
    event = _undelivered_scan(stack, dlq_url, "a.txt")

    result = cli("dlq", "redrive", "--function", FUNCTION)

    assert result.code == 0, result.err
    assert fake_lambda.invocations == [("Event", event)]
    assert _queued(stack, dlq_url) == 0


def test_local_mode_exports_its_dead_letter_queue():
    endpoints = Endpoints("http://127.0.0.1:1", "us-east-1", "b", "t", "q", "dlq-url")

    assert endpoints.environment()["FILETRAIL_DLQ_URL"] == "dlq-url"
