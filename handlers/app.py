"""Lambda entry point: `handlers.app.handler(event, context)`.

Thin: settings and clients are built once per container; each record is handed to
the processor. A record that can never succeed is logged whole and dead-lettered
instead of retried; anything transient is raised (direct S3 invocations) or reported
as a batch item failure (SQS), so Lambda retries it and finally hands it on.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from handlers import schema, tracing
from handlers.clients import CLIENT_CONFIG
from handlers.deadletter import DeadLetterQueue
from handlers.events import (
    InvalidRecord,
    S3TestEvent,
    ScanRecord,
    UploadRecord,
    parse_notification,
)
from handlers.logs import get_logger, log_outcome
from handlers.objects import ObjectStore
from handlers.schema import Outcome, Reason
from handlers.service import Invocation, Processor, utc_now
from handlers.settings import Settings
from handlers.store import AuditStore
from handlers.validation import Policy

if TYPE_CHECKING:
    import logging

MAX_LOGGED_RECORD_CHARS = 32_000


@dataclass(frozen=True)
class Runtime:
    processor: Processor
    deadletter: DeadLetterQueue | None
    logger: logging.Logger

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        invocation = Invocation(
            request_id=getattr(context, "aws_request_id", None),
            trace_id=tracing.current_trace_id(),
        )
        failed_messages: list[str] = []
        errors: list[Exception] = []
        sqs = False
        outcomes: list[str] = []
        for record in parse_notification(event):
            sqs = sqs or record.message_id is not None
            try:
                outcomes.append(self._handle_record(record, invocation))
            except Exception as error:
                # The outcome line for a record that will be retried: metric filters count it.
                fields: dict[str, Any] = {
                    schema.LOG_OUTCOME: Outcome.ERROR,
                    schema.LOG_TRACE_ID: invocation.trace_id,
                    "errorType": type(error).__name__,
                }
                if isinstance(record, UploadRecord | ScanRecord):
                    subject = record.upload if isinstance(record, UploadRecord) else record.scan
                    fields[schema.LOG_DOCUMENT_ID] = subject.document_id
                    fields[schema.LOG_BUCKET] = subject.bucket
                    fields[schema.LOG_KEY] = subject.key
                self.logger.exception(schema.OUTCOME_MESSAGE, extra=fields)
                if record.message_id is not None:
                    failed_messages.append(record.message_id)
                else:
                    errors.append(error)
        if sqs:
            return {
                "batchItemFailures": [{"itemIdentifier": m} for m in dict.fromkeys(failed_messages)]
            }
        if errors:
            raise errors[0]
        return {"outcomes": outcomes}

    def _handle_record(
        self,
        record: UploadRecord | S3TestEvent | InvalidRecord | ScanRecord,
        invocation: Invocation,
    ) -> str:
        if isinstance(record, S3TestEvent):
            log_outcome(self.logger, Outcome.TEST_EVENT, **{schema.LOG_BUCKET: record.bucket})
            return Outcome.TEST_EVENT
        if isinstance(record, InvalidRecord):
            self._reject_invalid(record, invocation)
            return Outcome.INVALID
        if isinstance(record, ScanRecord):
            return self.processor.process_scan(record.scan, invocation).outcome
        return self.processor.process(record.upload, invocation).outcome

    def _reject_invalid(self, record: InvalidRecord, invocation: Invocation) -> None:
        raw = json.dumps(record.raw, default=repr)
        log_outcome(
            self.logger,
            Outcome.INVALID,
            **{
                schema.LOG_REASON: Reason.INVALID_EVENT,
                schema.LOG_ERROR: record.error,
                "record": raw[:MAX_LOGGED_RECORD_CHARS],
                "recordTruncated": len(raw) > MAX_LOGGED_RECORD_CHARS,
                schema.LOG_TRACE_ID: invocation.trace_id,
            },
        )
        if self.deadletter is not None:
            self.deadletter.send(
                record.raw,
                Reason.INVALID_EVENT,
                record.error,
                request_id=invocation.request_id,
                at=utc_now(),
            )


def build_runtime(
    environ: dict[str, str] | None = None, session: boto3.session.Session | None = None
) -> Runtime:
    """Settings validated and clients created: once per container."""
    settings = Settings.from_env(os.environ if environ is None else environ)
    logger = get_logger(settings.log_level)
    session = session or boto3.session.Session()
    dynamodb = tracing.instrument(session.client("dynamodb", config=CLIENT_CONFIG))
    s3 = tracing.instrument(session.client("s3", config=CLIENT_CONFIG))
    processor = Processor(
        AuditStore(dynamodb, settings.table_name, index_shards=settings.status_index_shards),
        ObjectStore(s3, settings.header_bytes),
        Policy(settings.max_file_bytes, settings.allowed_types),
        tag_objects=settings.tag_objects,
        logger=logger,
        scan_required=settings.malware_scan == schema.MALWARE_SCAN_GUARDDUTY,
    )
    deadletter = None
    if settings.dlq_url:
        sqs = tracing.instrument(session.client("sqs", config=CLIENT_CONFIG))
        deadletter = DeadLetterQueue(sqs, settings.dlq_url)
    return Runtime(processor, deadletter, logger)


@functools.cache
def runtime() -> Runtime:
    return build_runtime()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return runtime().handle(event, context)


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Fail the cold start, not the first request, on a bad setting.
    runtime()
