"""A key is chosen by whoever uploads: human output shows it escaped and never as markup,
so terminal control sequences, C1 controls and bidi overrides in it stay inert."""

from __future__ import annotations

import json
import time

import pytest

from filetrail import render
from filetrail.inert import inert
from filetrail.listing import list_files
from handlers.schema import Status
from handlers.store import AuditStore
from tests.cli.test_dlq import invocation_record
from tests.cli.test_verify import _tamper

# Clear screen (CSI), an OSC window title ended by BEL, an 8-bit CSI (C1), a right-to-left
# override that would show "exe.png" as "gnp.exe", and rich markup.
HOSTILE = "x\x1b[2J\x1b]0;pwned\x07\x9b31m\u202egnp.exe[bold]b[/bold]"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")
TRACE_ID = "1-6748a2f1-0badc0de0badc0de0badc0de"  # its own: the emulator is shared


def _assert_inert(*streams: str) -> None:
    for stream in streams:
        for raw in RAW:
            assert raw not in stream, f"raw {raw!r} reached the output: {stream!r}"


def _assert_shown_escaped(stream: str) -> None:
    assert "x\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202egnp.exe[bold]b[/bold]" in stream


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain résumé ✓.txt", "plain résumé ✓.txt"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("\x9b\x7f", "\\x9b\\x7f"),
        ("\u202e\u2066\u200f", "\\u202e\\u2066\\u200f"),
        ("tab\tnew\nline\r", "tab\\tnew\\nline\\r"),
        ("\U000e0041", "\\U000e0041"),
    ],
)
def test_inert_escapes_only_what_is_not_printable(value, shown):
    assert inert(value) == shown


def test_list_shows_a_hostile_key_escaped(stack, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # the whole key on one line
    stack.upload(HOSTILE, b"hello")

    result = cli("list")

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_history_shows_a_hostile_key_escaped(stack, cli):
    stack.upload(HOSTILE, b"hello")

    result = cli("history", stack.uri(HOSTILE))

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_status_shows_a_hostile_key_escaped(stack, cli):
    stack.upload(HOSTILE, b"hello")

    result = cli("status", stack.uri(HOSTILE))

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_trace_shows_a_hostile_key_and_annotation_escaped(stack, cli, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent=aaaaaaaaaaaaaaaa;Sampled=1")
    stack.upload(HOSTILE, b"hello")
    now = time.time()
    segment = {
        "name": "filetrail-handler",
        "id": "aaaaaaaaaaaaaaaa",
        "trace_id": TRACE_ID,
        "start_time": now,
        "end_time": now + 0.1,
        "annotations": {"key": HOSTILE},
    }
    stack.session.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])

    result = cli("trace", stack.uri(HOSTILE))

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_verify_drift_shows_a_hostile_key_escaped(stack, cli):
    stack.upload(HOSTILE, b"hello")
    _tamper(stack, HOSTILE)

    result = cli("verify", stack.uri(HOSTILE))

    assert result.code == 3, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_reprocess_shows_a_hostile_key_escaped(stack, cli):
    stack.upload(HOSTILE, b"hello")

    result = cli("reprocess", stack.uri(HOSTILE), "--queue-url", stack.queue_url)

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)


def test_an_error_naming_a_hostile_key_is_escaped(stack, cli):
    result = cli("status", stack.uri(HOSTILE))

    assert result.code == 1
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.err)


def test_json_output_keeps_a_hostile_key_exact(stack, cli):
    stack.upload(HOSTILE, b"hello")

    result = cli("status", stack.uri(HOSTILE), "--json")

    assert result.json()["key"] == HOSTILE


def test_follow_line_shows_a_hostile_key_escaped(stack, cli):
    stack.upload(HOSTILE, b"hello")
    [item] = list_files(
        AuditStore(stack.session.client("dynamodb"), stack.table),
        tuple(Status),
        since=None,
        limit=10,
        cursor=None,
    ).items

    shown = render.outcome_line(item, stack.bucket).plain

    _assert_inert(shown)
    _assert_shown_escaped(shown)


def test_dlq_list_shows_a_hostile_key_escaped(stack, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # the whole key on one line
    sqs = stack.session.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{stack.table}-hostile-dlq")["QueueUrl"]
    event = stack.put(HOSTILE, b"hello")
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(invocation_record(event)))

    result = cli("dlq", "list", "--dlq-url", dlq_url)

    assert result.code == 0, result.err
    _assert_inert(result.out, result.err)
    _assert_shown_escaped(result.out)
