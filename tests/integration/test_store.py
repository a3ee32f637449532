"""The DynamoDB adapter's concurrency control, with the race made deterministic."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from handlers import schema
from handlers.errors import ContentionError, TableNotFoundError
from handlers.events import Upload
from handlers.model import AuditEvent, new_event
from handlers.schema import EventType
from handlers.store import PHASE_OUTCOME, PHASE_RECEIVED, AuditStore, StreamState
from tests.support.pipeline import TABLE, Pipeline
from tests.support.samples import PDF


def upload(sequencer: str) -> Upload:
    return Upload(
        "bkt", "race.pdf", "ObjectCreated:Put", "2026-11-28T10:00:00.000Z", 1, "e", None, sequencer
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


def test_writer_that_lost_the_race_reloads_and_appends_after_the_winner(pipeline: Pipeline) -> None:
    store = pipeline.store
    first, second = upload("01"), upload("02")
    doc = first.document_id
    stale = store.load(doc, second.upload_key)  # both writers read version 0...
    store.append(doc, first.upload_key, PHASE_RECEIVED, builder(first, EventType.RECEIVED), at="t")

    # ...the second commits on its stale view: the condition fails, it reloads, it wins.
    result = store.append(
        doc, second.upload_key, PHASE_RECEIVED, builder(second, EventType.RECEIVED), stale, at="t"
    )

    assert result.appended
    events = list(store.iter_events(doc))
    assert [(e.seq, e.upload_key) for e in events] == [
        (1, first.upload_key),
        (2, second.upload_key),
    ]


def test_phase_recorded_by_another_writer_is_not_appended_again(pipeline: Pipeline) -> None:
    store = pipeline.store
    u = upload("01")
    stale = store.load(u.document_id, u.upload_key)
    store.append(u.document_id, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), at="t")

    result = store.append(
        u.document_id, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), stale, at="t"
    )

    assert not result.appended
    assert len(list(store.iter_events(u.document_id))) == 1


def test_contention_that_never_clears_is_a_transient_error(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AuditStore(
        pipeline.session.client("dynamodb"), TABLE, max_attempts=3, sleep=lambda _: None
    )
    u, other = upload("01"), upload("02")
    stale = store.load(u.document_id, u.upload_key)
    store.append(
        other.document_id,
        other.upload_key,
        PHASE_RECEIVED,
        builder(other, EventType.RECEIVED),
        at="t",
    )
    real_load = AuditStore.load
    monkeypatch.setattr(AuditStore, "load", lambda self, d, k, **_: stale)  # always the old view

    with pytest.raises(ContentionError):
        store.append(
            u.document_id, u.upload_key, PHASE_RECEIVED, builder(u, EventType.RECEIVED), at="t"
        )
    monkeypatch.setattr(AuditStore, "load", real_load)


def test_missing_table_is_reported_as_such(session: boto3.session.Session) -> None:
    store = AuditStore(session.client("dynamodb"), "no-such-table")

    with pytest.raises(TableNotFoundError, match="no-such-table"):
        store.get_status(schema.document_id("bkt", "x"))


def test_list_by_status_pages_newest_first(pipeline: Pipeline) -> None:
    for minute in range(5):
        pipeline.process(
            pipeline.upload(f"f{minute}.pdf", PDF, event_time=f"2026-11-28T10:0{minute}:00.000Z")
        )

    first = pipeline.store.list_by_status("SUCCESS", limit=3)
    second = pipeline.store.list_by_status("SUCCESS", limit=3, cursor=first.cursor)

    keys = [s.key for s in first.items + second.items]
    assert keys == ["f4.pdf", "f3.pdf", "f2.pdf", "f1.pdf", "f0.pdf"]
    assert (
        pipeline.store.list_by_status("SUCCESS", since="2026-11-28T10:03").items[-1].key == "f3.pdf"
    )


def test_resent_transaction_that_meets_its_own_marker_reports_the_append(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost response: the first send took effect, the resend is cancelled by our marker."""
    store = pipeline.store
    client = store._client
    real = client.transact_write_items

    def send_twice(**kwargs: Any) -> Any:
        real(**kwargs)
        return real(**kwargs)  # raises TransactionCanceledException, as a resend would

    monkeypatch.setattr(client, "transact_write_items", send_twice)
    u = upload("01")

    result = store.append(
        u.document_id, u.upload_key, PHASE_OUTCOME, builder(u, EventType.STORED), at="t"
    )

    assert result.appended
    assert len(list(store.iter_events(u.document_id))) == 1
