"""The store's consistent BatchGetItem loop against a client that never catches up."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import schema
from handlers.errors import TransientError
from handlers.store import AuditStore

TABLE = "audit"
# More calls than any bounded loop makes: reaching it means the loop has no bound.
RUNAWAY = 100


class Throttled:
    """BatchGetItem that answers part of the first request, then leaves the rest unprocessed."""

    def __init__(self, *, catches_up_after: int | None = None) -> None:
        self.calls = 0
        self._catches_up_after = catches_up_after

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        assert self.calls < RUNAWAY, "BatchGetItem retried without a bound"
        keys = RequestItems[TABLE]["Keys"]
        if self._catches_up_after is not None and self.calls > self._catches_up_after:
            # This upload's RECEIVED marker exists; nothing else does.
            found = [
                {**key, "phase": {"S": "RECEIVED"}}
                for key in keys
                if key[schema.SORT_KEY]["S"].endswith("#RECEIVED")
            ]
            return {"Responses": {TABLE: found}}
        return {"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: RequestItems[TABLE]}}


def store(client: Throttled, max_attempts: int = 4) -> AuditStore:
    return AuditStore(client, TABLE, max_attempts=max_attempts, sleep=lambda _: None)  # type: ignore[arg-type]


def test_unprocessed_keys_that_never_clear_are_a_transient_error() -> None:
    """DynamoDB may return UnprocessedKeys for any BatchGetItem under throttling:
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
    A bounded loop raises the transient error, so Lambda retries the record later.
    """
    client = Throttled()

    with pytest.raises(TransientError, match="unprocessed"):
        store(client).load("doc-1", "upload-1")

    assert client.calls == 4


def test_unprocessed_keys_are_read_again_until_they_clear() -> None:
    client = Throttled(catches_up_after=2)

    state = store(client).load("doc-1", "upload-1")

    assert client.calls == 3
    assert state.phases_done == frozenset({"RECEIVED"})
    assert state.status is None
