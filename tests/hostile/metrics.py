"""What the deployed metric filters would count in a handler's stdout.

Uses the filter patterns the Pulumi program deploys (infra/metrics.py) and the
CloudWatch filter-pattern matcher (tests/support/filter_pattern.py), so a log line that
a hostile key or file could bend is judged the way CloudWatch would judge it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from handlers import schema
from infra.metrics import DURATION, ERRORS, RECEIVED, REJECTED, STORED
from tests.support.filter_pattern import extract, matches

COUNTED = (RECEIVED, STORED, REJECTED, ERRORS)


def json_lines(output: str) -> list[str]:
    """Every stdout line, each asserted to be exactly one JSON object."""
    lines = output.splitlines()
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    return lines


def metric_counts(lines: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        for spec in COUNTED:
            if matches(spec.pattern, line):
                counts[spec.metric_name] += 1
    return counts


def expected_counts(outcomes: Iterable[str]) -> Counter[str]:
    """What the metrics should say for the outcomes the handler reported."""
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome in (schema.Outcome.STORED, schema.Outcome.REJECTED, schema.Outcome.IGNORED):
            counts[RECEIVED.metric_name] += 1
        if outcome == schema.Outcome.STORED:
            counts[STORED.metric_name] += 1
        if outcome == schema.Outcome.REJECTED:
            counts[REJECTED.metric_name] += 1
        if outcome == schema.Outcome.ERROR:
            counts[ERRORS.metric_name] += 1
    return counts


def durations(lines: Iterable[str]) -> list[object]:
    return [extract(DURATION.value, line) for line in lines if matches(DURATION.pattern, line)]
