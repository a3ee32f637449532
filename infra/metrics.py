"""CloudWatch metric filter definitions, built from the handler's log-field constants.

Every outcome the handler logs is one JSON line whose `message` is `schema.OUTCOME_MESSAGE`;
each filter is anchored to it so unrelated log lines never count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from handlers import schema

COUNT = "1"


@dataclass(frozen=True)
class MetricFilterSpec:
    """One metric filter: its suffix in resource names, pattern and metric transformation."""

    suffix: str
    metric_name: str
    pattern: str
    # A JSON selector such as `$.durationMs`, or a constant count.
    value: str = COUNT
    unit: str = "Count"
    dimensions: dict[str, str] = field(default_factory=dict)

    @property
    def default_value(self) -> str | None:
        """Zero for counts, so quiet periods chart as 0 rather than gaps.

        Never for measured values: CloudWatch emits the default for every batch of log
        lines that does not match, which would drag a latency's percentiles towards 0. Nor
        with dimensions, which CloudWatch refuses. "0", not "0.0": the provider reads the
        value back as Go's shortest float, and any other spelling diffs on every preview.
        """
        return "0" if self.value == COUNT and not self.dimensions else None


def _selector(log_field: str) -> str:
    return f"$.{log_field}"


def _equals(log_field: str, value: str) -> str:
    return f"{_selector(log_field)} = {json.dumps(value)}"


def _pattern(*terms: str) -> str:
    return "{ " + " && ".join((_equals(schema.LOG_MESSAGE, schema.OUTCOME_MESSAGE), *terms)) + " }"


REJECTED_BY_REASON_DIMENSION = schema.LOG_REASON

# Uploads that reached a verdict (stored, rejected or ignored): not S3's test event, a
# duplicate delivery, an invalid event, a deletion, a failed attempt Lambda will retry, or
# one of the two halves of a malware-scan join that did not decide the verdict.
_NOT_RECEIVED = (
    schema.Outcome.AWAITING_SCAN,
    schema.Outcome.SCANNED,
    schema.Outcome.TEST_EVENT,
    schema.Outcome.DUPLICATE,
    schema.Outcome.INVALID,
    schema.Outcome.DELETED,
    schema.Outcome.ERROR,
)
RECEIVED = MetricFilterSpec(
    suffix="received",
    metric_name=schema.METRIC_RECEIVED,
    pattern=_pattern(
        *(f"{_selector(schema.LOG_OUTCOME)} != {json.dumps(o.value)}" for o in _NOT_RECEIVED)
    ),
)
STORED = MetricFilterSpec(
    suffix="stored",
    metric_name=schema.METRIC_STORED,
    pattern=_pattern(_equals(schema.LOG_OUTCOME, schema.Outcome.STORED)),
)
REJECTED = MetricFilterSpec(
    suffix="rejected",
    metric_name=schema.METRIC_REJECTED,
    pattern=_pattern(_equals(schema.LOG_OUTCOME, schema.Outcome.REJECTED)),
)
REJECTED_BY_REASON = MetricFilterSpec(
    suffix="rejected-by-reason",
    metric_name=schema.METRIC_REJECTED,
    pattern=REJECTED.pattern,
    dimensions={REJECTED_BY_REASON_DIMENSION: _selector(schema.LOG_REASON)},
)
ERRORS = MetricFilterSpec(
    suffix="errors",
    metric_name=schema.METRIC_ERRORS,
    pattern=_pattern(_equals(schema.LOG_OUTCOME, schema.Outcome.ERROR)),
)
DURATION = MetricFilterSpec(
    suffix="duration",
    metric_name=schema.METRIC_DURATION,
    pattern=_pattern(f"{_selector(schema.LOG_DURATION_MS)} >= 0"),
    value=_selector(schema.LOG_DURATION_MS),
    unit="Milliseconds",
)

# The total and the per-reason rejected metric are distinct metrics (different dimension
# sets): alarms use the total, the dashboard breaks it down.
METRIC_FILTERS: tuple[MetricFilterSpec, ...] = (
    RECEIVED,
    STORED,
    REJECTED,
    REJECTED_BY_REASON,
    ERRORS,
    DURATION,
)


def metric_namespace(stack: str) -> str:
    """Per stack, so two stacks in one account and region never mix their metrics."""
    return f"{schema.METRIC_NAMESPACE}/{stack}"
