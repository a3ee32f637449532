"""What a scenario needs around the handler: a stack on a locked moto server, a workload
with re-uploads, rejects, deletions, garbage and duplicates, Lambda-style redelivery, and
the handler's log lines."""

from __future__ import annotations

import json
import logging
import random
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from handlers import schema
from handlers.app import Runtime, build_runtime
from handlers.events import parse_s3_record
from handlers.logs import LOGGER_NAME, JsonFormatter
from tests.stress.invariants import ON_FAILURE_CONDITION, Ledger
from tests.stress.server import locked_moto_server
from tests.support.pipeline import TABLE, LambdaContext, Pipeline, provision, receive_all
from tests.support.samples import PDF, PE_EXE, PNG

MAX_ATTEMPTS = 3  # Lambda's asynchronous invocation: the call and 2 retries
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


def write_summary(name: str, summary: dict[str, Any]) -> None:
    """A scenario's figures for docs/stress.md, next to the benchmark's (not committed)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"stress-{name}.json").write_text(json.dumps(summary, indent=2, default=str))


class LineCapture(logging.Handler):
    """The handler's JSON log lines, exactly as CloudWatch would receive them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Stack:
    pipeline: Pipeline
    clean: boto3.session.Session
    endpoint_url: str
    logs: LineCapture

    def runtime(self, session: boto3.session.Session, **settings: str) -> Runtime:
        environ = {schema.ENV_TABLE_NAME: TABLE, schema.ENV_DLQ_URL: self.pipeline.dlq_url}
        return build_runtime(environ | settings, session)

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(region_name="us-east-1")

    def dead_letters(self) -> list[str]:
        sqs = self.clean.client("sqs")
        return [m["Body"] for m in receive_all(sqs, self.pipeline.dlq_url, delete=True)]


@contextmanager
def stack() -> Iterator[Stack]:
    """A fresh emulator and pipeline; retry delays zeroed (decisions unchanged)."""
    with (
        pytest.MonkeyPatch.context() as patch,
        locked_moto_server() as server,
    ):
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
        logger = logging.getLogger(LOGGER_NAME)
        capture = LineCapture()
        saved = list(logger.handlers)
        try:
            _reset(server.endpoint_url)
            clean = boto3.session.Session(region_name="us-east-1")
            pipeline = provision(clean)
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.addHandler(capture)
            yield Stack(pipeline, clean, server.endpoint_url, capture)
        finally:
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            for handler in saved:
                logger.addHandler(handler)


def _reset(endpoint_url: str) -> None:
    """moto's backends are process-wide: a new server still holds the last scenario's state."""
    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
    # Resetting a full-size scenario's state takes seconds on a loaded machine.
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - local emulator
        response.read()


@dataclass
class Workload:
    """Notifications in delivery order, and the ledger of what they are."""

    events: list[dict[str, Any]] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    duplicates: int = 0
    reordered: int = 0


Upload = Callable[..., dict[str, Any]]


