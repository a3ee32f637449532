"""Replay each stream and compare the result with the stored status item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from handlers.model import AuditEvent, StatusItem, replay
from handlers.schema import Status
from handlers.store import AuditStore


@dataclass(frozen=True)
class Drift:
    document_id: str
    problem: str
    differences: dict[str, dict[str, Any]] = field(default_factory=dict)
    label: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "documentId": self.document_id,
            "file": self.label,
            "problem": self.problem,
            "differences": self.differences,
        }


@dataclass(frozen=True)
class Report:
    checked: int
    drift: tuple[Drift, ...]

    @property
    def ok(self) -> bool:
        return not self.drift

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "drift": [d.to_json() for d in self.drift],
        }


# Reads are not one snapshot: a writer may append between reading the status item and
# the stream. Events are immutable, so re-reading until the status stands still settles it.
SNAPSHOT_ATTEMPTS = 5


def _snapshot(store: AuditStore, document_id: str) -> tuple[StatusItem | None, list[AuditEvent]]:
    stored = store.get_status(document_id)
    events = list(store.iter_events(document_id))
    for _ in range(SNAPSHOT_ATTEMPTS):
        again = store.get_status(document_id)
        if again == stored:
            break
        stored, events = again, list(store.iter_events(document_id))
    if stored is not None and len(events) > stored.version:
        # Still moving: judge the status item against the prefix it was written from.
        events = [event for event in events if event.seq <= stored.version]
    return stored, events


def verify_stream(store: AuditStore, document_id: str) -> Drift | None:
    stored, events = _snapshot(store, document_id)
    label = f"s3://{stored.bucket}/{stored.key}" if stored else None
    try:
        replayed = replay(events)
    except ValueError as error:
        return Drift(document_id, f"stream is not contiguous: {error}", label=label)
    if replayed is None and stored is None:
        return None
    if replayed is None:
        return Drift(document_id, "status item exists but the stream has no events", label=label)
    label = label or f"s3://{replayed.bucket}/{replayed.key}"
    if stored is None:
        return Drift(document_id, "stream has events but no status item", label=label)
    expected, actual = replayed.to_json(), stored.to_json()
    differences = {
        name: {"stored": actual.get(name), "replayed": value}
        for name, value in expected.items()
        if actual.get(name) != value
    }
    if differences:
        return Drift(
            document_id, "status item differs from the replayed stream", differences, label
        )
    return None


def verify_all(store: AuditStore, document_ids: Iterable[str]) -> Report:
    checked = 0
    drift: list[Drift] = []
    for document_id in document_ids:
        checked += 1
        found = verify_stream(store, document_id)
        if found is not None:
            drift.append(found)
    return Report(checked, tuple(drift))


def every_document(store: AuditStore, page_size: int = 100) -> Iterator[str]:
    """Every stream with a status item, through the status index (one query per page)."""
    seen: set[str] = set()
    for status in Status:
        cursor = None
        while True:
            page = store.list_by_status(status, limit=page_size, cursor=cursor)
            for item in page.items:
                if item.document_id not in seen:
                    seen.add(item.document_id)
                    yield item.document_id
            cursor = page.cursor
            if cursor is None:
                break
