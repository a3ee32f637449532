"""The matcher itself: it must agree with CloudWatch on the syntax filetrail uses."""

import json

import pytest

from tests.support.filter_pattern import UnsupportedPattern, extract, matches


def _line(**fields: object) -> str:
    return json.dumps(fields)


def test_string_equality_matches_the_same_value() -> None:
    assert matches('{ $.outcome = "STORED" }', _line(outcome="STORED"))


def test_string_equality_is_case_sensitive() -> None:
    assert not matches('{ $.outcome = "STORED" }', _line(outcome="stored"))


def test_inequality_matches_a_different_value() -> None:
    assert matches('{ $.outcome != "TEST_EVENT" }', _line(outcome="STORED"))


def test_inequality_rejects_the_same_value() -> None:
    assert not matches('{ $.outcome != "TEST_EVENT" }', _line(outcome="TEST_EVENT"))


def test_missing_field_never_matches() -> None:
    assert not matches('{ $.outcome != "TEST_EVENT" }', _line(message="x"))


def test_conjunction_needs_every_term() -> None:
    pattern = '{ $.message = "m" && $.outcome = "STORED" }'
    assert matches(pattern, _line(message="m", outcome="STORED"))
    assert not matches(pattern, _line(message="m", outcome="REJECTED"))


def test_numeric_comparison_on_numbers() -> None:
    assert matches("{ $.durationMs >= 0 }", _line(durationMs=12.5))
    assert not matches("{ $.durationMs >= 0 }", _line(durationMs=-1))


def test_numeric_comparison_ignores_strings_and_booleans() -> None:
    assert not matches("{ $.durationMs >= 0 }", _line(durationMs="12"))
    assert not matches("{ $.durationMs >= 0 }", _line(durationMs=True))


def test_string_term_does_not_match_a_number() -> None:
    assert not matches('{ $.size = "5" }', _line(size=5))


def test_nested_selector() -> None:
    assert matches('{ $.s3.bucket = "b" }', _line(s3={"bucket": "b"}))


def test_non_json_line_never_matches() -> None:
    assert not matches('{ $.outcome = "STORED" }', "START RequestId: 1 Version: $LATEST")


def test_escaped_quote_in_value() -> None:
    assert matches('{ $.key = "a\\"b" }', _line(key='a"b'))


@pytest.mark.parametrize(
    "pattern",
    [
        '$.outcome = "STORED"',
        '{ $.outcome = "STORED" || $.outcome = "REJECTED" }',
        '{ ($.outcome = "STORED") }',
        '{ $.outcome = "STO*" }',
        '{ $.outcome > "A" }',
        "{ $.outcome IS NULL }",
    ],
)
def test_unsupported_syntax_is_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        matches(pattern, _line(outcome="STORED"))


def test_extract_reads_a_metric_value() -> None:
    assert extract("$.durationMs", _line(durationMs=42)) == 42


def test_extract_of_missing_field_is_none() -> None:
    assert extract("$.durationMs", _line()) is None
