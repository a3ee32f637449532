"""Per-file resource use and handler time, filetrail against the baseline, in one process.

Both handlers run in-process against moto's in-process mock (`mock_aws`), each on its own
boto3 session with a call recorder, on the same objects, alternating which goes first.
Times are therefore CPU time in Python plus moto's emulation, not network latency.

Three paths per file size: a valid upload (success), an executable named `.png` that both
designs refuse (rejected), and the success path's notification delivered a second time
(duplicate), as S3 and Lambda may.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

from bench.baseline import BASELINE_TABLE, BaselineHandler
from bench.baseline import create_table_request as baseline_table
from handlers import schema
from handlers.app import Runtime
from tests.support.call_recorder import WRITE_OPERATIONS, Call, CallRecorder
from tests.support.capacity import request_write_units
from tests.support.index_meter import IndexWriteMeter
from tests.support.pipeline import BUCKET, TABLE, LambdaContext, provision
from tests.support.s3_events import created_record, s3_event
from tests.support.samples import ELF, PNG, padded

KIB = 1024
MIB = 1024 * KIB
DESIGNS = ("filetrail", "baseline")
PATHS = ("success", "rejected", "duplicate")


class _Discard:
    """Lambda ships stdout to CloudWatch; here the log lines are written and dropped."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def read_units(call: Call) -> float:
    """Read units of one request, for items under 4 KB (all of filetrail's and the baseline's).

    A strongly consistent read costs one unit per item (4 KB) requested, found or not;
    an eventually consistent one half of that.
    """
    params = call.params
    if call.operation == "BatchGetItem":
        return float(
            sum(
                len(request["Keys"]) * (1.0 if request.get("ConsistentRead") else 0.5)
                for request in params["RequestItems"].values()
            )
        )
    if call.operation == "GetItem":
        return 1.0 if params.get("ConsistentRead") else 0.5
    return 0.0


@dataclass
class Usage:
    """What one file cost one design."""

    s3_operations: dict[str, int]
    s3_bytes_read: int
    dynamodb_requests: int
    dynamodb_write_requests: int
    table_write_units: int
    index_write_units: int
    read_units: float

    @property
    def s3_requests(self) -> int:
        return sum(self.s3_operations.values())

    @classmethod
    def of(cls, recorder: CallRecorder, meter: IndexWriteMeter) -> Usage:
        calls = recorder.requests()
        s3_ops: dict[str, int] = {}
        for call in calls:
            if call.service == "s3":
                s3_ops[call.operation] = s3_ops.get(call.operation, 0) + 1
        dynamodb = [c for c in calls if c.service == "dynamodb"]
        writes = [c for c in dynamodb if c.operation in WRITE_OPERATIONS]
        return cls(
            s3_operations=s3_ops,
            s3_bytes_read=recorder.bytes_read,
            dynamodb_requests=len(dynamodb),
            dynamodb_write_requests=len(writes),
            table_write_units=sum(request_write_units(c.operation, c.params) for c in writes),
            index_write_units=meter.units,
            read_units=sum(read_units(c) for c in dynamodb),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "s3Requests": self.s3_requests,
            "s3Operations": dict(sorted(self.s3_operations.items())),
            "s3BytesRead": self.s3_bytes_read,
            "dynamodbRequests": self.dynamodb_requests,
            "dynamodbWriteRequests": self.dynamodb_write_requests,
            "tableWriteUnits": self.table_write_units,
            "indexWriteUnits": self.index_write_units,
            "writeUnits": self.table_write_units + self.index_write_units,
            "readUnits": self.read_units,
        }


@dataclass
class DesignResult:
    usage: Usage | None = None
    usage_constant: bool = True
    seconds: list[float] = field(default_factory=list)
    verdict: str = ""

    def record(self, usage: Usage, seconds: float, verdict: str) -> None:
        if self.usage is None:
            self.usage = usage
        elif usage.to_json() != self.usage.to_json():
            self.usage_constant = False
        self.seconds.append(seconds)
        self.verdict = verdict

    def timing(self) -> dict[str, float]:
        ordered = sorted(self.seconds)
        median = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
        return {
            "medianMs": round(median * 1000, 3),
            "p99Ms": round(p99 * 1000, 3),
            "filesPerSecond": round(len(ordered) / sum(ordered), 1),
        }

    def to_json(self) -> dict[str, Any]:
        assert self.usage is not None  # noqa: S101 - at least one file was measured
        return {
            "verdict": self.verdict,
            **self.usage.to_json(),
            "usageConstantAcrossFiles": self.usage_constant,
            "files": len(self.seconds),
            **self.timing(),
        }


@dataclass
class Instruments:
    """One design's session, with what watches it."""

    session: boto3.session.Session
    recorder: CallRecorder
    meter: IndexWriteMeter

    @classmethod
    def create(cls) -> Instruments:
        session = _session()
        recorder = CallRecorder().attach(session)
        meter = IndexWriteMeter(_session().client("dynamodb")).attach(session)
        return cls(session, recorder, meter)

    def reset(self) -> None:
        self.recorder.reset()
        self.meter.reset()


def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1")