def build_workload(
    upload: Upload,
    delete: Callable[[str], dict[str, Any]],
    rng: random.Random,
    uploads: int,
    *,
    repeat_keys: int,
    duplicate_rate: float = 0.1,
    reorder_rate: float = 0.1,
    garbage: int = 0,
    deletions: int = 0,
    delete_version: Callable[[str, str], dict[str, Any]] | None = None,
    version_deletes: int = 0,
    marker_removals: int = 0,
) -> Workload:
    """`uploads` real uploads: the first `repeat_keys` keys get several uploads each.

    Then `deletions` delete markers, `version_deletes` permanent deletes of uploaded
    versions, and `marker_removals` deletes of delete markers (the file comes back), each
    a real S3 operation, so the key serves what S3 says it serves (the final oracle).
    """
    work = Workload()
    keys = [f"in/{n:05d}{rng.choice(['.png', '.png', '.pdf', '.jpg'])}" for n in range(uploads)]
    bodies = {".png": PNG, ".pdf": PDF, ".jpg": PNG}
    plan = list(range(uploads))
    # Re-uploads: each extra upload of a hot key takes the place of a distinct key.
    hot = list(range(repeat_keys))
    for slot in range(repeat_keys, min(uploads, repeat_keys * 4)):
        plan[slot] = rng.choice(hot)
    for n, key_index in enumerate(plan):
        key = keys[key_index]
        ext = key[key.rindex(".") :]
        roll = rng.random()
        body = PE_EXE if roll < 0.15 else (b"" if roll < 0.2 else bodies[ext] + bytes([n % 256]))
        record = upload(key, body, event_time=_now())
        work.ledger.upload(record)
        work.events.append({"Records": [record]})
    markers: list[dict[str, Any]] = []
    for _ in range(deletions):
        record = delete(keys[rng.choice(hot or plan)])
        work.ledger.upload(record)
        work.events.append({"Records": [record]})
        markers.append(record)
    if delete_version is not None:
        versions = [
            r
            for e in work.events
            if (r := e["Records"][0])["eventName"].startswith("ObjectCreated:")
            and r["s3"]["object"].get("versionId")
        ]
        for record in rng.sample(versions, min(version_deletes, len(versions))):
            obj = record["s3"]["object"]
            deletion = delete_version(record_key(record), obj["versionId"])
            work.ledger.upload(deletion)
            work.events.append({"Records": [deletion]})
        removable = [m for m in markers if m["s3"]["object"].get("versionId")]
        for marker in rng.sample(removable, min(marker_removals, len(removable))):
            removal = delete_version(record_key(marker), marker["s3"]["object"]["versionId"])
            work.ledger.upload(removal)
            work.events.append({"Records": [removal]})
    valid = list(work.events)
    for n in range(garbage):
        broken = json.loads(json.dumps(valid[n % len(valid)]["Records"][0]))
        broken["s3"]["object"].pop("key")
        broken["eventTime"] = f"garbage-{n}"  # distinct, and invalid on its own
        work.ledger.add_garbage(broken)
        work.events.insert(rng.randrange(len(work.events)), {"Records": [broken]})
    originals = list(work.events)
    garbage_records = [json.dumps(g, sort_keys=True) for g in work.ledger.garbage]
    for event in originals:
        if rng.random() < duplicate_rate:
            work.events.insert(rng.randrange(len(work.events) + 1), event)
            work.duplicates += 1
            if json.dumps(event["Records"][0], sort_keys=True) in garbage_records:
                work.ledger.add_garbage(event["Records"][0])
    for index in range(len(work.events) - 1):
        if rng.random() < reorder_rate:
            swap = rng.randrange(index + 1, min(len(work.events), index + 20))
            work.events[index], work.events[swap] = work.events[swap], work.events[index]
            work.reordered += 1
    return work


def served_by(s3: Any) -> Callable[[str, str], tuple[bool, str | None]]:
    """The final oracle: what S3 itself serves for a key (a HEAD with a clean client)."""

    def served(bucket: str, key: str) -> tuple[bool, str | None]:
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return False, None
            raise
        return True, head.get("VersionId")

    return served


def record_key(record: dict[str, Any]) -> str:
    return parse_s3_record(record).key


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def on_failure_record(event: dict[str, Any], error: BaseException, request_id: str) -> str:
    """What Lambda's on-failure destination receives after the last retry."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": _now(),
            "requestContext": {
                "requestId": request_id,
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:filetrail:$LATEST",
                "condition": ON_FAILURE_CONDITION,
                "approximateInvokeCount": MAX_ATTEMPTS,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
    )


@dataclass
class Delivery:
    invocations: int = 0
    retried: int = 0
    dead_lettered: int = 0


def invoke_async(
    runtime: Runtime, event: dict[str, Any], sqs: Any, dlq_url: str, delivery: Delivery
) -> None:
    """Lambda's asynchronous invocation: up to 3 attempts, then the on-failure destination."""
    error: BaseException | None = None
    request_id = f"req-{delivery.invocations}"
    for attempt in range(MAX_ATTEMPTS):
        delivery.invocations += 1
        delivery.retried += attempt > 0
        request_id = f"req-{delivery.invocations}"
        try:
            runtime.handle(event, LambdaContext(request_id))
        except Exception as failure:  # noqa: BLE001 - Lambda reports any error as a failure
            error = failure
            continue
        return
    assert error is not None
    delivery.dead_lettered += 1
    sqs.send_message(QueueUrl=dlq_url, MessageBody=on_failure_record(event, error, request_id))
