"""Paging newest first across status index partitions, with a cursor (pure, no AWS)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handlers.status_pages import (
    InvalidCursorError,
    Page,
    Shard,
    decode_cursor,
    encode_cursor,
    page,
)

PARTITIONS = tuple(f"SUCCESS#{n}" if n else "SUCCESS" for n in range(8))


class FakeIndex:
    """Partitions of a sparse index, queried as DynamoDB's Query does.

    Newest first (ScanIndexForward=false), at most `Limit` items, and a LastEvaluatedKey
    whenever the query stopped at `Limit`, even when nothing is left: "the number of items
    ... reached the Limit" is enough (Query, "Limit" and "LastEvaluatedKey",
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
    """

    def __init__(self, placed: Sequence[tuple[str, str]]) -> None:
        self.partitions: dict[str, list[str]] = {}
        for partition, key in placed:
            self.partitions.setdefault(partition, []).append(key)
        self.queries = 0

    def fetch(self, partition: str, before: str | None, limit: int) -> Shard[str]:
        self.queries += 1
        keys = sorted(
            (k for k in self.partitions.get(partition, []) if before is None or k < before),
            reverse=True,
        )
        taken = keys[:limit]
        return Shard([(k, k) for k in taken], more=len(taken) == limit)


def sort_key(uploaded_at: int, document: int) -> str:
    return f"2026-11-28T10:00:{uploaded_at:02d}.000Z#doc-{document:032x}"


def page_through(index: FakeIndex, limit: int, mapper: object = None) -> list[Page[str]]:
    pages: list[Page[str]] = []
    cursor = None
    for _ in range(10_000):
        found = page(PARTITIONS, index.fetch, limit=limit, cursor=cursor, mapper=mapper)  # type: ignore[arg-type]
        pages.append(found)
        cursor = found.cursor
        if cursor is None:
            return pages
    raise AssertionError("the listing never ended")


# Few distinct upload times, so many files share one: the documentId must break ties.
files = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(PARTITIONS)),
    max_size=60,
)


@given(files, st.integers(min_value=1, max_value=12))
# One busy partition: its page is full and only its LastEvaluatedKey says more remain.
@example([(1, "SUCCESS#5")] * 5, 2)
def test_paging_yields_every_item_once_newest_first(
    placed: list[tuple[int, str]], limit: int
) -> None:
    keys = [sort_key(at, n) for n, (at, _) in enumerate(placed)]
    index = FakeIndex([(partition, key) for key, (_, partition) in zip(keys, placed, strict=True)])

    listed = [item for found in page_through(index, limit) for item in found.items]

    assert listed == sorted(keys, reverse=True)


@given(files, st.integers(min_value=1, max_value=12))
def test_every_page_but_the_last_is_full(placed: list[tuple[int, str]], limit: int) -> None:
    index = FakeIndex([(partition, sort_key(at, n)) for n, (at, partition) in enumerate(placed)])

    pages = page_through(index, limit)

    assert all(len(found.items) == limit for found in pages[:-1])
    assert len(pages[-1].items) <= limit


def test_concurrent_queries_page_the_same_as_sequential_ones() -> None:
    placed = [(PARTITIONS[n % 8], sort_key(n % 3, n)) for n in range(40)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = page_through(FakeIndex(placed), 7, pool.map)

    assert concurrent == page_through(FakeIndex(placed), 7)


def test_every_partition_is_asked_once_per_page() -> None:
    index = FakeIndex([("SUCCESS#3", sort_key(1, 1))])

    page(PARTITIONS, index.fetch, limit=5)

    assert index.queries == len(PARTITIONS)


def test_an_item_seen_in_two_partitions_is_listed_once() -> None:
    # The index is updated asynchronously: during a status change one item can be
    # visible under its old and its new partition key, with the same sort key.
    key = sort_key(1, 1)
    index = FakeIndex([("SUCCESS", key), ("SUCCESS#1", key)])

    assert page(PARTITIONS, index.fetch, limit=5).items == (key,)


def test_last_page_has_no_cursor() -> None:
    index = FakeIndex([("SUCCESS", sort_key(1, 1))])

    assert page(PARTITIONS, index.fetch, limit=5).cursor is None


@given(st.text(min_size=1, max_size=200))
def test_cursor_round_trips_its_position(position: str) -> None:
    assert decode_cursor(encode_cursor(position)) == position


def _b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        _b64([1, 2]),
        _b64({"before": "2026#doc-1"}),
        _b64({"v": 99, "before": "2026#doc-1"}),
        _b64({"v": 2, "before": ""}),
        _b64({"v": 2, "before": 7}),
        _b64({"v": 2, "before": "x" * 1025}),
        # The per-status cursor of the unsharded listing.
        _b64({"SUCCESS": {"after": None, "done": False}}),
    ],
    ids=[
        "not-base64-json",
        "not-base64",
        "a-list",
        "no-version",
        "unknown-version",
        "empty-position",
        "position-not-a-string",
        "position-longer-than-a-sort-key",
        "previous-format",
    ],
)
def test_malformed_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor)
