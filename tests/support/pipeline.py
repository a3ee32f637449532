"""A handler wired to emulated S3, DynamoDB and SQS, with helpers to drive it."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any

import boto3

from handlers import schema
from handlers.app import Runtime, build_runtime
from handlers.model import AuditEvent, StatusItem
from handlers.store import AuditStore
from tests.support.s3_events import created_record, removed_record, s3_event

BUCKET = "filetrail-test-uploads"
TABLE = "filetrail-test-audit"
DLQ = "filetrail-test-dlq"


class LambdaContext:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id
        self.function_name = "filetrail-test"
        self.memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@dataclass
class Pipeline:
    session: boto3.session.Session
    runtime: Runtime
    dlq_url: str
    _sequencers: Any = field(default_factory=lambda: itertools.count(0x0055AED6DCD90281E5))
    _requests: Any = field(default_factory=lambda: itertools.count(1))

    # Built once: a boto3 client costs milliseconds, and stress workloads upload hundreds.
    @functools.cached_property
    def s3(self) -> Any:
        return self.session.client("s3")

    @functools.cached_property
    def store(self) -> AuditStore:
        return AuditStore(self.session.client("dynamodb"), TABLE)

    def next_sequencer(self) -> str:
        return f"{next(self._sequencers):X}"

    def upload(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str | None = None,
        tags: str | None = None,
        sequencer: str | None = "auto",
        event_time: str = "2026-11-28T10:15:30.123Z",
        with_version: bool = True,
    ) -> dict[str, Any]:
        """Put an object for real and return the notification S3 would send for it."""
        params: dict[str, Any] = {"Bucket": BUCKET, "Key": key, "Body": body}
        if content_type:
            params["ContentType"] = content_type
        if tags:
            params["Tagging"] = tags
        response = self.s3.put_object(**params)
        return created_record(
            BUCKET,
            key,
            size=len(body),
            etag=response["ETag"].strip('"'),
            version_id=response.get("VersionId") if with_version else None,
            sequencer=self.next_sequencer() if sequencer == "auto" else sequencer,
            event_time=event_time,
        )

    def delete(self, key: str) -> dict[str, Any]:
        response = self.s3.delete_object(Bucket=BUCKET, Key=key)
        return removed_record(
            BUCKET, key, version_id=response.get("VersionId"), sequencer=self.next_sequencer()
        )

    def delete_version(self, key: str, version_id: str) -> dict[str, Any]:
        """Permanently delete one version; the `ObjectRemoved:Delete` S3 would send."""
        self.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version_id)
        record = removed_record(BUCKET, key, version_id=version_id, sequencer=self.next_sequencer())
        record["eventName"] = "ObjectRemoved:Delete"
        return record

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(f"req-{next(self._requests)}")
        return self.runtime.handle(event, context)

    def process(self, *records: dict[str, Any]) -> dict[str, Any]:
        return self.handle(s3_event(*records))

    def events(self, key: str) -> list[AuditEvent]:
        return list(self.store.iter_events(schema.document_id(BUCKET, key)))

    def status(self, key: str) -> StatusItem | None:
        return self.store.get_status(schema.document_id(BUCKET, key))

    def types(self, key: str) -> list[str]:
        return [str(event.type) for event in self.events(key)]

    def dlq_messages(self) -> list[dict[str, Any]]:
        return receive_all(self.session.client("sqs"), self.dlq_url, delete=False)


def receive_all(sqs: Any, queue_url: str, *, delete: bool) -> list[dict[str, Any]]:
    """Every message now in a queue; `delete` also removes them (a drain)."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        if delete:
            for message in batch:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(batch)


def provision(
    session: boto3.session.Session,
    handler_session: boto3.session.Session | None = None,
    *,
    stream: bool = False,
    **settings: str,
) -> Pipeline:
    """Create bucket (versioned), table and dead-letter queue; build the handler runtime.

    `handler_session`, when given, is the one the handler's clients come from, so a
    recorder attached to it sees the handler's calls and not the test's own setup.
    """
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    session.client("dynamodb").create_table(**schema.create_table_request(TABLE, stream=stream))
    dlq_url = session.client("sqs").create_queue(QueueName=DLQ)["QueueUrl"]
    environ = {schema.ENV_TABLE_NAME: TABLE, schema.ENV_DLQ_URL: dlq_url, **settings}
    return Pipeline(session, build_runtime(environ, handler_session or session), dlq_url)
