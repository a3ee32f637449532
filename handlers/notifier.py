"""Lambda entry point of the notifier: `handlers.notifier.handler(event, context)`.

Consumes the audit table's stream (new images), already filtered by the event source
mapping to inserts of announced event items, and publishes each event, in stream order,
to the file-events topic. At-least-once: a failed publish is reported as the batch item
failure, so Lambda retries from that record (never skipping one); records after it are
published again on the retry under the same `id`. A record that can never be published
fails the same way until Lambda's bisect isolates it and its retries run out; it then goes
to the mapping's on-failure destination and the shard moves on.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from handlers import schema, tracing
from handlers.aws_errors import translate
from handlers.clients import CLIENT_CONFIG
from handlers.errors import ConfigurationError
from handlers.logs import get_logger
from handlers.notification import NotAnEvent, Notification, from_item
from handlers.store import from_attributes

if TYPE_CHECKING:
    import logging

    from mypy_boto3_sns.client import SNSClient

_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR"})


@dataclass(frozen=True)
class NotifierSettings:
    topic_arn: str
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> NotifierSettings:
        problems = []
        topic = environ.get(schema.ENV_TOPIC_ARN, "").strip()
        if not topic.startswith("arn:") or ":sns:" not in topic:
            problems.append(f"{schema.ENV_TOPIC_ARN} must be the file-events topic's ARN")
        level = environ.get(schema.ENV_LOG_LEVEL, "INFO").strip().upper()
        if level not in _LEVELS:
            problems.append(f"{schema.ENV_LOG_LEVEL} must be one of {', '.join(sorted(_LEVELS))}")
        if problems:
            raise ConfigurationError("invalid notifier settings: " + "; ".join(problems))
        return cls(topic_arn=topic, log_level=level)


class Topic:
    """SNS adapter: one message per notification, with filterable attributes."""

    def __init__(self, client: SNSClient, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, notification: Notification) -> str:
        try:
            response = self._client.publish(
                TopicArn=self._topic_arn,
                Message=json.dumps(notification.body, separators=(",", ":")),
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in notification.attributes.items()
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise translate(error, f"publish {notification.id} to {self._topic_arn}") from error
        return str(response["MessageId"])


@dataclass(frozen=True)
class Notifier:
    topic: Topic
    logger: logging.Logger

    def handle(self, event: Any) -> dict[str, Any]:
        records = event.get("Records", []) if isinstance(event, Mapping) else []
        for record in records:
            sequence_number = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
            try:
                self._publish(record)
            except Exception as error:
                self.logger.exception(
                    schema.NOTIFICATION_MESSAGE,
                    extra={
                        schema.LOG_OUTCOME: schema.Outcome.ERROR,
                        "sequenceNumber": sequence_number,
                        "errorType": type(error).__name__,
                    },
                )
                # Lambda retries from the first failure: later records are never skipped.
                return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
        return {"batchItemFailures": []}

    def _publish(self, record: Mapping[str, Any]) -> None:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") != "INSERT" or not isinstance(image, Mapping):
            raise NotAnEvent("not the insert of a new item")
        notification = from_item(from_attributes(dict(image)))
        with tracing.subsegment("notify") as span:
            span.annotate(documentId=notification.document_id, notificationId=notification.id)
            if notification.trace_id:
                # X-Ray has no link between traces; the processing trace is one search away.
                span.annotate(processingTraceId=notification.trace_id)
            message_id = self.topic.publish(notification)
        self.logger.info(
            schema.NOTIFICATION_MESSAGE,
            extra={
                schema.LOG_NOTIFICATION_ID: notification.id,
                schema.LOG_OUTCOME: notification.attributes[schema.ATTR_OUTCOME],
                schema.LOG_DOCUMENT_ID: notification.document_id,
                schema.LOG_MESSAGE_ID: message_id,
                schema.LOG_TRACE_ID: notification.trace_id,
            },
        )


def build_notifier(
    environ: Mapping[str, str] | None = None, session: boto3.session.Session | None = None
) -> Notifier:
    settings = NotifierSettings.from_env(os.environ if environ is None else environ)
    session = session or boto3.session.Session()
    sns = tracing.instrument(session.client("sns", config=CLIENT_CONFIG))
    return Notifier(Topic(sns, settings.topic_arn), get_logger(settings.log_level))


@functools.cache
def notifier() -> Notifier:
    return build_notifier()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return notifier().handle(event)


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and os.environ.get(schema.ENV_TOPIC_ARN):
    notifier()
