"""Files by status, newest upload first, through the sparse status index (never a Scan).

Every shard of every status asked for is queried and the answers merged
(`handlers.status_pages`); the cursor is the last index sort key handed out.

`before` (files uploaded before an instant: `--older-than`) rides on that cursor: index sort
keys are `uploadedAt#documentId`, so every file uploaded before the instant, and no other,
sorts below the bare instant, and a listing that resumes below it lists exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from filetrail.errors import UsageError
from handlers.model import StatusItem
from handlers.schema import Status
from handlers.status_pages import InvalidCursorError, decode_cursor, encode_cursor
from handlers.store import AuditStore

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Listing:
    items: tuple[StatusItem, ...]
    cursor: str | None


def parse_since(text: str, now: datetime | None = None, option: str = "--since") -> str:
    """`30m`, `2h`, `7d` ago, or an ISO 8601 instant; as the index sorts it (UTC, ms, Z)."""
    now = now or datetime.now(UTC)
    unit = _UNITS.get(text[-1:].lower()) if text else None
    if unit is not None and text[:-1].isdigit():
        try:
            instant = now - timedelta(**{unit: int(text[:-1])})
        except (OverflowError, ValueError):
            raise UsageError(f"{option} {text!r} reaches before the year 1") from None
    else:
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"{option} {text!r} is neither a duration (30m, 2h, 7d) nor an ISO 8601 time"
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
    before: str | None = None,
) -> Listing:
    try:
        if before is not None:
            position = decode_cursor(cursor) if cursor else None
            cursor = encode_cursor(before if position is None else min(position, before))
        found = store.list_by_status(*statuses, since=since, limit=limit, cursor=cursor)
    except InvalidCursorError:
        raise UsageError("--cursor is not a cursor printed by `filetrail list`") from None
    return Listing(found.items, found.cursor)
