"""What the overview shows, read through the status index like `filetrail list` (never a Scan)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.model import StatusItem
from handlers.schema import Status
from handlers.store import AuditStore

# The overview reads at most this many status items per status: a dashboard that
# walks a million-file window on every refresh would cost more than it shows.
MAX_ITEMS = 5000
PAGE = 500
STUCK_SHOWN = 10


@dataclass(frozen=True)
class Bar:
    hour: str
    count: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class Summary:
    since: str
    counts: dict[str, int]
    capped: tuple[str, ...]
    reasons: list[tuple[str, int]]
    hours: list[Bar]
    stuck: list[StatusItem]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _items(store: AuditStore, status: Status, since: str | None) -> tuple[list[StatusItem], bool]:
    items: list[StatusItem] = []
    cursor = None
    while len(items) < MAX_ITEMS:
        page = store.list_by_status(status, since=since, limit=PAGE, cursor=cursor)
        items.extend(page.items)
        cursor = page.cursor
        if cursor is None:
            return items, False
    return items[:MAX_ITEMS], True


CHART_HEIGHT = 100
BAR_WIDTH = 12


MAX_HOURS = 24 * 31


def hourly(items: list[StatusItem], since: str, now: datetime) -> list[Bar]:
    """Files per upload hour from `since` to `now`, as SVG bar geometry (no script needed);
    a window longer than a month shows its last month."""
    start = datetime.fromisoformat(since.replace("Z", "+00:00")).replace(
        minute=0, second=0, microsecond=0
    )
    start = max(
        start, now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=MAX_HOURS - 1)
    )
    counts = Counter(item.uploaded_at[:13] for item in items)
    slots: list[str] = []
    hour = start
    while hour <= now:
        slots.append(hour.strftime("%Y-%m-%dT%H"))
        hour += timedelta(hours=1)
    peak = max((counts[slot] for slot in slots), default=0) or 1
    bars = []
    for index, slot in enumerate(slots):
        count = counts[slot]
        height = round(CHART_HEIGHT * count / peak)
        bars.append(Bar(slot, count, index * BAR_WIDTH, CHART_HEIGHT - height, height))
    return bars


def summarize(store: AuditStore, since: str, now: datetime) -> Summary:
    counts: dict[str, int] = {}
    capped: list[str] = []
    window: list[StatusItem] = []
    reasons: Counter[str] = Counter()
    for status in Status:
        items, more = _items(store, status, since)
        counts[str(status)] = len(items)
        if more:
            capped.append(str(status))
        window.extend(items)
        if status == Status.FAILED:
            reasons.update(item.reason or "unknown" for item in items)
    # Waiting longest: every PROCESSING file, whenever it arrived, oldest update first.
    processing, _ = _items(store, Status.PROCESSING, None)
    stuck = sorted(processing, key=lambda item: item.updated_at)[:STUCK_SHOWN]
    return Summary(
        since=since,
        counts=counts,
        capped=tuple(capped),
        reasons=reasons.most_common(),
        hours=hourly(window, since, now),
        stuck=stuck,
    )
