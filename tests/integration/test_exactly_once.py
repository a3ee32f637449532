"""Retries, duplicates, reordering, concurrency and crashes never lose or duplicate events."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from handlers.errors import TransientError
from handlers.schema import Status, document_id
from handlers.store import PHASE_OUTCOME, AuditStore
from tests.support.atomic_emulator import serialize_requests
from tests.support.pipeline import BUCKET, Pipeline
from tests.support.s3_events import sqs_event
from tests.support.samples import PDF, PE_EXE, PNG


def test_notification_delivered_twice_appends_nothing_the_second_time(pipeline: Pipeline) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    pipeline.process(record)
    before = pipeline.events("doc.pdf")

    result = pipeline.process(record)

    assert result == {"outcomes": ["DUPLICATE"]}
    assert pipeline.events("doc.pdf") == before


def test_redelivery_hours_later_appends_nothing(pipeline: Pipeline) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    pipeline.process(record)
    pipeline.process(pipeline.upload("other.pdf", PDF))  # the table moves on meanwhile

    # Lambda redelivers the identical event for up to 6 hours; nothing in it or in the
    # idempotency marker depends on when it arrives.
    pipeline.process(record)

    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED"]


def test_duplicate_inside_one_sqs_batch_is_recorded_once(pipeline: Pipeline) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    body = {"Records": [record]}

    result = pipeline.handle(sqs_event(body, body))

    assert result == {"batchItemFailures": []}
    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED"]


def test_out_of_order_uploads_both_recorded_and_status_ends_at_the_newer(
    pipeline: Pipeline,
) -> None:
    older = pipeline.upload("doc.pdf", PDF)
    newer = pipeline.upload("doc.pdf", PE_EXE)  # the newer upload is the bad one

    pipeline.process(newer)
    pipeline.process(older)

    assert pipeline.types("doc.pdf") == ["RECEIVED", "REJECTED", "RECEIVED", "VALIDATED", "STORED"]
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.reason) == (Status.FAILED, "TYPE_MISMATCH")
    assert status.sequencer == newer["s3"]["object"]["sequencer"]


def test_stale_notification_is_recorded_but_never_moves_the_status_back(pipeline: Pipeline) -> None:
    older = pipeline.upload("doc.pdf", PE_EXE)
    newer = pipeline.upload("doc.pdf", PDF)
    pipeline.process(newer)
    settled = pipeline.status("doc.pdf")
    assert settled is not None

    pipeline.process(older)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.SUCCESS
    assert status.upload_key == settled.upload_key
    assert status.version == 5


def test_without_sequencers_the_event_time_orders_uploads(pipeline: Pipeline) -> None:
    older = pipeline.upload("doc.pdf", PDF, sequencer=None, event_time="2026-11-28T10:00:00.000Z")
    newer = pipeline.upload(
        "doc.pdf", PE_EXE, sequencer=None, event_time="2026-11-28T10:00:01.000Z"
    )

    pipeline.process(newer)
    pipeline.process(older)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.FAILED


def test_deletion_delivered_before_its_upload_leaves_the_file_deleted(pipeline: Pipeline) -> None:
    upload = pipeline.upload("doc.pdf", PDF)
    deletion = pipeline.delete("doc.pdf")

    pipeline.process(deletion)
    pipeline.process(upload)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED
    # The version still exists behind the delete marker, so the late upload validates.
    assert pipeline.types("doc.pdf") == ["DELETED", "RECEIVED", "VALIDATED", "STORED"]


def test_concurrent_appends_to_one_stream_lose_and_duplicate_nothing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialize_requests(monkeypatch)
    threads_count = 8
    records = [pipeline.upload("hot.png", PNG + bytes([i])) for i in range(threads_count)]
    barrier = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def deliver(record: dict[str, Any]) -> None:
        barrier.wait()
        try:
            pipeline.process(record)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=deliver, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    events = pipeline.events("hot.png")
    assert [e.seq for e in events] == list(range(1, 3 * threads_count + 1))
    per_upload: dict[str, list[str]] = {}
    for event in events:
        per_upload.setdefault(event.upload_key, []).append(str(event.type))
    assert len(per_upload) == threads_count
    assert all(types == ["RECEIVED", "VALIDATED", "STORED"] for types in per_upload.values())
    doc = events[0].document_id
    assert pipeline.store.replay(doc) == pipeline.store.get_status(doc)
    newest = max(records, key=lambda r: r["s3"]["object"]["sequencer"])
    status = pipeline.status("hot.png")
    assert status is not None
    assert status.sequencer == newest["s3"]["object"]["sequencer"]


def test_concurrent_duplicates_of_one_notification_record_it_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    serialize_requests(monkeypatch)
    record = pipeline.upload("doc.pdf", PDF)
    barrier = threading.Barrier(6)

    def deliver() -> None:
        barrier.wait()
        pipeline.process(record)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED"]


class CrashAfterReceived(Exception):
    pass


def test_crash_between_writes_is_repaired_by_the_retry(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    real_append = AuditStore.append

    def crash_before_outcome(self: AuditStore, *args: Any, **kwargs: Any) -> Any:
        if args[2] == PHASE_OUTCOME:
            raise CrashAfterReceived("process died between the handler's writes")
        return real_append(self, *args, **kwargs)

    monkeypatch.setattr(AuditStore, "append", crash_before_outcome)
    with pytest.raises(CrashAfterReceived):
        pipeline.process(record)
    assert pipeline.types("doc.pdf") == ["RECEIVED"]

    monkeypatch.setattr(AuditStore, "append", real_append)
    pipeline.process(record)

    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED"]
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.SUCCESS


def test_transient_failure_raises_for_a_direct_invocation(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    def throttled(*_: Any, **__: Any) -> Any:
        raise TransientError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(AuditStore, "load", throttled)

    with pytest.raises(TransientError):
        pipeline.process(pipeline.upload("doc.pdf", PDF))


def test_transient_failure_is_a_batch_item_failure_for_sqs(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = {"Records": [pipeline.upload("good.pdf", PDF)]}
    bad = {"Records": [pipeline.upload("bad.pdf", PDF)]}
    event = sqs_event(good, bad)
    real_load = AuditStore.load
    bad_document = document_id(BUCKET, "bad.pdf")

    def flaky(self: AuditStore, document: str, upload_key: str) -> Any:
        if document == bad_document:
            raise TransientError("ThrottlingException")
        return real_load(self, document, upload_key)

    monkeypatch.setattr(AuditStore, "load", flaky)

    result = pipeline.handle(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert pipeline.types("good.pdf") == ["RECEIVED", "VALIDATED", "STORED"]
