"""The audit-trail model: immutable events, and the status item as their projection.

`project` is the only place where an event changes the status item. The writer uses
it to compute the item it stores next to new events, and `replay` folds a whole
stream with it, so a rebuilt status item equals the stored one by construction.
Pure: items here are plain Python values; the DynamoDB adapter converts them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from handlers import schema
from handlers.events import Upload
from handlers.ordering import compare_uploads, utc_timestamp
from handlers.schema import EventType, Status

TERMINAL_STATUS: Mapping[EventType, Status] = {
    EventType.RECEIVED: Status.PROCESSING,
    EventType.VALIDATED: Status.PROCESSING,
    EventType.STORED: Status.SUCCESS,
    EventType.REJECTED: Status.FAILED,
    EventType.DELETED: Status.DELETED,
    EventType.IGNORED: Status.IGNORED,
    EventType.SCANNED: Status.PROCESSING,
}


@dataclass(frozen=True)
class AuditEvent:
    document_id: str
    seq: int
    type: EventType
    at: str
    bucket: str
    key: str
    upload_key: str
    upload: Mapping[str, Any]
    trace_id: str | None = None
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str | None:
        value = self.details.get("reason")
        return str(value) if value is not None else None

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            schema.PARTITION_KEY: self.document_id,
            schema.SORT_KEY: schema.event_sort_key(self.seq),
            "documentId": self.document_id,
            "seq": self.seq,
            "type": str(self.type),
            "at": self.at,
            "bucket": self.bucket,
            "key": self.key,
            "uploadKey": self.upload_key,
            "upload": dict(self.upload),
            "details": dict(self.details),
        }
        if self.trace_id:
            item["traceId"] = self.trace_id
        if self.request_id:
            item["requestId"] = self.request_id
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> AuditEvent:
        return cls(
            document_id=str(item["documentId"]),
            seq=int(item["seq"]),
            type=EventType(item["type"]),
            at=str(item["at"]),
            bucket=str(item["bucket"]),
            key=str(item["key"]),
            upload_key=str(item["uploadKey"]),
            upload=_plain(item.get("upload", {})),
            trace_id=item.get("traceId"),
            request_id=item.get("requestId"),
            details=_plain(item.get("details", {})),
        )

    def to_json(self) -> dict[str, Any]:
        """The event as users' scripts see it (`--json`): no storage keys."""
        document = {k: v for k, v in self.to_item().items() if k not in _KEYS}
        document.setdefault("traceId", None)
        return document


