"""The handler's X-Ray output, as the daemon receives it: real segment documents over UDP.

In Lambda the SDK hangs subsegments off the facade segment named by `_X_AMZN_TRACE_ID`
and streams each one to the daemon when it closes. The test plays the daemon.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.context import Context
from aws_xray_sdk.core.lambda_launcher import LambdaContext

from tests.support.pipeline import Pipeline
from tests.support.samples import PDF, PE_EXE

TRACE_ID = "1-6748a2f1-5d2c9e0a7b3f4c1d8e9a0b1c"
PARENT_ID = "53995c3f42cd8ad8"
HEADER = '{"format":"json","version":1}\n'


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A UDP socket standing in for the X-Ray daemon, and the SDK in Lambda mode."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1")
    global_sdk_config.set_sdk_enabled(True)
    # What the SDK sets up by itself when imported inside Lambda: facade context, and
    # every closed subsegment streamed out at once.
    threshold = xray_recorder.streaming_threshold
    xray_recorder.configure(
        context=LambdaContext(), daemon_address=f"127.0.0.1:{port}", streaming_threshold=0
    )
    try:
        yield listener
    finally:
        xray_recorder.configure(
            context=Context(), daemon_address="127.0.0.1:2000", streaming_threshold=threshold
        )
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


def test_trace_id_is_written_on_every_event(daemon: socket.socket, pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    receive(daemon, has_process)

    assert {event.trace_id for event in pipeline.events("doc.pdf")} == {TRACE_ID}
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.trace_id == TRACE_ID
