"""The watchdog: the oldest PROCESSING file's wait, read from the status index, as a metric."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers import schema
from handlers.errors import ConfigurationError
from handlers.waiting import (
    Waiting,
    age_seconds,
    metric_line,
)
from handlers.watchdog import WatchdogSettings, build_watchdog, oldest_processing

TABLE = "watchdog-audit"
SHARDS = 4
NAMESPACE = "Filetrail/test"
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        session.client("dynamodb").create_table(**schema.create_table_request(TABLE))  # type: ignore[arg-type]
        yield session


def _put_status(session: boto3.session.Session, key: str, status: str, uploaded_at: str) -> str:
    """A status item as the store writes it, in the index shard its documentId selects."""
    document_id = schema.document_id("uploads", key)
    shard = schema.status_shard(document_id, SHARDS)
    session.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            schema.PARTITION_KEY: {"S": document_id},
            schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
            "status": {"S": status},
            "uploadedAt": {"S": uploaded_at},
            schema.STATUS_INDEX_PARTITION_KEY: {"S": schema.status_index_key(status, shard)},
            schema.STATUS_INDEX_SORT_KEY: {"S": f"{uploaded_at}#{document_id}"},
        },
    )
    return document_id


def _keys_in_distinct_shards(count: int) -> list[str]:
    keys: dict[int, str] = {}
    n = 0
    while len(keys) < count:
        key = f"incoming/{n}.pdf"
        keys.setdefault(schema.status_shard(schema.document_id("uploads", key), SHARDS), key)
        n += 1
    return [keys[shard] for shard in sorted(keys)]


def _another_key_in_the_shard_of(key: str) -> str:
    shard = schema.status_shard(schema.document_id("uploads", key), SHARDS)
    n = 0
    while True:
        other = f"later/{n}.pdf"
        if schema.status_shard(schema.document_id("uploads", other), SHARDS) == shard:
            return other
        n += 1


def test_no_waiting_file_is_no_wait(session: boto3.session.Session) -> None:
    assert oldest_processing(session.client("dynamodb"), TABLE, SHARDS) is None


def test_the_oldest_processing_file_of_every_shard_is_found(
    session: boto3.session.Session,
) -> None:
    first, second, third = _keys_in_distinct_shards(3)
    _put_status(session, first, "PROCESSING", "2026-12-01T11:50:00.000Z")
    _put_status(
        session, _another_key_in_the_shard_of(third), "PROCESSING", "2026-12-01T11:55:00.000Z"
    )
    oldest = _put_status(session, third, "PROCESSING", "2026-12-01T11:20:00.000Z")
    _put_status(session, second, "PROCESSING", "2026-12-01T11:40:00.000Z")

    found = oldest_processing(session.client("dynamodb"), TABLE, SHARDS)

    assert found == Waiting(oldest, datetime(2026, 12, 1, 11, 20, tzinfo=UTC))


def test_files_with_a_verdict_are_not_waiting(session: boto3.session.Session) -> None:
    done, waiting = _keys_in_distinct_shards(2)
    _put_status(session, done, "SUCCESS", "2026-12-01T08:00:00.000Z")
    _put_status(session, done + ".old", "FAILED", "2026-12-01T07:00:00.000Z")
    document_id = _put_status(session, waiting, "PROCESSING", "2026-12-01T11:59:00.000Z")

    found = oldest_processing(session.client("dynamodb"), TABLE, SHARDS)

    assert found is not None
    assert found.document_id == document_id


class _RecordingClient:
    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        return {"Items": []}


def test_each_shard_is_asked_for_its_oldest_item_only() -> None:
    client = _RecordingClient()

    oldest_processing(client, TABLE, SHARDS)  # type: ignore[arg-type]

    assert [q["ExpressionAttributeValues"][":p"]["S"] for q in client.queries] == list(
        schema.status_index_keys("PROCESSING", SHARDS)
    )
    assert {(q["IndexName"], q["ScanIndexForward"], q["Limit"]) for q in client.queries} == {
        (schema.STATUS_INDEX, True, 1)
    }


def test_age_is_whole_seconds_since_the_upload() -> None:
    waiting = Waiting("doc-1", datetime(2026, 12, 1, 11, 29, 30, 500_000, tzinfo=UTC))

    assert age_seconds(waiting, NOW) == 1829


def test_age_is_zero_when_nothing_waits() -> None:
    assert age_seconds(None, NOW) == 0


def test_metric_line_is_an_embedded_metric_document() -> None:
    """The shape CloudWatch extracts a metric from:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
    """
    waiting = Waiting("doc-1", datetime(2026, 12, 1, 11, 0, tzinfo=UTC))

    document = json.loads(metric_line(NAMESPACE, waiting, NOW))

    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert document["_aws"]["Timestamp"] == int(NOW.timestamp() * 1000)
    assert directive == {
        "Namespace": NAMESPACE,
        "Dimensions": [[]],
        "Metrics": [{"Name": schema.METRIC_OLDEST_PROCESSING, "Unit": "Seconds"}],
    }
    assert document[schema.METRIC_OLDEST_PROCESSING] == 3600
    assert document[schema.LOG_DOCUMENT_ID] == "doc-1"


def test_metric_line_reports_zero_without_a_file_when_nothing_waits() -> None:
    document = json.loads(metric_line(NAMESPACE, None, NOW))

    assert document[schema.METRIC_OLDEST_PROCESSING] == 0
    assert schema.LOG_DOCUMENT_ID not in document


def test_check_writes_one_metric_line_with_the_oldest_wait(
    session: boto3.session.Session,
) -> None:
    (key,) = _keys_in_distinct_shards(1)
    _put_status(session, key, "PROCESSING", "2026-12-01T11:15:00.000Z")
    watchdog = build_watchdog(
        {
            schema.ENV_TABLE_NAME: TABLE,
            schema.ENV_STATUS_INDEX_SHARDS: str(SHARDS),
            schema.ENV_METRIC_NAMESPACE: NAMESPACE,
        },
        session,
    )
    out = io.StringIO()

    age = watchdog.check(NOW, out)

    (line,) = out.getvalue().splitlines()
    assert age == 45 * 60
    assert json.loads(line)[schema.METRIC_OLDEST_PROCESSING] == 45 * 60


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({schema.ENV_METRIC_NAMESPACE: NAMESPACE}, "TABLE_NAME"),
        ({schema.ENV_TABLE_NAME: TABLE}, schema.ENV_METRIC_NAMESPACE),
        (
            {
                schema.ENV_TABLE_NAME: TABLE,
                schema.ENV_METRIC_NAMESPACE: NAMESPACE,
                schema.ENV_STATUS_INDEX_SHARDS: "33",
            },
            "STATUS_INDEX_SHARDS",
        ),
    ],
)
def test_bad_settings_are_refused_at_cold_start(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        WatchdogSettings.from_env(environ)
