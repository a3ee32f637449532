from __future__ import annotations

import json
import time

TRACE_ID = "1-6748a2f1-5d2c9e0a7b3f4c1d8e9a0b1c"


def _seed_trace(stack) -> None:
    now = time.time()
    segment = {
        "name": "filetrail-handler",
        "id": "aaaaaaaaaaaaaaaa",
        "trace_id": TRACE_ID,
        "start_time": now,
        "end_time": now + 0.1,
        "subsegments": [
            {
                "name": "process",
                "id": "bbbbbbbbbbbbbbbb",
                "start_time": now + 0.01,
                "end_time": now + 0.09,
                "annotations": {"outcome": "STORED"},
                "subsegments": [
                    {
                        "name": "dynamodb",
                        "id": "cccccccccccccccc",
                        "namespace": "aws",
                        "aws": {"operation": "TransactWriteItems"},
                        "start_time": now + 0.02,
                        "end_time": now + 0.05,
                    }
                ],
            }
        ],
    }
    stack.session.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])


def test_trace_json_is_the_timeline_of_the_latest_event(stack, cli, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent=aaaaaaaaaaaaaaaa;Sampled=1")
    stack.upload("a.txt", b"hello")
    _seed_trace(stack)

    result = cli("trace", stack.uri("a.txt"), "--json")

    assert result.code == 0, result.err
    trace = result.json()
    assert trace["traceId"] == TRACE_ID
    assert trace["seq"] == 3
    assert [(s["name"], s["depth"]) for s in trace["spans"]] == [
        ("filetrail-handler", 0),
        ("process", 1),
        ("dynamodb", 2),
    ]
    assert trace["spans"][1]["annotations"] == {"outcome": "STORED"}
    assert trace["spans"][2]["operation"] == "TransactWriteItems"
    assert trace["spans"][2]["offsetMs"] == 20.0
    assert trace["consoleUrl"] is None


def test_trace_table_draws_spans_with_durations(stack, cli, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent=aaaaaaaaaaaaaaaa;Sampled=1")
    stack.upload("a.txt", b"hello")
    _seed_trace(stack)

    result = cli("trace", stack.uri("a.txt"), "--event", "1")

    assert result.code == 0, result.err
    assert "process" in result.out
    assert "dynamodb TransactWriteItems" in result.out
    assert "outcome=STORED" in result.out
    assert "console:" not in result.out


def test_trace_of_an_event_without_trace_id_fails(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("trace", stack.uri("a.txt"))

    assert result.code == 1
    assert "carries a trace id" in result.err


def test_trace_missing_from_xray_fails_clearly(stack, cli, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6748a2f1-000000000000000000000000")
    stack.upload("a.txt", b"hello")

    result = cli("trace", stack.uri("a.txt"))

    assert result.code == 1
    assert "X-Ray has no trace" in result.err


def test_trace_of_a_missing_event_seq_fails(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("trace", stack.uri("a.txt"), "--event", "9")

    assert result.code == 1
    assert "has no event 9" in result.err
