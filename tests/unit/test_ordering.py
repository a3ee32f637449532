from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.ordering import compare_sequencers, compare_uploads, is_hex

hex_strings = st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=24)


def test_padding_rule_is_right_pad_with_zeros() -> None:
    # AWS: "right pad the shorter value with zeros, then compare lexicographically".
    # So "0A" is "0A00" against "0A01": earlier; and "1" is "10" against "0F": later.
    assert compare_sequencers("0A", "0A01") == -1
    assert compare_sequencers("1", "0F") == 1
    assert compare_sequencers("0A", "0A00") == 0


def test_case_does_not_matter() -> None:
    assert compare_sequencers("00abc", "00ABC") == 0


@given(hex_strings, hex_strings)
def test_comparison_is_antisymmetric(a: str, b: str) -> None:
    assert compare_sequencers(a, b) == -compare_sequencers(b, a)


@given(hex_strings, hex_strings, hex_strings)
def test_comparison_is_transitive(a: str, b: str, c: str) -> None:
    if compare_sequencers(a, b) <= 0 and compare_sequencers(b, c) <= 0:
        assert compare_sequencers(a, c) <= 0


@given(st.lists(hex_strings, min_size=1, max_size=20))
def test_the_newest_is_the_same_whatever_the_arrival_order(sequencers: list[str]) -> None:
    def newest(order: list[str]) -> str:
        best = order[0]
        for candidate in order[1:]:
            if compare_sequencers(candidate, best) > 0:
                best = candidate
        return best

    forward, backward = newest(sequencers), newest(list(reversed(sequencers)))
    assert compare_sequencers(forward, backward) == 0


def test_event_time_decides_when_a_sequencer_is_missing() -> None:
    assert compare_uploads(None, "2026-11-28T10:00:01.000Z", "FF", "2026-11-28T10:00:00.000Z") == 1
    assert compare_uploads("01", "2026-11-28T10:00:00.000Z", None, "2026-11-28T10:00:00.000Z") == 0


def test_sequencer_wins_over_event_time_when_both_have_one() -> None:
    assert compare_uploads("02", "2026-11-28T09:00:00.000Z", "01", "2026-11-28T10:00:00.000Z") == 1


def test_only_plain_hex_digits_are_sequencers() -> None:
    assert is_hex("0055AED6DCD90281E5")
    assert not any(is_hex(v) for v in ("0x1F", "-1F", "1_F", " 1F", ""))


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A host clock set to UTC-10: what `astimezone` assumes for a time without an offset."""
    monkeypatch.setenv("TZ", "Pacific/Honolulu")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_event_time_without_an_offset_is_utc_whatever_the_host_zone() -> None:
    assert compare_uploads(None, "2026-11-28T10:00:00", None, "2026-11-28T10:00:00Z") == 0


def test_event_times_with_offsets_compare_as_the_instants_they_name() -> None:
    # 12:00 at UTC+2 is 10:00 UTC: before 10:30 UTC, though its clock reading is later.
    assert compare_uploads(None, "2026-11-28T12:00:00+02:00", None, "2026-11-28T10:30:00Z") == -1
