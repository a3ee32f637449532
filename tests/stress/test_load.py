"""Load through local mode: `filetrail local`'s stack (moto HTTP server, queue, dispatcher)
with 8 concurrent dispatchers, real-format notifications injected into its queue instead of
the bucket's own, so the workload decides what is delivered: 10% twice, 10% out of order,
50 keys uploaded several times (full size: 1,000 uploads; default run: 60)."""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from filetrail.local.stack import BUCKET, TABLE, LocalStack
from handlers.store import AuditStore
from tests.hostile.metrics import metric_counts
from tests.stress.harness import (
    LineCapture,
    Workload,
    build_workload,
    served_by,
    write_summary,
)
from tests.stress.invariants import Report, check
from tests.stress.options import full_size
from tests.support.pipeline import receive_all
from tests.support.s3_events import created_record, removed_record

pytestmark = pytest.mark.stress

SEED = 424242
DISPATCHERS = 8
FULL = {
    "uploads": 1000,
    "repeat_keys": 50,
    "garbage": 10,
    "deletions": 20,
    "version_deletes": 40,
    "marker_removals": 10,
}
SMALL = {
    "uploads": 60,
    "repeat_keys": 6,
    "garbage": 2,
    "deletions": 3,
    "version_deletes": 6,
    "marker_removals": 2,
}
DRAIN_SECONDS = {False: 120.0, True: 2400.0}


@dataclass
class LoadRun:
    workload: Workload
    report: Report
    invocations: int
    dead_lettered: int
    seconds: float
    log_lines: list[str]


class _Uploader:
    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self._sequencers = itertools.count(0x0055AED6DCD90281E5)

    def upload(self, key: str, body: bytes, *, event_time: str) -> dict[str, Any]:
        put = self._s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return created_record(
            BUCKET,
            key,
            size=len(body),
            etag=put["ETag"].strip('"'),
            version_id=put.get("VersionId"),
            sequencer=f"{next(self._sequencers):X}",
            event_time=event_time,
        )

    def delete_version(self, key: str, version_id: str) -> dict[str, Any]:
        self._s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version_id)
        record = removed_record(
            BUCKET, key, version_id=version_id, sequencer=f"{next(self._sequencers):X}"
        )
        record["eventName"] = "ObjectRemoved:Delete"
        return record

    def delete(self, key: str) -> dict[str, Any]:
        response = self._s3.delete_object(Bucket=BUCKET, Key=key)
        return removed_record(
            BUCKET,
            key,
            version_id=response.get("VersionId"),
            sequencer=f"{next(self._sequencers):X}",
        )


def _queue_empty(sqs: Any, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(v) == 0 for v in attributes.values())


def _dead_letters(sqs: Any, dlq_url: str) -> list[str]:
    return [m["Body"] for m in receive_all(sqs, dlq_url, delete=True)]


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> Iterator[LoadRun]:
    full = full_size(request.config)
    sizes = FULL if full else SMALL
    capture = LineCapture()
    logging.getLogger("filetrail.local.dispatcher").setLevel(logging.ERROR)
    with LocalStack(workers=DISPATCHERS, log_handler=capture) as stack:
        assert stack.endpoints is not None
        assert stack.dispatcher is not None
        s3, sqs = stack.client("s3"), stack.client("sqs")
        # Notifications come from the workload below, in real S3 format, not from moto.
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
        uploader = _Uploader(s3)
        work = build_workload(
            uploader.upload,
            uploader.delete,
            random.Random(SEED),
            delete_version=uploader.delete_version,
            **sizes,
        )
        started = time.monotonic()
        for first in range(0, len(work.events), 10):
            batch = work.events[first : first + 10]
            sqs.send_message_batch(
                QueueUrl=stack.endpoints.queue_url,
                Entries=[
                    {"Id": str(n), "MessageBody": json.dumps(event)}
                    for n, event in enumerate(batch)
                ],
            )
        deadline = started + DRAIN_SECONDS[full]
        while not _queue_empty(sqs, stack.endpoints.queue_url):
            if time.monotonic() > deadline:
                pytest.fail(f"queue not drained after {DRAIN_SECONDS[full]:g}s")
            time.sleep(0.5)  # polling interval of a deadline-bounded wait
        seconds = time.monotonic() - started
        store = AuditStore(stack.client("dynamodb"), TABLE)
        report = check(
            store, work.ledger, _dead_letters(sqs, stack.endpoints.dlq_url), served_by(s3)
        )
        stats = stack.dispatcher.stats
        write_summary(
            f"load-{'full' if full else 'small'}",
            {
                "seed": SEED,
                "dispatchers": DISPATCHERS,
                **sizes,
                "notifications": len(work.events),
                "duplicates": work.duplicates,
                "reordered": work.reordered,
                "invocations": stats.invocations,
                "retried": stats.retried,
                "deadLettered": stats.dead_lettered,
                "seconds": round(seconds, 1),
                "streams": report.streams,
                "events": report.events,
                "outcomes": dict(report.outcomes),
                "metrics": dict(metric_counts(capture.lines)),
                "violations": report.violations,
            },
        )
        yield LoadRun(
            work, report, stats.invocations, stats.dead_lettered, seconds, list(capture.lines)
        )


def test_every_invariant_holds_under_load(run: LoadRun) -> None:
    assert run.report.violations == []


def test_load_delivered_duplicates_and_reordered_notifications(run: LoadRun) -> None:
    delivered = len(run.workload.events)
    assert run.workload.duplicates >= delivered // 20
    assert run.workload.reordered >= delivered // 20


def test_every_upload_settled_without_dead_letters(run: LoadRun) -> None:
    # No faults are injected here: contention alone must never exhaust the retries.
    assert (run.dead_lettered, run.report.outcomes["DEAD_LETTERED"]) == (0, 0)


def test_stored_metric_equals_the_trail_under_load(run: LoadRun) -> None:
    assert metric_counts(run.log_lines)["FilesStored"] == run.report.outcomes["STORED"]
