"""The handler's X-Ray output, as the daemon receives it: real segment documents over UDP.

In Lambda the function's segment is Lambda's; the handler sends each subsegment, as it
closes, to the daemon named by AWS_XRAY_DAEMON_ADDRESS, hanging it off the Parent of
`_X_AMZN_TRACE_ID`. The test plays the daemon.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.pipeline import Pipeline
from tests.support.samples import PDF, PE_EXE

TRACE_ID = "1-6748a2f1-5d2c9e0a7b3f4c1d8e9a0b1c"
PARENT_ID = "53995c3f42cd8ad8"
HEADER = '{"format":"json","version":1}\n'


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A UDP socket standing in for the X-Ray daemon, and an invocation's trace context."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{port}")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1")
    try:
        yield listener
    finally:
        listener.close()


def receive(listener: socket.socket, until: Any, deadline_s: float = 5.0) -> list[dict[str, Any]]:
    """Collect segment documents until `until(documents)` holds or the deadline passes."""
    documents: list[dict[str, Any]] = []
    deadline = time.monotonic() + deadline_s
    while not until(documents):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        listener.settimeout(remaining)
        try:
            packet = listener.recv(65535).decode()
        except TimeoutError:
            break
        assert packet.startswith(HEADER)
        documents.append(json.loads(packet[len(HEADER) :]))
    return documents


def by_name(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["name"]: doc for doc in documents if doc.get("namespace") != "aws"}


def has_process(documents: list[dict[str, Any]]) -> bool:
    return "process" in by_name(documents)


def test_stages_are_subsegments_of_the_invocation_trace(
    pipeline: Pipeline, daemon: socket.socket
) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    documents = by_name(receive(daemon, has_process))

    assert {"process", "load", "record", "inspect", "validate", "tag"} <= set(documents)
    for document in documents.values():
        assert document["trace_id"] == TRACE_ID
        assert document["type"] == "subsegment"
        assert document["end_time"] >= document["start_time"]
    assert documents["process"]["parent_id"] == PARENT_ID


def test_stages_nest_under_process(pipeline: Pipeline, daemon: socket.socket) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    documents = by_name(receive(daemon, has_process))

    process_id = documents["process"]["id"]
    for stage in ("load", "record", "inspect", "validate", "tag"):
        assert documents[stage]["parent_id"] == process_id, stage


def test_outcome_annotations_are_searchable(daemon: socket.socket, pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("evil.jpg", PE_EXE))

    process = by_name(receive(daemon, has_process))["process"]

    assert process["annotations"] == {
        "documentId": pipeline.events("evil.jpg")[0].document_id,
        "outcome": "REJECTED",
        "reason": "TYPE_MISMATCH",
    }


def test_aws_calls_are_traced_as_aws_subsegments(daemon: socket.socket, pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    documents = receive(daemon, has_process)

    operations = {d["aws"].get("operation") for d in documents if d.get("namespace") == "aws"}
    assert {"GetObject", "TransactWriteItems", "BatchGetItem", "PutObjectTagging"} <= operations


def test_aws_subsegments_name_the_service_and_hang_off_the_stage(
    daemon: socket.socket, pipeline: Pipeline
) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    documents = receive(daemon, has_process)

    stages = by_name(documents)
    get_object = next(d for d in documents if d.get("aws", {}).get("operation") == "GetObject")
    assert get_object["name"] == "S3"
    assert get_object["trace_id"] == TRACE_ID
    assert get_object["parent_id"] == stages["inspect"]["id"]
    assert get_object["aws"]["bucket_name"]
    assert get_object["aws"]["region"] == "us-east-1"
    assert get_object["http"]["response"]["status"] in {200, 206}
    transaction = next(
        d for d in documents if d.get("aws", {}).get("operation") == "TransactWriteItems"
    )
    assert transaction["name"] == "DynamoDB"
    assert transaction["aws"]["table_names"]


def test_trace_id_is_written_on_every_event(daemon: socket.socket, pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    receive(daemon, has_process)

    assert {event.trace_id for event in pipeline.events("doc.pdf")} == {TRACE_ID}
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.trace_id == TRACE_ID


def test_unsampled_invocation_sends_nothing_but_keeps_the_trace_id(
    daemon: socket.socket, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=0")

    pipeline.process(pipeline.upload("doc.pdf", PDF))

    assert receive(daemon, has_process, deadline_s=0.5) == []
    assert {event.trace_id for event in pipeline.events("doc.pdf")} == {TRACE_ID}


def test_the_record_span_says_what_a_join_decided_at_write_time(
    session: Any, daemon: socket.socket
) -> None:
    """With malware scanning, a validated file's write records AWAITING_SCAN, not STORED."""
    from tests.support.pipeline import provision  # noqa: PLC0415

    scanning = provision(session, MALWARE_SCAN="guardduty")
    scanning.process(scanning.upload("doc.pdf", PDF))

    records = [
        doc
        for doc in receive(daemon, has_process)
        if doc.get("name") == "record" and doc.get("namespace") != "aws"
    ]

    outcomes = [doc.get("annotations", {}).get("outcome") for doc in records]
    assert outcomes[-1] == "AWAITING_SCAN"
