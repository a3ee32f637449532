"""Per-file resource use and handler time, filetrail against the baseline, in one process.

Both handlers run in-process against moto's in-process mock (`mock_aws`), each on its own
boto3 session with a call recorder, on the same objects, alternating which goes first.
Times are therefore CPU time in Python plus moto's emulation, not network latency.
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
from tests.support.pipeline import BUCKET, TABLE, LambdaContext, provision
from tests.support.s3_events import created_record, s3_event
from tests.support.samples import PNG, padded

KIB = 1024
MIB = 1024 * KIB


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
    write_units: int
    read_units: float

    @property
    def s3_requests(self) -> int:
        return sum(self.s3_operations.values())

    @classmethod
    def of(cls, recorder: CallRecorder) -> Usage:
        calls = list(recorder.calls)
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
            write_units=sum(request_write_units(c.operation, c.params) for c in writes),
            read_units=sum(read_units(c) for c in dynamodb),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "s3Requests": self.s3_requests,
            "s3Operations": dict(sorted(self.s3_operations.items())),
            "s3BytesRead": self.s3_bytes_read,
            "dynamodbRequests": self.dynamodb_requests,
            "dynamodbWriteRequests": self.dynamodb_write_requests,
            "writeUnits": self.write_units,
            "readUnits": self.read_units,
        }


@dataclass
class DesignResult:
    usage: Usage | None = None
    usage_constant: bool = True
    seconds: list[float] = field(default_factory=list)
    duplicate_write_requests: int = 0

    def record(self, usage: Usage, seconds: float) -> None:
        if self.usage is None:
            self.usage = usage
        elif usage.to_json() != self.usage.to_json():
            self.usage_constant = False
        self.seconds.append(seconds)

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
            **self.usage.to_json(),
            "usageConstantAcrossFiles": self.usage_constant,
            "files": len(self.seconds),
            **self.timing(),
            "duplicateDeliveryWriteRequests": self.duplicate_write_requests,
        }


def _session(recorder: CallRecorder | None = None) -> boto3.session.Session:
    session = boto3.session.Session(region_name="us-east-1")
    if recorder is not None:
        recorder.attach(session)
    return session


def _forget(dynamodb: Any, key: str) -> None:
    """Empty both tables after each file, outside the recorders.

    moto deep-copies a whole table on every TransactWriteItems (for rollback), so its
    time grows with the table; DynamoDB's does not. Keeping the tables small measures
    the handler, not that emulator artefact. The baseline's table is emptied too.
    """
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


def measure_size(size: int, files: int, warmup: int = 1) -> dict[str, Any]:
    with mock_aws():
        ft_recorder, base_recorder = CallRecorder(), CallRecorder()
        ft_session, base_session = _session(ft_recorder), _session(base_recorder)
        uploader = _session().client("s3")
        tables = _session().client("dynamodb")
        pipeline = provision(ft_session, MAX_FILE_BYTES=str(200 * MIB))
        runtime: Runtime = pipeline.runtime
        base_session.client("dynamodb").create_table(**baseline_table())
        baseline = BaselineHandler(
            base_session.client("s3"), base_session.client("dynamodb"), BASELINE_TABLE, 200 * MIB
        )
        body = padded(PNG, size)
        sequencers = itertools.count(0x0055AED6DCD90281E5)
        requests = itertools.count(1)
        results = {"filetrail": DesignResult(), "baseline": DesignResult()}
        last_event: dict[str, Any] | None = None
        for n in range(warmup + files):
            key = f"bench/{size}/{n}.png"
            put = uploader.put_object(Bucket=BUCKET, Key=key, Body=body)
            event = s3_event(
                created_record(
                    BUCKET,
                    key,
                    size=size,
                    etag=put["ETag"].strip('"'),
                    version_id=put.get("VersionId"),
                    sequencer=f"{next(sequencers):X}",
                )
            )
            order = ["filetrail", "baseline"] if n % 2 == 0 else ["baseline", "filetrail"]
            for design in order:
                recorder = ft_recorder if design == "filetrail" else base_recorder
                recorder.reset()
                context = LambdaContext(f"bench-{next(requests)}")
                with contextlib.redirect_stdout(_Discard()):
                    started = time.perf_counter()
                    if design == "filetrail":
                        runtime.handle(event, context)
                    else:
                        baseline.handle(event, context)
                    elapsed = time.perf_counter() - started
                if n >= warmup:
                    results[design].record(Usage.of(recorder), elapsed)
            last_event = event
            if n < warmup + files - 1:
                # Keep one large object in memory at a time.
                uploader.delete_object(Bucket=BUCKET, Key=key, VersionId=put["VersionId"])
                _forget(tables, key)
        assert last_event is not None  # noqa: S101 - files >= 1
        for design, recorder in (("filetrail", ft_recorder), ("baseline", base_recorder)):
            recorder.reset()
            with contextlib.redirect_stdout(_Discard()):
                if design == "filetrail":
                    runtime.handle(last_event, LambdaContext("bench-duplicate"))
                else:
                    baseline.handle(last_event, None)
            results[design].duplicate_write_requests = Usage.of(recorder).dynamodb_write_requests
        return {design: result.to_json() for design, result in results.items()}
