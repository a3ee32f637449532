"""handlers/ordering.py against an independently written reference of AWS's sequencer rule.

Antisymmetry, transitivity and arrival-order independence hold for any total order, so
they cannot tell AWS's rule from a wrong one. This compares with the rule itself, as the
S3 event message structure page states it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html):
"The sequencers can be of different lengths. So, to compare these values, first right pad
the shorter value with zeros, and then do a lexicographical comparison." The reference
pads by arithmetic and compares integers, sharing no code or string operation with the
implementation, and the last tests show that plausible wrong rules fail the same check.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.ordering import compare_sequencers, compare_uploads

Compare = Callable[[str, str], int]

# Real sequencers are upper-case hex of 16 to 18 digits; shorter, longer and lower-case
# ones are the cases where a wrong rule shows.
sequencers = st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=24)
same_prefix_pairs = st.tuples(sequencers, sequencers, sequencers).map(
    lambda t: (t[0] + t[1], t[0] + t[2])
)
pairs = st.one_of(st.tuples(sequencers, sequencers), same_prefix_pairs)


def aws_rule(a: str, b: str) -> int:
    """Right-pad with zeros to one width, then compare: hex digits of one width order as
    the numbers they spell (the digits 0-9 A-F are in order), so compare those numbers."""
    width = max(len(a), len(b))
    left = int(a, 16) * 16 ** (width - len(a))
    right = int(b, 16) * 16 ** (width - len(b))
    return (left > right) - (left < right)


def check_against_aws(compare: Compare) -> None:
    @settings(max_examples=400, database=None, derandomize=True)
    @given(pairs)
    def agrees(pair: tuple[str, str]) -> None:
        assert compare(*pair) == aws_rule(*pair), pair

    agrees()


def test_reference_reads_the_documented_examples_as_aws_does() -> None:
    # A reference that is wrong would make every check below meaningless.
    assert [aws_rule(a, b) for a, b in [("0A", "0A01"), ("1", "0F"), ("0A", "0A00")]] == [
        -1,
        1,
        0,
    ]


def test_sequencer_comparison_is_awss_rule() -> None:
    check_against_aws(compare_sequencers)


def test_upload_comparison_uses_awss_rule_when_both_have_a_sequencer() -> None:
    # Event times that disagree with the sequencers: only the sequencers may decide.
    def by_upload(a: str, b: str) -> int:
        return compare_uploads(a, "2026-11-28T10:00:00.000Z", b, "2026-11-28T09:00:00.000Z")

    check_against_aws(by_upload)


def _plain_string(a: str, b: str) -> int:
    return (a > b) - (a < b)


def _left_pad(a: str, b: str) -> int:
    width = max(len(a), len(b))
    left, right = a.upper().zfill(width), b.upper().zfill(width)
    return (left > right) - (left < right)


def _numeric_unpadded(a: str, b: str) -> int:
    left, right = int(a, 16), int(b, 16)
    return (left > right) - (left < right)


def _case_sensitive_right_pad(a: str, b: str) -> int:
    width = max(len(a), len(b))
    left, right = a.ljust(width, "0"), b.ljust(width, "0")
    return (left > right) - (left < right)


@pytest.mark.parametrize(
    "wrong",
    [_plain_string, _left_pad, _numeric_unpadded, _case_sensitive_right_pad],
    ids=["plain-string", "left-pad", "numeric-unpadded", "case-sensitive"],
)
def test_a_total_order_that_is_not_awss_rule_fails_the_check(wrong: Compare) -> None:
    # Each is a total order, so each passes the older property tests; this check must not.
    with pytest.raises(AssertionError):
        check_against_aws(wrong)
