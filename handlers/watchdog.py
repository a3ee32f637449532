"""Lambda entry point of the watchdog: `handlers.watchdog.handler(event, context)`.

Runs on a schedule while malware scanning is on, so that a scan that never comes is noticed.
It finds the file that has been PROCESSING the longest (waiting for its scan or for its
validation) and logs its age as one line in CloudWatch's embedded metric format, which
CloudWatch turns into a metric without a PutMetricData permission (handlers/waiting.py).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from handlers import schema, tracing
from handlers.aws_errors import translate
from handlers.clients import CLIENT_CONFIG
from handlers.errors import ConfigurationError
from handlers.waiting import (
    Waiting,
    age_seconds,
    metric_line,
    parse_instant,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class WatchdogSettings:
    table_name: str
    namespace: str
    shards: int = schema.DEFAULT_STATUS_INDEX_SHARDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> WatchdogSettings:
        problems = []
        table = environ.get(schema.ENV_TABLE_NAME, "").strip()
        if not table:
            problems.append(f"{schema.ENV_TABLE_NAME} is required")
        namespace = environ.get(schema.ENV_METRIC_NAMESPACE, "").strip()
        if not namespace:
            problems.append(f"{schema.ENV_METRIC_NAMESPACE} is required")
        raw = environ.get(schema.ENV_STATUS_INDEX_SHARDS, str(schema.DEFAULT_STATUS_INDEX_SHARDS))
        shards = int(raw) if raw.strip().isdigit() else 0
        if not 1 <= shards <= schema.MAX_STATUS_INDEX_SHARDS:
            problems.append(
                f"{schema.ENV_STATUS_INDEX_SHARDS} must be between 1 and "
                f"{schema.MAX_STATUS_INDEX_SHARDS}"
            )
        if problems:
            raise ConfigurationError("invalid watchdog settings: " + "; ".join(problems))
        return cls(table_name=table, namespace=namespace, shards=shards)


def oldest_processing(client: DynamoDBClient, table: str, shards: int) -> Waiting | None:
    """One Query per shard of PROCESSING, oldest upload first, one item each; the oldest wins.

    The index sorts by `uploadedAt#documentId` and upload times are UTC with milliseconds
    and `Z`, so the first item of a shard is its oldest.
    """
    oldest: tuple[str, str] | None = None
    for partition in schema.status_index_keys(schema.Status.PROCESSING, shards):
        try:
            response = client.query(
                TableName=table,
                IndexName=schema.STATUS_INDEX,
                KeyConditionExpression="#p = :p",
                ExpressionAttributeNames={
                    "#p": schema.STATUS_INDEX_PARTITION_KEY,
                    "#o": schema.STATUS_INDEX_SORT_KEY,
                },
                ExpressionAttributeValues={":p": {"S": partition}},
                ProjectionExpression="#o",
                ScanIndexForward=True,
                Limit=1,
            )
        except (ClientError, BotoCoreError) as error:
            raise translate(error, f"find the oldest {partition} file in {table}") from error
        for item in response.get("Items", []):
            sort_key = item[schema.STATUS_INDEX_SORT_KEY]["S"]
            uploaded_at, _, document_id = sort_key.partition("#")
            if oldest is None or (uploaded_at, document_id) < oldest:
                oldest = (uploaded_at, document_id)
    if oldest is None:
        return None
    return Waiting(document_id=oldest[1], uploaded_at=parse_instant(oldest[0]))


@dataclass(frozen=True)
class Watchdog:
    client: DynamoDBClient
    settings: WatchdogSettings

    def check(self, now: datetime | None = None, out: TextIO | None = None) -> int:
        """Log the oldest wait as a metric and return it, in seconds."""
        instant = now or datetime.now(UTC)
        waiting = oldest_processing(self.client, self.settings.table_name, self.settings.shards)
        stream = out if out is not None else sys.stdout
        # Straight to stdout, not through the logger: CloudWatch extracts metrics only from a
        # log event that is the EMF document itself.
        stream.write(metric_line(self.settings.namespace, waiting, instant) + "\n")
        stream.flush()
        return age_seconds(waiting, instant)


def build_watchdog(
    environ: Mapping[str, str] | None = None, session: boto3.session.Session | None = None
) -> Watchdog:
    settings = WatchdogSettings.from_env(os.environ if environ is None else environ)
    session = session or boto3.session.Session()
    client = tracing.instrument(session.client("dynamodb", config=CLIENT_CONFIG))
    return Watchdog(client=client, settings=settings)


@functools.cache
def watchdog() -> Watchdog:
    return build_watchdog()


def handler(event: Any, context: Any) -> dict[str, int]:
    return {schema.METRIC_OLDEST_PROCESSING: watchdog().check()}