@dataclass(frozen=True)
class StatusItem:
    """Current state of one file: the seed schema plus stream bookkeeping."""

    document_id: str
    bucket: str
    key: str
    file_name: str
    status: Status
    uploaded_at: str
    version: int
    stage: EventType
    updated_at: str
    upload_key: str
    file_type: str | None = None
    file_size: int | None = None
    reason: str | None = None
    sequencer: str | None = None
    version_id: str | None = None
    etag: str | None = None
    trace_id: str | None = None
    # Malware scanning: the scan result of the version described, and what a PROCESSING
    # file waits for (schema.AWAITING_SCAN or AWAITING_VALIDATION).
    scan_result: str | None = None
    awaiting: str | None = None

    def to_item(self, *, index_shards: int) -> dict[str, Any]:
        """The stored item, its index keys in the shard `index_shards` puts this file in."""
        shard = schema.status_shard(self.document_id, index_shards)
        item = {
            schema.PARTITION_KEY: self.document_id,
            schema.SORT_KEY: schema.STATUS_SORT_KEY,
            schema.STATUS_INDEX_PARTITION_KEY: schema.status_index_key(self.status, shard),
            schema.STATUS_INDEX_SORT_KEY: self.index_sort_key,
        }
        item.update(self.to_json())
        return {k: v for k, v in item.items() if v is not None}

    @property
    def index_sort_key(self) -> str:
        """The status index's sort key: newest upload first, ties by document."""
        return f"{self.uploaded_at}#{self.document_id}"

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        return {
            _CAMEL.get(name, name): (str(value) if name in ("status", "stage") else value)
            for name, value in values.items()
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> StatusItem:
        plain = _plain(item)
        return cls(
            document_id=str(plain["documentId"]),
            bucket=str(plain["bucket"]),
            key=str(plain["key"]),
            file_name=str(plain["fileName"]),
            status=Status(plain["status"]),
            uploaded_at=str(plain["uploadedAt"]),
            version=int(plain["version"]),
            stage=EventType(plain["stage"]),
            updated_at=str(plain["updatedAt"]),
            upload_key=str(plain["uploadKey"]),
            file_type=plain.get("fileType"),
            file_size=int(plain["fileSize"]) if plain.get("fileSize") is not None else None,
            reason=plain.get("reason"),
            sequencer=plain.get("sequencer"),
            version_id=plain.get("versionId"),
            etag=plain.get("eTag"),
            trace_id=plain.get("traceId"),
            scan_result=plain.get("scanResult"),
            awaiting=plain.get("awaiting"),
        )


_KEYS = frozenset({schema.PARTITION_KEY, schema.SORT_KEY})
_CAMEL = {
    "document_id": "documentId",
    "bucket": "bucket",
    "key": "key",
    "file_name": "fileName",
    "status": "status",
    "uploaded_at": "uploadedAt",
    "version": "version",
    "stage": "stage",
    "updated_at": "updatedAt",
    "upload_key": "uploadKey",
    "file_type": "fileType",
    "file_size": "fileSize",
    "reason": "reason",
    "sequencer": "sequencer",
    "version_id": "versionId",
    "etag": "eTag",
    "trace_id": "traceId",
    "scan_result": "scanResult",
    "awaiting": "awaiting",
}


def is_stale(event: AuditEvent, current: StatusItem) -> bool:
    """True when the event is about an older upload than the one the status shows."""
    if event.upload_key == current.upload_key:
        return False
    order = compare_uploads(
        event.upload.get("sequencer"),
        str(event.upload["eventTime"]),
        current.sequencer,
        current.uploaded_at,
    )
    return order < 0


def _other_version_deleted(event: AuditEvent, current: StatusItem) -> bool:
    """A non-current version went away: the file the status describes is untouched."""
    return (
        event.type == EventType.DELETED
        and event.details.get("scope") == "version"
        and event.upload.get("versionId") != current.version_id
    )


def describes_version(current: StatusItem, version_id: str | None, etag: str | None) -> bool:
    """The status item describes this object version: by version id, else (unversioned)
    by ETag."""
    if version_id is not None or current.version_id is not None:
        return version_id is not None and version_id == current.version_id
    return etag is not None and etag == current.etag


def same_version(event: AuditEvent, current: StatusItem) -> bool:
    """The scan result is for the object version the status item describes."""
    return describes_version(current, event.upload.get("versionId"), event.upload.get("eTag"))


def _project_scan(current: StatusItem | None, event: AuditEvent) -> StatusItem:
    """A scan result moves nothing but the scan result of the version described.

    It never becomes the file's current upload: it knows no sequencer to order it among
    uploads. When it is the first thing seen of the file, it opens a status item that waits
    for validation, which the upload's own notification then replaces.
    """
    result = event.details.get("result")
    if current is None:
        return StatusItem(
            document_id=event.document_id,
            bucket=event.bucket,
            key=event.key,
            file_name=_file_name(event.key),
            status=Status.PROCESSING,
            uploaded_at=utc_timestamp(str(event.upload["eventTime"])),
            version=event.seq,
            stage=EventType.SCANNED,
            updated_at=event.at,
            upload_key=event.upload_key,
            version_id=event.upload.get("versionId"),
            etag=event.upload.get("eTag"),
            trace_id=event.trace_id,
            scan_result=str(result),
            awaiting=schema.AWAITING_VALIDATION,
        )
    if same_version(event, current):
        return replace(current, version=event.seq, scan_result=str(result), updated_at=event.at)
    return replace(current, version=event.seq)


def moves_status(current: StatusItem | None, event: AuditEvent) -> bool:
    """Whether `project` makes the event's upload the one the status item describes."""
    if event.type == EventType.SCANNED:
        return False
    # A status opened by a scan result holds no upload yet: no notification is stale to it.
    if current is None or current.stage == EventType.SCANNED:
        return True
    return not (is_stale(event, current) or _other_version_deleted(event, current))


def project(current: StatusItem | None, event: AuditEvent) -> StatusItem:
    """Apply one event to the status item. A stale event only advances the version."""
    if event.type == EventType.SCANNED:
        return _project_scan(current, event)
    if current is not None and not moves_status(current, event):
        return replace(current, version=event.seq)
    same_upload = current is not None and current.upload_key == event.upload_key
    details = event.details
    carried_type = current.file_type if same_upload and current else None
    declared_size = event.upload.get("size")
    carried_size = current.file_size if same_upload and current else declared_size
    size = details.get("size", carried_size)
    version_id = (
        # Notifications from unversioned or emulated buckets lack it; the read learns it.
        event.upload.get("versionId")
        or details.get("objectVersionId")
        or (current.version_id if same_upload and current else None)
    )
    carried_scan = (
        current.scan_result
        if current is not None
        and (same_upload or (version_id is not None and version_id == current.version_id))
        else None
    )
    return StatusItem(
        document_id=event.document_id,
        bucket=event.bucket,
        key=event.key,
        file_name=_file_name(event.key),
        status=TERMINAL_STATUS[event.type],
        uploaded_at=utc_timestamp(str(event.upload["eventTime"])),
        version=event.seq,
        stage=event.type,
        updated_at=event.at,
        upload_key=event.upload_key,
        file_type=details.get("fileType", carried_type),
        file_size=int(size) if size is not None else None,
        reason=event.reason,
        sequencer=event.upload.get("sequencer"),
        version_id=version_id,
        etag=event.upload.get("eTag"),
        trace_id=event.trace_id,
        scan_result=details.get("scanResult", carried_scan),
        awaiting=details.get("awaiting"),
    )


def _file_name(key: str) -> str:
    return posixpath.basename(key.rstrip("/")) or key


def fold(current: StatusItem | None, events: Iterable[AuditEvent]) -> StatusItem | None:
    for event in events:
        current = project(current, event)
    return current


def replay(events: Iterable[AuditEvent]) -> StatusItem | None:
    """Rebuild a status item from its whole stream, checking the stream is contiguous."""
    expected = 1
    ordered = []
    for event in events:
        if event.seq != expected:
            raise ValueError(
                f"stream {event.document_id} jumps from seq {expected - 1} to {event.seq}"
            )
        ordered.append(event)
        expected += 1
    return fold(None, ordered)


def new_event(
    upload: Upload,
    seq: int,
    event_type: EventType,
    at: str,
    *,
    trace_id: str | None,
    request_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent(
        document_id=upload.document_id,
        seq=seq,
        type=event_type,
        at=at,
        bucket=upload.bucket,
        key=upload.key,
        upload_key=upload.upload_key,
        upload=upload.identity(),
        trace_id=trace_id,
        request_id=request_id,
        details={k: v for k, v in (details or {}).items() if v is not None},
    )


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; integers are all this model stores."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value
