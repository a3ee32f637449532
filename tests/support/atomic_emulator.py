"""Make moto's in-process backend handle one request at a time.

moto's backends are not thread-safe (a TransactWriteItems deep-copies a table while
another thread writes to it). Real DynamoDB makes each request atomic, and the races
filetrail must survive are between requests, not inside one, so serialising requests
at the emulator models the real service faithfully while threads still interleave.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.core.botocore_stubber import BotocoreStubber

_lock = threading.RLock()


def serialize_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BotocoreStubber.process_request

    def atomic(self: BotocoreStubber, request: Any) -> Any:
        with _lock:
            return original(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", atomic)
