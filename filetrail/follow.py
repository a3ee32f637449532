"""`filetrail list --follow`: outcomes as they happen, like `tail -f`.

Polls the status index newest upload first (the same query as `list`, one page of
`--limit` items) until interrupted, and prints each file the first time it is seen and
again whenever its status changes or it reaches a new outcome (a re-upload, a reprocess).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console

from filetrail import render
from filetrail.listing import list_files
from handlers.model import StatusItem
from handlers.schema import Status
from handlers.store import AuditStore

POLL_SECONDS = 1.0


class Follower:
    def __init__(
        self, store: AuditStore, statuses: tuple[Status, ...], since: str | None, limit: int
    ) -> None:
        self._store = store
        self._statuses = statuses
        self._since = since
        self._limit = limit
        self._shown: dict[str, tuple[Status, int]] = {}

    def changes(self) -> list[StatusItem]:
        """What is new since the last call, oldest upload first (the order it is printed)."""
        listing = list_files(
            self._store, self._statuses, since=self._since, limit=self._limit, cursor=None
        )
        changed = []
        for item in reversed(listing.items):
            shown = self._shown.get(item.document_id)
            if (
                shown is None
                or shown[0] != item.status
                or (shown[1] != item.version and item.status != Status.PROCESSING)
            ):
                self._shown[item.document_id] = (item.status, item.version)
                changed.append(item)
        return changed


def follow(
    follower: Follower,
    emit: Callable[[StatusItem], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Until interrupted (Ctrl-C raises KeyboardInterrupt out of here)."""
    while True:
        for item in follower.changes():
            emit(item)
        sleep(POLL_SECONDS)


def json_line(stream: TextIO) -> Callable[[StatusItem], None]:
    def emit(item: StatusItem) -> None:
        stream.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        stream.flush()

    return emit


def human_line(out: Console, stream: TextIO, bucket: str | None) -> Callable[[StatusItem], None]:
    def emit(item: StatusItem) -> None:
        out.print(render.outcome_line(item, bucket))
        stream.flush()

    return emit
