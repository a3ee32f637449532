"""Which of two uploads of one key happened later.

S3 delivers notifications out of order. Its `sequencer` (hex, per key) orders the
events of one key; AWS documents the comparison as: right-pad the shorter value with
zeros, then compare lexicographically. (Older revisions of the same page said
"left pad"; the current one says right pad, and tests pin that.) Where either side
has no sequencer, the event time decides.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime


def normalize_sequencer(sequencer: str, width: int) -> str:
    return sequencer.upper().ljust(width, "0")


def compare_sequencers(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` is before, the same as, or after `b`."""
    width = max(len(a), len(b))
    left, right = normalize_sequencer(a, width), normalize_sequencer(b, width)
    return (left > right) - (left < right)


def parse_event_time(value: str) -> datetime:
    """S3 event times are ISO 8601 with a `Z` suffix; tolerate offsets too."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utc_timestamp(value: str) -> str:
    """An event time as UTC with milliseconds and `Z`: the one spelling of an instant that
    sorts as it reads, for what is compared as a string (the status index, `--since`)."""
    return parse_event_time(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compare_uploads(
    sequencer_a: str | None,
    time_a: str,
    sequencer_b: str | None,
    time_b: str,
) -> int:
    """Order two notifications of one key: by sequencer, else by event time."""
    if sequencer_a and sequencer_b:
        return compare_sequencers(sequencer_a, sequencer_b)
    left, right = parse_event_time(time_a), parse_event_time(time_b)
    return (left > right) - (left < right)


_HEX = re.compile(r"[0-9A-Fa-f]+")


def is_hex(value: str) -> bool:
    """Digits only: `int(v, 16)` would also take "0x1F", "-1F" and "1_F"."""
    return _HEX.fullmatch(value) is not None
