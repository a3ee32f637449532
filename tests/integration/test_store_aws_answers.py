"""The store under answers AWS gives and moto never does: conflicts, pages, unprocessed keys.

moto runs each transaction alone, answers a query in one page and processes every key
of a BatchGetItem, so these answers are injected around the emulated client, shaped as
AWS documents them.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.events import Upload
from handlers.model import AuditEvent, new_event
from handlers.schema import EventType
from handlers.store import PHASE_OUTCOME, PHASE_RECEIVED, AuditStore, StreamState
from tests.support.pipeline import TABLE, Pipeline


def upload(sequencer: str) -> Upload:
    return Upload(
        "bkt", "aws.pdf", "ObjectCreated:Put", "2026-11-28T10:00:00.000Z", 1, "e", None, sequencer
    )


def builder(u: Upload, *types: EventType) -> Any:
    def build(state: StreamState) -> list[AuditEvent]:
        return [
            new_event(
                u, state.version + i, t, "2026-11-28T10:00:00.000Z", trace_id=None, request_id=None
            )
            for i, t in enumerate(types, start=1)
        ]

    return build


@pytest.fixture
def store(pipeline: Pipeline) -> AuditStore:
    return AuditStore(pipeline.session.client("dynamodb"), TABLE, sleep=lambda _: None)


def test_transaction_conflict_is_retried_and_the_append_lands_once(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS cancels a transaction whose item another transaction is writing, with the reason
    `TransactionConflict` for that item and `None` for the others
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
    "TransactionCanceledException"); moto serialises transactions and never answers it."""
    u = upload("01")
    store.append(
        u.document_id, u.upload_key, PHASE_RECEIVED, builder(u, EventType.RECEIVED), at="t"
    )
    client = store._client
    real = client.transact_write_items
    sent: list[int] = []

    def conflict_once(**kwargs: Any) -> Any:
        sent.append(len(kwargs["TransactItems"]))
        if len(sent) == 1:
            reasons = [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1)
            raise ClientError(
                {
                    "Error": {
                        "Code": "TransactionCanceledException",
                        "Message": "Transaction cancelled, please refer cancellation reasons",
                    },
                    "CancellationReasons": [*reasons, {"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", conflict_once)

    result = store.append(
        u.document_id, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), at="t"
    )

    assert (result.appended, len(sent)) == (True, 2)
    assert [e.type for e in store.iter_events(u.document_id)] == [
        EventType.RECEIVED,
        EventType.STORED,
    ]


def test_stream_longer_than_one_query_page_is_read_to_the_end(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Query returns at most 1 MB and a LastEvaluatedKey to continue from
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html);
    moto pages only when asked to, so every query here is limited to two items a page."""
    uploads = [upload(f"{n:02X}") for n in range(1, 4)]
    doc = uploads[0].document_id
    for u in uploads:
        store.append(doc, u.upload_key, PHASE_RECEIVED, builder(u, EventType.RECEIVED), at="t")
        store.append(doc, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), at="t")
    client = store._client
    real = client.query
    pages: list[int] = []

    def small_pages(**kwargs: Any) -> Any:
        response = real(**{"Limit": 2, **kwargs})
        pages.append(len(response.get("Items", [])))
        return response

    monkeypatch.setattr(client, "query", small_pages)

    events = list(store.iter_events(doc))

    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert len(pages) >= 3


def test_unprocessed_keys_are_read_again_before_the_stream_is_judged(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BatchGetItem may return some or all keys as UnprocessedKeys, with no error, when it
    is throttled or over its response size
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html);
    moto always processes every key. Taken as absent, they would make a recorded upload look
    new and append it again."""
    u = upload("01")
    store.append(u.document_id, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), at="t")
    client = store._client
    real = client.batch_get_item
    calls: list[int] = []

    def nothing_processed_first(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            table = next(iter(kwargs["RequestItems"]))
            return {"Responses": {table: []}, "UnprocessedKeys": kwargs["RequestItems"]}
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_get_item", nothing_processed_first)

    state = store.load(u.document_id, u.upload_key)

    assert state.status is not None
    assert (state.version, state.phases_done) == (1, frozenset({PHASE_OUTCOME}))
    assert len(calls) == 2
