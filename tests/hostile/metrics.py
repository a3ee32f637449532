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
    """What the filters count for clean outcome lines with these outcomes.

    The oracle is each filter applied to a minimal line carrying only the message and
    the outcome: a hostile key, file or field must never make the real line count
    differently from that.
    """
    clean = [
        json.dumps({schema.LOG_MESSAGE: schema.OUTCOME_MESSAGE, schema.LOG_OUTCOME: str(o)})
        for o in outcomes
    ]
    return metric_counts(clean)


def durations(lines: Iterable[str]) -> list[object]:
    return [extract(DURATION.value, line) for line in lines if matches(DURATION.pattern, line)]
