"""Structured logs: one JSON object per line with stable field names (schema.LOG_*).

Metric filters match these fields, so values are never interpolated into the message
and every user-controlled string is JSON-escaped (a key with a newline cannot forge a
second line).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from handlers import schema

LOGGER_NAME = "filetrail"
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
# Lambda reads `level` as TRACE, DEBUG, INFO, WARN, ERROR or FATAL and files anything else
# under INFO, where an application log level of WARN would drop it.
_LAMBDA_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# At DEBUG these log whole signed requests (Authorization, X-Amz-Security-Token) and
# responses; Lambda sets the root logger to the function's log level, so they would reach
# CloudWatch. INFO is their most verbose level that carries no credential.
_SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": _LAMBDA_LEVEL_NAMES.get(record.levelname, record.levelname),
            schema.LOG_MESSAGE: record.getMessage(),
            "logger": record.name,
        }
        for name, value in vars(record).items():
            if name not in _RESERVED and not name.startswith("_"):
                document[name] = value
        if record.exc_info:
            document[schema.LOG_ERROR] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=True, separators=(",", ":"))


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stdout` is at the time (Lambda's, or a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def get_logger(level: str = "INFO") -> logging.Logger:
    """The package logger, writing JSON lines to stdout (Lambda ships stdout to CloudWatch)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    for name in _SDK_LOGGERS:
        sdk = logging.getLogger(name)
        if sdk.level < logging.INFO:
            sdk.setLevel(logging.INFO)
    return logger


def log_outcome(logger: logging.Logger, outcome: str, **fields: Any) -> None:
    """The one line per processed record that the metric filters count.

    Written at INFO whatever the logger's level: every metric and alarm is built from these
    lines, so a quieter log level must not silence them (the level governs diagnostics).
    """
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        schema.OUTCOME_MESSAGE,
        (),
        None,
        extra={schema.LOG_OUTCOME: outcome, **fields},
    )
    logger.handle(record)
