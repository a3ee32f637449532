"""Lambda's DynamoDB Streams event source, for the notifier in local mode.

moto records the table's stream but runs no event source mapping: this thread reads each
shard in order, applies the mapping's filter pattern (Lambda's filtering rules for the forms
the pattern uses: lists of exact values and `{"prefix": ...}`), and hands the notifier a
batch, as the mapping does. A record the notifier reports failed is retried from that record,
a few times with backoff, then given up and logged (the deployed mapping sends it to its
on-failure queue), so one bad record cannot block the shard.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)
POLL_SECONDS = 0.2
BATCH_SIZE = 100
MAX_ATTEMPTS = 3


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    for name, expected in pattern.items():
        if not isinstance(value, Mapping) or name not in value:
            return False
        if isinstance(expected, Mapping):
            if not matches(expected, value[name]):
                return False
        elif not any(_matches_rule(rule, value[name]) for rule in expected):
            return False
    return True


def _matches_rule(rule: Any, actual: Any) -> bool:
    if isinstance(rule, Mapping):
        prefix = rule.get("prefix")
        return isinstance(prefix, str) and isinstance(actual, str) and actual.startswith(prefix)
    return bool(rule == actual)


class StreamRelay:
    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        pattern: Mapping[str, Any],
        handle: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._pattern = pattern
        self._handle = handle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="filetrail-stream", daemon=True)
        self._iterators: dict[str, str | None] = {}
        self.published = 0
        self.given_up = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._poll()
            except (ClientError, BotoCoreError):
                logger.exception("filetrail.local.stream")
                busy = False
            if not busy:
                self._stop.wait(POLL_SECONDS)

    def _poll(self) -> bool:
        description = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]
        busy = False
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            page = self._streams.get_records(ShardIterator=iterator, Limit=BATCH_SIZE)
            self._iterators[shard_id] = page.get("NextShardIterator")
            records = [r for r in page["Records"] if matches(self._pattern, r)]
            busy = busy or bool(page["Records"])
            if records:
                self._deliver(records)
        return busy

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        attempts = 0
        while records and not self._stop.is_set():
            result = self._handle({"Records": records})
            failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            if not failures:
                self.published += len(records)
                return
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
            first = sequence_numbers.index(failures[0]) if failures[0] in sequence_numbers else 0
            self.published += first
            records = records[first:]
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                logger.error(
                    "filetrail.local.stream.gave_up",
                    extra={"sequenceNumber": records[0]["dynamodb"]["SequenceNumber"]},
                )
                self.given_up += 1
                records, attempts = records[1:], 0
                continue
            time.sleep(0.1 * 2**attempts)
