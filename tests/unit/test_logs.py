"""The handler's JSON log lines: the level names Lambda reads, and outcome lines at every level."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from handlers import schema
from handlers.logs import LOGGER_NAME, JsonFormatter, get_logger, log_outcome


@pytest.fixture
def restored_logger() -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.mark.parametrize(
    ("level", "lambda_name"),
    [
        (logging.DEBUG, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARN"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "FATAL"),
    ],
)
def test_level_field_uses_the_names_lambda_recognises(level: int, lambda_name: str) -> None:
    """Lambda reads `level` as TRACE, DEBUG, INFO, WARN, ERROR or FATAL and takes anything
    else as INFO, so a WARNING line would pass a WARN filter as INFO and be dropped:
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
    """
    record = logging.LogRecord(LOGGER_NAME, level, __file__, 1, "something", None, None)

    assert json.loads(JsonFormatter().format(record))["level"] == lambda_name


@pytest.mark.usefixtures("restored_logger")
@pytest.mark.parametrize("level", ["WARNING", "ERROR"])
def test_outcome_line_is_written_above_info(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The metric filters count outcome lines: a quieter log level must not silence them."""
    logger = get_logger(level)

    log_outcome(logger, schema.Outcome.STORED, **{schema.LOG_KEY: "a.pdf"})

    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert (line[schema.LOG_MESSAGE], line[schema.LOG_OUTCOME], line["level"]) == (
        schema.OUTCOME_MESSAGE,
        "STORED",
        "INFO",
    )


@pytest.mark.usefixtures("restored_logger")
def test_diagnostic_lines_still_follow_the_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    logger = get_logger("ERROR")

    logger.warning("a diagnostic below the configured level")

    assert capsys.readouterr().out == ""
