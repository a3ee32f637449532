"""Files by status, newest upload first, through the sparse status index (never a Scan).

Without `--status` every status index partition is queried and the pages are merged; the
cursor remembers, per status, the last item handed out, so the next page resumes each
partition exactly where the merge stopped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from filetrail.errors import UsageError
from handlers import schema
from handlers.model import StatusItem
from handlers.schema import Status
from handlers.store import AuditStore

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Listing:
    items: tuple[StatusItem, ...]
    cursor: str | None


@dataclass
class _Partition:
    after: dict[str, Any] | None = None
    done: bool = False


def parse_since(text: str, now: datetime | None = None) -> str:
    """`30m`, `2h`, `7d` ago, or an ISO 8601 instant; as the index sorts it (UTC, ms, Z)."""
    now = now or datetime.now(UTC)
    unit = _UNITS.get(text[-1:].lower()) if text else None
    if unit is not None and text[:-1].isdigit():
        try:
            instant = now - timedelta(**{unit: int(text[:-1])})
        except (OverflowError, ValueError):
            raise UsageError(f"--since {text!r} reaches before the year 1") from None
    else:
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"--since {text!r} is neither a duration (30m, 2h, 7d) nor an ISO 8601 time"
            ) from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def list_files(
    store: AuditStore,
    statuses: tuple[Status, ...],
    *,
    since: str | None,
    limit: int,
    cursor: str | None,
) -> Listing:
    partitions = _decode(cursor, statuses) if cursor else {s: _Partition() for s in statuses}
    candidates: list[tuple[str, Status, StatusItem]] = []
    fetched: dict[Status, tuple[int, bool]] = {}
    for status, partition in partitions.items():
        if partition.done:
            continue
        page = store.list_by_status(status, since=since, limit=limit, cursor=partition.after)
        fetched[status] = (len(page.items), page.cursor is None)
        candidates += [(item.index_sort_key, status, item) for item in page.items]
    candidates.sort(key=lambda candidate: candidate[0], reverse=True)
    taken = candidates[:limit]
    for status, (count, last_page) in fetched.items():
        consumed = [item for _, s, item in taken if s == status]
        if consumed:
            partitions[status].after = _index_key(consumed[-1])
        partitions[status].done = last_page and len(consumed) == count
    more = any(not p.done for p in partitions.values())
    return Listing(tuple(item for _, _, item in taken), _encode(partitions) if more else None)


def _index_key(item: StatusItem) -> dict[str, Any]:
    return {
        schema.PARTITION_KEY: {"S": item.document_id},
        schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
        schema.STATUS_INDEX_PARTITION_KEY: {"S": str(item.status)},
        schema.STATUS_INDEX_SORT_KEY: {"S": item.index_sort_key},
    }


def _encode(partitions: dict[Status, _Partition]) -> str:
    state = {str(s): {"after": p.after, "done": p.done} for s, p in partitions.items()}
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, statuses: tuple[Status, ...]) -> dict[Status, _Partition]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        state = json.loads(raw)
        partitions = {
            Status(name): _Partition(value.get("after"), bool(value.get("done")))
            for name, value in state.items()
        }
    except (ValueError, binascii.Error, AttributeError, TypeError):
        raise UsageError("--cursor is not a cursor printed by `filetrail list`") from None
    if set(partitions) != set(statuses):
        raise UsageError("--cursor belongs to a listing with a different --status")
    return {status: partitions[status] for status in statuses}
