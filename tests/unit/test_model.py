from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import schema
from handlers.events import Upload
from handlers.model import AuditEvent, StatusItem, fold, new_event, project, replay
from handlers.schema import EventType, Status


def upload(sequencer: str, time: str = "2026-11-28T10:00:00.000Z") -> Upload:
    return Upload(
        "bkt", "dir/file.pdf", "ObjectCreated:Put", time, 10, "etag", f"v{sequencer}", sequencer
    )


def stream(*steps: tuple[Upload, EventType, dict[str, object]]) -> list[AuditEvent]:
    return [
        new_event(
            u,
            seq,
            kind,
            f"2026-11-28T10:00:{seq:02d}.000Z",
            trace_id="1-a-b",
            request_id="r",
            details=details,
        )
        for seq, (u, kind, details) in enumerate(steps, start=1)
    ]


def test_success_path_projects_to_success() -> None:
    u = upload("01")
    status = fold(
        None,
        stream(
            (u, EventType.RECEIVED, {}),
            (u, EventType.VALIDATED, {"fileType": "application/pdf", "size": 10}),
            (u, EventType.STORED, {"fileType": "application/pdf", "size": 10}),
        ),
    )

    assert status is not None
    assert (
        status.status,
        status.file_name,
        status.file_type,
        status.file_size,
        status.version,
    ) == (Status.SUCCESS, "file.pdf", "application/pdf", 10, 3)


def test_stale_event_only_advances_the_version() -> None:
    new, old = upload("02"), upload("01")
    events = stream(
        (new, EventType.RECEIVED, {}),
        (new, EventType.REJECTED, {"reason": "EMPTY_FILE"}),
        (old, EventType.RECEIVED, {}),
    )
    before = fold(None, events[:2])
    after = project(before, events[2])

    assert before is not None
    assert after.version == 3
    assert (after.status, after.reason, after.upload_key) == (
        before.status,
        before.reason,
        before.upload_key,
    )


def test_replay_refuses_a_gap_in_the_stream() -> None:
    u = upload("01")
    events = stream((u, EventType.RECEIVED, {}), (u, EventType.STORED, {}))
    gap = [events[0], AuditEvent(**{**events[1].__dict__, "seq": 3})]

    with pytest.raises(ValueError, match="jumps"):
        replay(gap)


def test_status_item_round_trips_through_its_item_form() -> None:
    u = upload("01")
    status = fold(None, stream((u, EventType.RECEIVED, {})))
    assert status is not None

    assert StatusItem.from_item(status.to_item(index_shards=8)) == status


def test_status_item_carries_the_sparse_index_keys() -> None:
    status = fold(None, stream((upload("01"), EventType.RECEIVED, {})))
    assert status is not None

    item = status.to_item(index_shards=1)
    assert item["statusKey"] == "PROCESSING"
    assert item["statusSort"].startswith("2026-11-28T10:00:00.000Z#doc-")


def test_status_item_index_key_names_its_shard() -> None:
    status = fold(None, stream((upload("01"), EventType.RECEIVED, {})))
    assert status is not None

    shard = schema.status_shard(status.document_id, 8)
    assert status.to_item(index_shards=8)["statusKey"] == schema.status_index_key(
        "PROCESSING", shard
    )


def test_event_round_trips_through_its_item_form() -> None:
    (event,) = stream((upload("01"), EventType.REJECTED, {"reason": "TOO_LARGE", "size": 5}))

    assert AuditEvent.from_item(event.to_item()) == event


@given(st.permutations(["01", "02", "03", "04"]))
def test_status_ends_at_the_newest_upload_whatever_the_arrival_order(order: list[str]) -> None:
    steps = []
    for sequencer in order:
        u = upload(sequencer)
        steps += [(u, EventType.RECEIVED, {}), (u, EventType.STORED, {})]

    status = replay(stream(*steps))

    assert status is not None
    assert (status.sequencer, status.status, status.version) == ("04", Status.SUCCESS, 8)


def test_version_learned_by_the_read_fills_a_notification_without_one() -> None:
    u = Upload(
        "bkt", "f.pdf", "ObjectCreated:Put", "2026-11-28T10:00:00.000Z", 10, "etag", None, "01"
    )
    events = stream(
        (u, EventType.RECEIVED, {}),
        (u, EventType.VALIDATED, {"objectVersionId": "v-real"}),
        (u, EventType.STORED, {}),
    )

    status = replay(events)

    assert status is not None
    assert status.version_id == "v-real"


@pytest.mark.parametrize(
    ("sent", "uploaded_at"),
    [
        ("2026-01-01T10:00:00.000+02:00", "2026-01-01T08:00:00.000Z"),
        ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00.000Z"),
        ("2025-12-31T23:30:00.123456-01:00", "2026-01-01T00:30:00.123Z"),
    ],
)
def test_status_upload_time_is_utc_with_milliseconds(sent: str, uploaded_at: str) -> None:
    u = upload("01", sent)
    status = fold(None, stream((u, EventType.RECEIVED, {})))

    assert status is not None
    assert status.uploaded_at == uploaded_at
    assert status.index_sort_key == f"{uploaded_at}#{status.document_id}"


def test_upload_time_form_does_not_change_the_upload_key() -> None:
    """The key that makes a redelivery idempotent must stay what earlier events stored."""
    u = upload("", "2026-01-01T10:00:00.000+02:00")
    (event,) = stream((u, EventType.RECEIVED, {}))

    assert event.upload["eventTime"] == "2026-01-01T10:00:00.000+02:00"
    assert event.upload_key == u.upload_key
