"""The write-sharded status index on the emulator: where status items land, and listing
them back newest first across every shard, page by page."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from handlers import schema
from handlers.app import build_runtime
from handlers.store import AuditStore
from tests.support.call_recorder import CallRecorder
from tests.support.pipeline import BUCKET, TABLE, Pipeline, provision
from tests.support.samples import PDF

SINCE = "2026-11-28T10:00:00.000Z"


def _process(pipeline: Pipeline, keys: list[str], event_time: str = SINCE) -> None:
    for key in keys:
        pipeline.process(pipeline.upload(key, PDF, event_time=event_time))


def _reshard(pipeline: Pipeline, shards: int) -> None:
    """The same table behind a function deployed with another shard count."""
    environ = {
        schema.ENV_TABLE_NAME: TABLE,
        schema.ENV_DLQ_URL: pipeline.dlq_url,
        schema.ENV_STATUS_INDEX_SHARDS: str(shards),
    }
    pipeline.runtime = build_runtime(environ, pipeline.session)


def _store(pipeline: Pipeline, shards: int) -> AuditStore:
    return AuditStore(pipeline.session.client("dynamodb"), TABLE, index_shards=shards)


def _partition_keys(session: boto3.session.Session, partition: str) -> list[str]:
    """Object keys in one index partition, read straight from the index."""
    response = session.client("dynamodb").query(
        TableName=TABLE,
        IndexName=schema.STATUS_INDEX,
        KeyConditionExpression="#p = :p",
        ExpressionAttributeNames={"#p": schema.STATUS_INDEX_PARTITION_KEY},
        ExpressionAttributeValues={":p": {"S": partition}},
    )
    return [item["key"]["S"] for item in response["Items"]]


def _page_through(store: AuditStore, limit: int, **kwargs: Any) -> list[str]:
    keys: list[str] = []
    cursor = None
    for _ in range(100):
        found = store.list_by_status("SUCCESS", limit=limit, cursor=cursor, **kwargs)
        assert len(found.items) <= limit
        keys += [item.key for item in found.items]
        cursor = found.cursor
        if cursor is None:
            return keys
    raise AssertionError("the listing never ended")


@pytest.fixture
def four_shards(session: boto3.session.Session) -> Pipeline:
    return provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "4"})


def test_one_status_spreads_over_every_shard(four_shards: Pipeline) -> None:
    keys = [f"incoming/{n:02d}.pdf" for n in range(12)]
    _process(four_shards, keys)

    per_partition = {
        partition: _partition_keys(four_shards.session, partition)
        for partition in schema.status_index_keys("SUCCESS", 4)
    }

    assert all(per_partition.values()), per_partition
    assert sorted(k for found in per_partition.values() for k in found) == keys


def test_status_change_keeps_the_file_in_its_shard(four_shards: Pipeline) -> None:
    _process(four_shards, ["report.pdf"])
    shard = schema.status_shard(schema.document_id(BUCKET, "report.pdf"), 4)

    assert _partition_keys(four_shards.session, schema.status_index_key("SUCCESS", shard)) == [
        "report.pdf"
    ]
    assert _partition_keys(four_shards.session, schema.status_index_key("PROCESSING", shard)) == []


def test_listing_merges_the_shards_newest_first(four_shards: Pipeline) -> None:
    keys = [f"f{n:02d}.pdf" for n in range(12)]
    for n, key in enumerate(keys):
        _process(four_shards, [key], event_time=f"2026-11-28T10:00:{n:02d}.000Z")

    found = _store(four_shards, 4).list_by_status("SUCCESS", limit=50)

    assert [item.key for item in found.items] == keys[::-1]
    assert found.cursor is None


@pytest.mark.parametrize("since", [None, SINCE], ids=["no-since", "since"])
def test_paging_across_shards_with_equal_upload_times_skips_and_repeats_nothing(
    four_shards: Pipeline, since: str | None
) -> None:
    keys = [f"same-time-{n:02d}.pdf" for n in range(11)]
    _process(four_shards, keys)
    store = _store(four_shards, 4)
    everything = [item.key for item in store.list_by_status("SUCCESS", limit=100).items]

    paged = _page_through(store, 4, since=since)

    assert sorted(everything) == sorted(keys)
    assert paged == everything


def test_paging_since_a_time_fills_the_page_from_the_cursors_own_shard(
    session: boto3.session.Session,
) -> None:
    # With --since the query range includes the cursor's own item (BETWEEN), which is then
    # dropped: the shard holding it must still offer a full page after it, or a newer
    # item of that shard falls behind the next cursor and is never listed.
    pipeline = provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "2"})
    by_shard: dict[int, list[str]] = {0: [], 1: []}
    for n in range(40):
        key = f"k{n:02d}.pdf"
        by_shard[schema.status_shard(schema.document_id(BUCKET, key), 2)].append(key)
    crowded, other = by_shard[0][:4], by_shard[1][0]
    for second, key in zip((6, 5, 4, 3, 2), [*crowded, other], strict=True):
        _process(pipeline, [key], event_time=f"2026-11-28T10:00:0{second}.000Z")

    paged = _page_through(_store(pipeline, 2), 2, since=SINCE)

    assert paged == [*crowded, other]


def test_a_cursor_older_than_since_ends_the_listing_without_an_inverted_range(
    session: boto3.session.Session,
) -> None:
    """The sort key range is [since, cursor), and DynamoDB's only two-sided key condition
    is `BETWEEN b AND c`, "greater than or equal to b, and less than or equal to c"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html).
    With b > c AWS refuses the query with a ValidationException ("The BETWEEN operator
    requires upper bound to be greater than or equal to lower bound", as reported against
    DynamoDB in https://github.com/architect/dynalite/issues/55); moto answers it with
    nothing, so the test checks that no such query is sent."""
    recorder = CallRecorder().attach(session)
    pipeline = provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "4"})
    for n in range(3):
        _process(pipeline, [f"old-{n}.pdf"], event_time=f"2026-11-28T09:00:0{n}.000Z")
    store = _store(pipeline, 4)
    first = store.list_by_status("SUCCESS", limit=1)
    recorder.reset()

    later = store.list_by_status("SUCCESS", limit=1, since=SINCE, cursor=first.cursor)

    assert (later.items, later.cursor) == ((), None)
    inverted = [
        call
        for call in recorder.calls
        if call.operation == "Query"
        and ":before" in call.params["ExpressionAttributeValues"]
        and ":since" in call.params["ExpressionAttributeValues"]
    ]
    assert inverted == []


def test_listing_queries_each_shard_of_the_index_and_never_scans(
    session: boto3.session.Session,
) -> None:
    recorder = CallRecorder().attach(session)
    pipeline = provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "4"})
    _process(pipeline, ["a.pdf", "b.pdf"])
    recorder.reset()

    _store(pipeline, 4).list_by_status("SUCCESS", "FAILED", limit=10)

    dynamodb = [call for call in recorder.calls if call.service == "dynamodb"]
    assert {call.operation for call in dynamodb} == {"Query"}
    assert {call.params["IndexName"] for call in dynamodb} == {schema.STATUS_INDEX}
    assert sorted(call.params["ExpressionAttributeValues"][":p"]["S"] for call in dynamodb) == (
        sorted(schema.status_index_keys("SUCCESS", 4) + schema.status_index_keys("FAILED", 4))
    )


def test_files_written_before_sharding_are_listed(session: boto3.session.Session) -> None:
    # One shard is the layout every table had before sharding: the bare status as key.
    pipeline = provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "1"})
    _process(pipeline, ["legacy-1.pdf", "legacy-2.pdf"])
    assert sorted(_partition_keys(session, "SUCCESS")) == ["legacy-1.pdf", "legacy-2.pdf"]
    _reshard(pipeline, 8)
    _process(pipeline, ["new.pdf"])

    listed = _page_through(_store(pipeline, 8), 2)

    assert sorted(listed) == ["legacy-1.pdf", "legacy-2.pdf", "new.pdf"]


def test_raising_the_shard_count_keeps_every_file_listed(four_shards: Pipeline) -> None:
    old = [f"old-{n}.pdf" for n in range(6)]
    _process(four_shards, old)
    _reshard(four_shards, 16)
    new = [f"new-{n}.pdf" for n in range(6)]
    _process(four_shards, [*new, "old-0.pdf"])

    listed = _page_through(_store(four_shards, 16), 3)

    assert sorted(listed) == sorted(old + new)


def test_lowering_the_shard_count_strands_files_until_read_with_the_old_count(
    session: boto3.session.Session,
) -> None:
    pipeline = provision(session, **{schema.ENV_STATUS_INDEX_SHARDS: "8"})
    keys = [f"f{n:02d}.pdf" for n in range(12)]
    _process(pipeline, keys)
    _reshard(pipeline, 2)

    with_new_count = _page_through(_store(pipeline, 2), 50)
    with_old_count = _page_through(_store(pipeline, 8), 50)

    assert len(with_new_count) < len(keys)
    assert sorted(with_old_count) == keys
