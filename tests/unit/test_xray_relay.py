"""The local X-Ray daemon: uploads segment documents in batches, as the daemon does."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from filetrail.local.xray_relay import XRayRelay

HEADER = json.dumps({"format": "json", "version": 1}).encode()


class RecordingXRay:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def put_trace_segments(self, TraceSegmentDocuments: list[str]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(list(TraceSegmentDocuments))
        return {"UnprocessedTraceSegments": []}

    def documents(self) -> list[str]:
        with self._lock:
            return [document for call in self.calls for document in call]


@pytest.fixture
def running() -> Iterator[tuple[XRayRelay, RecordingXRay]]:
    xray = RecordingXRay()
    relay = XRayRelay(xray)
    relay.start()
    yield relay, xray
    relay.stop()


def _send(relay: XRayRelay, *documents: str) -> None:
    host, port = relay.address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for document in documents:
            sender.sendto(HEADER + b"\n" + document.encode(), (host, int(port)))


def _wait_for(xray: RecordingXRay, count: int) -> list[str]:
    deadline = time.monotonic() + 5
    while len(xray.documents()) < count and time.monotonic() < deadline:
        time.sleep(0.01)  # polling interval of a deadline-bounded wait
    return xray.documents()


def test_documents_sent_together_are_uploaded_in_one_request(running) -> None:
    relay, xray = running
    documents = [json.dumps({"id": f"{n:016x}"}) for n in range(5)]

    _send(relay, *documents)

    assert _wait_for(xray, 5) == documents
    assert len(xray.calls) == 1


def test_datagram_that_is_not_a_segment_is_dropped(running) -> None:
    relay, xray = running
    host, port = relay.address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(b"not a segment", (host, int(port)))
    _send(relay, '{"id": "0000000000000001"}')

    assert _wait_for(xray, 1) == ['{"id": "0000000000000001"}']


def test_documents_waiting_at_stop_are_still_uploaded() -> None:
    xray = RecordingXRay()
    relay = XRayRelay(xray)
    _send(relay, *(json.dumps({"id": f"{n:016x}"}) for n in range(3)))
    relay.start()

    relay.stop()

    assert len(xray.documents()) == 3
