from __future__ import annotations

import io
import json
import sys
from urllib.parse import unquote_plus


def test_reprocess_sends_a_synthetic_notification_to_the_queue(stack, cli):
    stack.upload("dir/a b+c.txt", b"hello")

    result = cli("reprocess", stack.uri("dir/a b+c.txt"), "--queue-url", stack.queue_url, "--json")

    assert result.code == 0, result.err
    submission = result.json()
    assert submission["via"] == "queue"
    [message] = stack.session.client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]
    [record] = json.loads(message["Body"])["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert unquote_plus(record["s3"]["object"]["key"]) == "dir/a b+c.txt"
    assert record["s3"]["object"]["versionId"]
    assert record["filetrail"]["reprocessId"] == submission["reprocessId"]


def test_reprocessed_notification_only_adds_events(stack, cli):
    stack.upload("a.txt", b"hello")
    cli("reprocess", stack.uri("a.txt"), "--queue-url", stack.queue_url)
    [message] = stack.session.client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]

    stack.runtime.handle(json.loads(message["Body"]), None)

    events = cli("history", stack.uri("a.txt"), "--json").json()["events"]
    assert [e["type"] for e in events] == ["RECEIVED", "VALIDATED", "STORED"] * 2


def test_reprocess_table_output_names_the_target(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("reprocess", stack.uri("a.txt"), "--queue-url", stack.queue_url)

    assert result.code == 0, result.err
    assert "via queue" in result.out


def test_reprocess_without_a_function_or_queue_names_the_settings(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("reprocess", stack.uri("a.txt"))

    assert result.code == 1
    assert "FILETRAIL_FUNCTION" in result.err


def test_reprocess_to_an_unknown_function_fails_clearly(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("reprocess", stack.uri("a.txt"), "--function", "no-such-function")

    assert result.code == 1
    assert "function not found" in result.err


def test_reprocess_of_an_unknown_file_fails(stack, cli):
    result = cli("reprocess", stack.uri("missing.txt"), "--queue-url", stack.queue_url)

    assert result.code == 1
    assert "no status for" in result.err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_reprocess_wait_shows_progress_on_a_terminal(stack, cli, processing, monkeypatch):
    stack.upload("a.txt", b"hello")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # The handler only runs once the spinner is up, so the wait is certain to be shown.
    processing.gate = lambda: "waiting for the outcome of reprocess" in terminal.getvalue()

    result = cli("reprocess", stack.uri("a.txt"), "--queue-url", stack.queue_url, "--wait")

    assert result.code == 0, terminal.getvalue()
    assert "s)" in terminal.getvalue()  # the seconds waited
    assert "STORED" in result.out


def test_reprocess_wait_is_quiet_when_not_a_terminal(stack, cli, processing):
    stack.upload("a.txt", b"hello")

    result = cli(
        "reprocess", stack.uri("a.txt"), "--queue-url", stack.queue_url, "--wait", "--json"
    )

    assert result.code == 0, result.err
    assert result.err == ""
    assert result.json()["outcome"]["type"] == "STORED"
