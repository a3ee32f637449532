"""The stress workload with malware scanning on: every upload's scan result is delivered
too, before or after its notification, duplicated and reordered like the notifications,
with the same seeded faults. Every invariant still holds, and no object version is ever
tagged readable unless both its validation and a clean scan of it are recorded."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from handlers import schema
from tests.stress.faults import FaultInjector
from tests.stress.harness import (
    Delivery,
    Workload,
    build_workload,
    invoke_async,
    record_key,
    served_by,
    stack,
    write_summary,
)
from tests.stress.invariants import Report, check, check_quarantine
from tests.stress.options import full_size
from tests.support.pipeline import BUCKET
from tests.support.scan_events import scan_event

pytestmark = pytest.mark.stress

SEED = 6607
SMALL = {"uploads": 28, "repeat_keys": 6, "deletions": 2, "version_deletes": 3}
FULL = {"uploads": 300, "repeat_keys": 40, "deletions": 15, "version_deletes": 20}
THREAT_RATE = 0.1


@dataclass
class ScanRun:
    workload: Workload
    report: Report
    quarantine: list[str]
    scans: int
    scans_first: int


def add_scans(work: Workload, rng: random.Random) -> tuple[int, int]:
    """One scan result per uploaded version, placed anywhere (before its notification too),
    some delivered twice. Returns (scans, scans placed before their notification)."""
    created = [
        record
        for event in list(work.events)
        if (record := event["Records"][0])["eventName"].startswith("ObjectCreated:")
    ]
    first = 0
    for record in created:
        obj = record["s3"]["object"]
        threats = rng.random() < THREAT_RATE
        event = scan_event(
            BUCKET,
            record_key(record),
            version_id=obj.get("versionId"),
            etag=obj.get("eTag"),
            result="THREATS_FOUND" if threats else "NO_THREATS_FOUND",
            threats=["EICAR-Test-File (not a virus)"] if threats else None,
        )
        work.ledger.scan(event)
        position = rng.randrange(len(work.events) + 1)
        first += position <= work.events.index({"Records": [record]})
        work.events.insert(position, event)
        if rng.random() < 0.1:
            work.events.insert(rng.randrange(len(work.events) + 1), event)
            work.duplicates += 1
    return len(created), first


def event_key(event: dict[str, Any]) -> str:
    if "detail" in event:
        return str(event["detail"]["s3ObjectDetails"]["objectKey"])
    return record_key(event["Records"][0])


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> Iterator[ScanRun]:
    sizes = FULL if full_size(request.config) else SMALL
    rng = random.Random(SEED)
    with stack() as env:
        work = build_workload(
            env.pipeline.upload,
            env.pipeline.delete,
            rng,
            delete_version=env.pipeline.delete_version,
            **sizes,
        )
        scans, scans_first = add_scans(work, rng)
        faulty = env.session()
        injector = FaultInjector(SEED).attach(faulty)
        runtime = env.runtime(faulty, **{schema.ENV_MALWARE_SCAN: schema.MALWARE_SCAN_GUARDDUTY})
        sqs = env.clean.client("sqs")
        clean_s3 = env.clean.client("s3")
        delivery = Delivery()
        quarantine: list[str] = []
        for event in work.events:
            invoke_async(runtime, event, sqs, env.pipeline.dlq_url, delivery)
            # "Never readable before both verdicts": judged after every delivery, not only
            # at the end, where a later verdict could have overwritten an early tag.
            quarantine += check_quarantine(clean_s3, BUCKET, env.pipeline.store, [event_key(event)])
        injector.enabled = False
        report = check(env.pipeline.store, work.ledger, env.dead_letters(), served_by(clean_s3))
        keys = [upload.key for upload in work.ledger.uploads.values()]
        quarantine += check_quarantine(clean_s3, BUCKET, env.pipeline.store, keys)
        write_summary(
            f"scanning-{SEED}-{'full' if full_size(request.config) else 'small'}",
            {
                "seed": SEED,
                **sizes,
                "notifications": len(work.events),
                "scans": scans,
                "scansBeforeTheirNotification": scans_first,
                "injected": dict(injector.injected),
                "invocations": delivery.invocations,
                "deadLettered": delivery.dead_lettered,
                "outcomes": dict(report.outcomes),
                "violations": report.violations + quarantine,
            },
        )
        yield ScanRun(work, report, quarantine, scans, scans_first)


def test_every_invariant_holds_with_scanning(run: ScanRun) -> None:
    assert run.report.violations == []


def test_no_version_is_readable_before_both_verdicts(run: ScanRun) -> None:
    assert run.quarantine == []


def test_scans_came_in_both_orders_and_found_threats(run: ScanRun) -> None:
    assert 0 < run.scans_first < run.scans
    assert run.report.outcomes["STORED"] > 0
    assert run.report.outcomes["REJECTED"] > 0
