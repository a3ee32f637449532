"""The overview's files-per-hour chart, computed without a table."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from filetrail.ui.summary import MAX_HOURS, hourly

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


def _uploaded(*times: str) -> list:
    return [SimpleNamespace(uploaded_at=t) for t in times]


def test_hourly_counts_uploads_in_each_hour_of_the_window():
    items = _uploaded(
        "2026-12-01T10:05:00.000Z", "2026-12-01T10:59:59.999Z", "2026-12-01T12:01:00.000Z"
    )

    bars = hourly(items, "2026-12-01T10:20:00.000Z", NOW)

    assert [(b.hour, b.count) for b in bars] == [
        ("2026-12-01T10", 2),
        ("2026-12-01T11", 0),
        ("2026-12-01T12", 1),
    ]


def test_hourly_scales_the_busiest_hour_to_the_full_height():
    bars = hourly(_uploaded("2026-12-01T12:00:00.000Z"), "2026-12-01T11:00:00.000Z", NOW)

    assert [(b.y, b.height) for b in bars] == [(100, 0), (0, 100)]


def test_a_window_longer_than_a_month_charts_its_latest_hours():
    bars = hourly(_uploaded("2026-12-01T12:00:00.000Z"), "2025-01-01T00:00:00.000Z", NOW)

    assert len(bars) == MAX_HOURS
    assert (bars[-1].hour, bars[-1].count) == ("2026-12-01T12", 1)
