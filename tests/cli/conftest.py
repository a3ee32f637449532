"""CLI tests: a freshly named bucket and table per test on the shared moto server, filled
by the real handler, and a runner that calls `filetrail.cli.main` like a shell would."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest

from filetrail.cli import main
from handlers import schema
from handlers.app import Runtime, build_runtime
from handlers.logs import LOGGER_NAME
from tests.support.moto_server import (  # noqa: F401 - fixtures
    REGION,
    MotoServer,
    emulated_aws,
    moto_server,
)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.out, f"no output; exit {self.code}, stderr: {self.err}"
        return json.loads(self.out)


class Context:
    aws_request_id = "req-cli-test"
    function_name = "filetrail-test"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@dataclass
class Stack:
    bucket: str
    table: str
    session: boto3.session.Session
    runtime: Runtime
    queue_url: str
    _sequencer: Any = field(default_factory=lambda: itertools.count(0x0055AED6DCD90281E5))

    def upload(self, key: str, body: bytes, content_type: str = "text/plain") -> None:
        """Put the object, then hand the handler the notification S3 would send."""
        self.runtime.handle(self.put(key, body, content_type), Context())

    def put(self, key: str, body: bytes, content_type: str = "text/plain") -> dict[str, Any]:
        """Put the object; the notification S3 would send for it, not delivered."""
        s3 = self.session.client("s3")
        put = s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        record = {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": self.bucket, "arn": f"arn:aws:s3:::{self.bucket}"},
                "object": {
                    "key": quote_plus(key, safe="/"),
                    "size": len(body),
                    "eTag": put["ETag"].strip('"'),
                    "versionId": put["VersionId"],
                    "sequencer": f"{next(self._sequencer):X}",
                },
            },
        }
        return {"Records": [record]}

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


@pytest.fixture
def stack(emulated_aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Stack:  # noqa: F811
    suffix = uuid.uuid4().hex[:10]
    bucket, table = f"cli-uploads-{suffix}", f"cli-audit-{suffix}"
    session = boto3.session.Session()
    session.client("dynamodb").create_table(**schema.create_table_request(table))  # type: ignore[arg-type]
    s3 = session.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    queue_url = session.client("sqs").create_queue(QueueName=f"cli-queue-{suffix}")["QueueUrl"]
    runtime = build_runtime(
        {schema.ENV_TABLE_NAME: table, schema.ENV_MAX_FILE_BYTES: "1000"}, session
    )
    monkeypatch.setenv("FILETRAIL_TABLE", table)
    monkeypatch.setenv("FILETRAIL_BUCKET", bucket)
    return Stack(bucket, table, session, runtime, queue_url)


@dataclass
class Processing:
    """Plays Lambda's event source for the stack's queue: each message body (an S3
    notification) goes to the handler, then the message is deleted. `gate` holds each
    message until it returns True (a test's condition on what the CLI printed first)."""

    stack: Stack
    gate: Callable[[], bool] = lambda: True
    handled: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sqs = self.stack.session.client("sqs")
        while not self._stop.is_set():
            response = sqs.receive_message(QueueUrl=self.stack.queue_url, WaitTimeSeconds=1)
            for message in response.get("Messages", []):
                while not self.gate() and not self._stop.wait(0.05):
                    pass
                self.stack.runtime.handle(json.loads(message["Body"]), Context())
                sqs.delete_message(
                    QueueUrl=self.stack.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                self.handled += 1


@pytest.fixture
def processing(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Processing]:
    # The handler logs to stdout, as in Lambda; here stdout is the CLI's under test.
    monkeypatch.setattr(logging.getLogger(LOGGER_NAME), "disabled", True)
    worker = Processing(stack)
    thread = threading.Thread(target=worker.run, name="cli-test-processing", daemon=True)
    thread.start()
    yield worker
    worker._stop.set()
    thread.join()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*argv: str) -> Result:
        capsys.readouterr()  # drop the handler's log lines written while seeding
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
