"""`uploadedAt` is one instant in one form: UTC, milliseconds, `Z`, whatever offset S3 sent.

The status index sorts by it and `list --since` compares it as a string, so two spellings
of one instant must never reach it. The event keeps the time exactly as S3 sent it.
"""

from __future__ import annotations

from filetrail.listing import list_files, parse_since
from handlers import schema
from handlers.schema import Status
from tests.support.pipeline import Pipeline
from tests.support.samples import PDF


def test_status_upload_time_is_utc_with_milliseconds(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("a.pdf", PDF, event_time="2026-01-01T10:00:00+02:00"))

    status = pipeline.status("a.pdf")
    assert status is not None
    assert status.uploaded_at == "2026-01-01T08:00:00.000Z"
    item = pipeline.session.client("dynamodb").get_item(
        TableName=pipeline.store.table_name,
        Key={
            schema.PARTITION_KEY: {"S": status.document_id},
            schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
        },
    )["Item"]
    assert item[schema.STATUS_INDEX_SORT_KEY]["S"].startswith("2026-01-01T08:00:00.000Z#")


def test_events_keep_the_event_time_s3_sent(pipeline: Pipeline) -> None:
    record = pipeline.upload("a.pdf", PDF, event_time="2026-01-01T10:00:00.000+02:00")

    pipeline.process(record)

    times = {event.upload["eventTime"] for event in pipeline.events("a.pdf")}
    assert times == {"2026-01-01T10:00:00.000+02:00"}


def test_list_since_compares_instants_not_spellings(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("early.pdf", PDF, event_time="2026-01-01T10:00:00+02:00"))
    pipeline.process(pipeline.upload("late.pdf", PDF, event_time="2026-01-01T09:00:00.000Z"))

    since = parse_since("2026-01-01T08:30:00Z")
    listing = list_files(pipeline.store, (Status.SUCCESS,), since=since, limit=10, cursor=None)

    assert [item.key for item in listing.items] == ["late.pdf"]


def test_list_orders_by_instant(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("early.pdf", PDF, event_time="2026-01-01T10:00:00+02:00"))
    pipeline.process(pipeline.upload("late.pdf", PDF, event_time="2026-01-01T09:00:00Z"))

    listing = list_files(pipeline.store, (Status.SUCCESS,), since=None, limit=10, cursor=None)

    assert [item.key for item in listing.items] == ["late.pdf", "early.pdf"]
