"""One page of status items, newest upload first, merged across status index partitions.

Each status is write-sharded over several index partitions, and a listing may cover
several statuses, so a page is a merge: every partition is asked for its newest `limit`
items older than the cursor, and the newest `limit` of all of them are the page. Index
sort keys (`uploadedAt#documentId`) are unique, so the last key handed out is the whole
cursor: everything newer has been handed out in every partition, everything older has
not, and equal upload times are told apart by the documentId. Pure: the store supplies
the queries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

CURSOR_VERSION = 2
# A DynamoDB sort key is at most 1,024 bytes; a longer one cannot come from the index.
MAX_SORT_KEY_BYTES = 1024


class InvalidCursorError(ValueError):
    """The cursor was not made by `encode_cursor` (forged, truncated, or from an old version)."""


@dataclass(frozen=True)
class Shard(Generic[T]):
    """What one partition answered: (sort key, item) newest first, and whether it has more."""

    entries: Sequence[tuple[str, T]]
    more: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    cursor: str | None


Fetch = Callable[[str, str | None, int], Shard[T]]
"""Query one partition: (partition key, only sort keys below this, at most this many)."""

Mapper = Callable[[Callable[[str], Shard[T]], Iterable[str]], Iterator[Shard[T]]]
"""`map`, or an executor's `map` to query the partitions concurrently."""


def page(
    partitions: Sequence[str],
    fetch: Fetch[T],
    *,
    limit: int,
    cursor: str | None = None,
    mapper: Mapper[T] | None = None,
) -> Page[T]:
    before = decode_cursor(cursor) if cursor else None
    run = mapper or map
    shards = list(run(lambda partition: fetch(partition, before, limit), partitions))
    newest: dict[str, T] = {}
    for shard in shards:
        for key, item in shard.entries:
            # An item moving between statuses may show in both partitions for a moment
            # (the index is updated asynchronously); its sort key is the same in both.
            newest.setdefault(key, item)
    ordered = sorted(newest.items(), key=lambda entry: entry[0], reverse=True)
    taken = ordered[:limit]
    more = len(ordered) > limit or any(shard.more for shard in shards)
    next_cursor = encode_cursor(taken[-1][0]) if more and taken else None
    return Page(tuple(item for _, item in taken), next_cursor)


def encode_cursor(before: str) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "before": before}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The sort key a cursor resumes below."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        state = json.loads(raw)
    except (ValueError, binascii.Error) as error:
        raise InvalidCursorError("not a listing cursor") from error
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        raise InvalidCursorError("not a listing cursor of this version")
    before = state.get("before")
    if not isinstance(before, str) or not before:
        raise InvalidCursorError("the cursor names no position")
    if len(before.encode()) > MAX_SORT_KEY_BYTES:
        raise InvalidCursorError("the cursor's position is longer than any index sort key")
    return before


def resume_below(entries: Sequence[tuple[str, T]], before: str | None) -> list[tuple[str, T]]:
    """Drop the entry at the cursor itself, which an inclusive range query returns."""
    return [entry for entry in entries if before is None or entry[0] < before]