def _forget(dynamodb: Any, keys: list[str]) -> None:
    """Empty both tables after each file, outside the recorders.

    moto deep-copies a whole table on every TransactWriteItems (for rollback), so its
    time grows with the table; DynamoDB's does not. Keeping the tables small measures
    the handler, not that emulator artefact. The baseline's table is emptied too.
    """
    for key in keys:
        response = dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            ExpressionAttributeValues={":pk": {"S": schema.document_id(BUCKET, key)}},
            ProjectionExpression="#pk, #sk",
        )
        for item in response["Items"]:
            dynamodb.delete_item(TableName=TABLE, Key=item)
    for item in dynamodb.scan(TableName=BASELINE_TABLE, ProjectionExpression="id")["Items"]:
        dynamodb.delete_item(TableName=BASELINE_TABLE, Key=item)


def _filetrail_verdict(dynamodb: Any, key: str, path: str) -> str:
    item = dynamodb.get_item(
        TableName=TABLE,
        Key={
            schema.PARTITION_KEY: {"S": schema.document_id(BUCKET, key)},
            schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
        },
    )["Item"]
    if path == "duplicate":
        return "nothing written"
    return " ".join(value["S"] for value in (item["status"], item.get("reason")) if value)


def _baseline_verdict(dynamodb: Any) -> str:
    rows = dynamodb.scan(TableName=BASELINE_TABLE)["Items"]
    statuses = ", ".join(sorted(row["status"]["S"] for row in rows))
    return f"{len(rows)} row{'s' if len(rows) > 1 else ''}: {statuses}"


class _Bench:
    def __init__(self, size: int) -> None:
        self.filetrail, self.baseline = Instruments.create(), Instruments.create()
        self.uploader = _session().client("s3")
        self.tables = _session().client("dynamodb")
        self.runtime: Runtime = provision(
            self.filetrail.session, MAX_FILE_BYTES=str(200 * MIB)
        ).runtime
        self.baseline.session.client("dynamodb").create_table(**baseline_table())
        self.base_handler = BaselineHandler(
            self.baseline.session.client("s3"),
            self.baseline.session.client("dynamodb"),
            BASELINE_TABLE,
            200 * MIB,
        )
        self.size = size
        self.sequencers = itertools.count(0x0055AED6DCD90281E5)
        self.requests = itertools.count(1)
        self.results = {path: {d: DesignResult() for d in DESIGNS} for path in PATHS}

    def upload(self, key: str, body: bytes) -> tuple[dict[str, Any], str]:
        put = self.uploader.put_object(Bucket=BUCKET, Key=key, Body=body)
        event = s3_event(
            created_record(
                BUCKET,
                key,
                size=len(body),
                etag=put["ETag"].strip('"'),
                version_id=put.get("VersionId"),
                sequencer=f"{next(self.sequencers):X}",
            )
        )
        return event, put["VersionId"]

    def run(self, design: str, event: dict[str, Any]) -> tuple[Usage, float]:
        instruments = self.filetrail if design == "filetrail" else self.baseline
        instruments.reset()
        context = LambdaContext(f"bench-{next(self.requests)}")
        with contextlib.redirect_stdout(_Discard()):
            started = time.perf_counter()
            if design == "filetrail":
                self.runtime.handle(event, context)
            else:
                self.base_handler.handle(event, context)
            elapsed = time.perf_counter() - started
        # The meter's own reads happen inside the handler's calls: leave them out.
        seconds = elapsed - instruments.meter.seconds
        return Usage.of(instruments.recorder, instruments.meter), seconds

    def file(self, n: int, *, recorded: bool) -> None:
        """One file down each path, both designs, alternating which goes first."""
        order = DESIGNS if n % 2 == 0 else DESIGNS[::-1]
        success_key = f"bench/{self.size}/{n}.png"
        rejected_key = f"bench/{self.size}/{n}-disguised.png"
        cases = (
            ("success", success_key, padded(PNG, self.size)),
            ("rejected", rejected_key, padded(ELF, self.size)),
        )
        versions = []
        for path, key, body in cases:
            event, version = self.upload(key, body)
            versions.append((key, version))
            paths = (path, "duplicate") if path == "success" else (path,)
            for delivery in paths:
                for design in order:
                    usage, seconds = self.run(design, event)
                    if recorded:
                        verdict = (
                            _filetrail_verdict(self.tables, key, delivery)
                            if design == "filetrail"
                            else _baseline_verdict(self.tables)
                        )
                        self.results[delivery][design].record(usage, seconds, verdict)
            _forget(self.tables, [])  # the baseline's rows: each path starts from none
        for key, version in versions:
            # Keep one large object in memory at a time.
            self.uploader.delete_object(Bucket=BUCKET, Key=key, VersionId=version)
        _forget(self.tables, [key for key, _ in versions])


def measure_size(size: int, files: int, warmup: int = 1) -> dict[str, Any]:
    with mock_aws():
        bench = _Bench(size)
        for n in range(warmup + files):
            bench.file(n, recorded=n >= warmup)
        return {
            path: {design: result.to_json() for design, result in designs.items()}
            for path, designs in bench.results.items()
        }
