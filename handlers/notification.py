"""File-event notifications: one audit event, as recorded, in CloudEvents 1.0 form.

Pure: an audit-event item (a stream record's new image, already deserialised) in, the
message and its SNS attributes out.
The table's stream is the outbox: only what is recorded is announced, and the `id` is
derived from `documentId` and `seq`, so every redelivery of one event carries the same id
and consumers drop duplicates by it.

Schema (version "1", `filetrailschemaversion`):
    specversion "1.0"; id "<documentId>/<seq>"; source "filetrail:<bucket>";
    type "filetrail.file.stored|rejected|deleted"; subject the object key;
    time the event's `at`; datacontenttype "application/json";
    data: the audit event as `filetrail history --json` shows it (documentId, seq, type,
    at, bucket, key, uploadKey, upload, traceId, requestId, details) plus `fileStatus`,
    the status this event gives the upload it is about (a stale event's upload is not
    the one the status item shows; `filetrail status` has the current one).
https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handlers import schema
from handlers.model import TERMINAL_STATUS, AuditEvent


class NotAnEvent(ValueError):
    """A stream record that is not an announceable audit event (filtered out upstream)."""


@dataclass(frozen=True)
class Notification:
    id: str
    document_id: str
    body: dict[str, Any]
    attributes: dict[str, str]
    trace_id: str | None


def notification_id(document_id: str, seq: int) -> str:
    return f"{document_id}/{seq}"


def from_item(item: Mapping[str, Any]) -> Notification:
    """The notification for one audit-table item, or `NotAnEvent`."""
    if not str(item.get(schema.SORT_KEY, "")).startswith(schema.EVENT_SORT_PREFIX):
        raise NotAnEvent("not an event item")
    try:
        event = AuditEvent.from_item(item)
    except (KeyError, TypeError, ValueError) as error:
        raise NotAnEvent(f"not an audit event: {error!r}") from error
    if str(event.type) not in schema.ANNOUNCED_EVENT_TYPES:
        raise NotAnEvent(f"{event.type} events are not announced")
    return build(event)


def build(event: AuditEvent) -> Notification:
    data = event.to_json()
    data["fileStatus"] = str(TERMINAL_STATUS[event.type])
    ident = notification_id(event.document_id, event.seq)
    body = {
        "specversion": "1.0",
        "id": ident,
        "source": f"filetrail:{event.bucket}",
        "type": f"{schema.NOTIFICATION_TYPE_PREFIX}{str(event.type).lower()}",
        "subject": event.key,
        "time": event.at,
        "datacontenttype": "application/json",
        "filetrailschemaversion": schema.NOTIFICATION_SCHEMA_VERSION,
        "data": data,
    }
    attributes = {
        schema.ATTR_OUTCOME: str(event.type),
        schema.ATTR_BUCKET: event.bucket,
    }
    reason = event.reason
    if reason:
        attributes[schema.ATTR_REASON] = reason
    file_type = event.details.get("fileType")
    if isinstance(file_type, str) and file_type:
        attributes[schema.ATTR_FILE_TYPE] = file_type
    return Notification(ident, event.document_id, body, attributes, event.trace_id)


def stream_filter_pattern() -> dict[str, Any]:
    """Lambda event filter: inserts of event items of the announced types, nothing else.

    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
    """
    return {
        "eventName": ["INSERT"],
        "dynamodb": {
            "NewImage": {
                schema.SORT_KEY: {"S": [{"prefix": schema.EVENT_SORT_PREFIX}]},
                "type": {"S": list(schema.ANNOUNCED_EVENT_TYPES)},
            }
        },
    }
