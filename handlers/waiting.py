"""The "waiting too long" rule of the malware scanning stage, pure: no AWS here.

A file stays PROCESSING until both verdicts (validation, scan) are in. The watchdog
(handlers/watchdog.py) reports how long the oldest such file has waited as a metric in
CloudWatch's embedded metric format, one JSON log line CloudWatch turns into a metric
without a PutMetricData permission:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
The age is 0 when nothing waits, so the alarm on it always has a data point, and a watchdog
that stops reporting is itself noticed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers import schema


@dataclass(frozen=True)
class Waiting:
    """The file that has been PROCESSING the longest."""

    document_id: str
    uploaded_at: datetime


def parse_instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_seconds(waiting: Waiting | None, now: datetime) -> int:
    """Whole seconds the oldest file has waited; 0 when none waits (or a clock ran ahead)."""
    if waiting is None:
        return 0
    return max(0, int((now - waiting.uploaded_at).total_seconds()))


def metric_line(namespace: str, waiting: Waiting | None, now: datetime) -> str:
    """One embedded-metric-format log line: the age as a metric, the file as a property."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(now.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    # One dimension set with no dimensions: the metric is the stack's.
                    "Dimensions": [[]],
                    "Metrics": [{"Name": schema.METRIC_OLDEST_PROCESSING, "Unit": "Seconds"}],
                }
            ],
        },
        # Lambda's log-level filter reads `level`; the line must pass at any setting.
        "level": "INFO",
        schema.LOG_MESSAGE: schema.WATCHDOG_MESSAGE,
        schema.METRIC_OLDEST_PROCESSING: age_seconds(waiting, now),
    }
    if waiting is not None:
        document[schema.LOG_DOCUMENT_ID] = waiting.document_id
        document["uploadedAt"] = waiting.uploaded_at.isoformat(timespec="milliseconds")
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True)
