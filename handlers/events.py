"""Parse what Lambda receives into uploads: S3 notifications, the same wrapped in SQS
messages, S3 test events, and malware scan results delivered by EventBridge. Pure: no AWS
calls.

Every malformed input becomes an `InvalidRecord` carrying the raw input and a clear
reason, so the caller can log it whole and dead-letter it instead of retrying.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from handlers import schema
from handlers.errors import InvalidEventError
from handlers.ordering import is_hex, parse_event_time

SUPPORTED_EVENT_MAJOR = "2"
CREATED_PREFIX = "ObjectCreated:"
REMOVED_PREFIX = "ObjectRemoved:"
# Lifecycle expirations: `Delete` removes a version (or, unversioned, the object) for good,
# `DeleteMarkerCreated` expires the current version of a versioned object.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
EXPIRATION_PREFIX = "LifecycleExpiration:"
VERSION_DELETE_EVENTS = frozenset({"ObjectRemoved:Delete", "LifecycleExpiration:Delete"})
MAX_KEY_BYTES = 1024
MAX_OBJECT_BYTES = 5 * 1024**4  # S3's largest object: 5 TiB
# Bucket names S3 ever issued (legacy us-east-1 names included); botocore refuses others.
_BUCKET_NAME = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")
# Generous bounds on identity fields, far above anything S3 sends, far below DynamoDB's
# 400 KB item limit: an absurd value is an invalid event, not a write that fails for ever.
_MAX_FIELD_CHARS = {
    "s3.object.eTag": 128,
    "s3.object.versionId": 1024,
    "s3.object.sequencer": 64,
    "filetrail.reprocessId": 128,
}


@dataclass(frozen=True)
class Upload:
    """The S3 identity of one notification: which object, which version, when."""

    bucket: str
    key: str
    event_name: str
    event_time: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    reprocess_id: str | None = None

    @property
    def document_id(self) -> str:
        return schema.document_id(self.bucket, self.key)

    @property
    def is_removal(self) -> bool:
        return self.event_name.startswith((REMOVED_PREFIX, EXPIRATION_PREFIX))

    @property
    def is_expiration(self) -> bool:
        return self.event_name.startswith(EXPIRATION_PREFIX)

    @property
    def is_version_delete(self) -> bool:
        """A permanent delete of one version (a delete marker is `DeleteMarkerCreated`)."""
        return self.event_name in VERSION_DELETE_EVENTS and self.version_id is not None

    @property
    def is_folder_marker(self) -> bool:
        return self.key.endswith("/")

    @property
    def upload_key(self) -> str:
        """Idempotency key: equal for every delivery of one notification, for ever."""
        parts = [
            self.event_name,
            self.version_id or "",
            self.sequencer or "",
            self.etag or "",
            # Without a sequencer, the event time is what tells two uploads apart.
            "" if self.sequencer else self.event_time,
            self.reprocess_id or "",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def identity(self) -> dict[str, Any]:
        """The upload identity stored on every event (no empty values)."""
        fields: dict[str, Any] = {
            "eventName": self.event_name,
            "eventTime": self.event_time,
            "size": self.size,
            "eTag": self.etag,
            "versionId": self.version_id,
            "sequencer": self.sequencer,
            "reprocessId": self.reprocess_id,
        }
        return {name: value for name, value in fields.items() if value is not None}


SCAN_EVENT_NAME = "MalwareScan:Result"


@dataclass(frozen=True)
class Scan:
    """One malware scan result (GuardDuty Malware Protection for S3) for one object version.

    https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
    """

    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    scan_status: str
    result: schema.ScanResult
    threats: tuple[str, ...]
    event_id: str
    event_time: str
    scanner: str = "guardduty"

    @property
    def document_id(self) -> str:
        return schema.document_id(self.bucket, self.key)

    @property
    def subject(self) -> str:
        """The object version scanned: its version id, else (unversioned) its ETag."""
        return scan_subject(self.version_id, self.etag)

    @property
    def upload_key(self) -> str:
        """Idempotency key: one scan result per object version, whoever delivers it again."""
        return scan_upload_key(self.subject)

    @property
    def clean(self) -> bool:
        return self.result == schema.ScanResult.NO_THREATS_FOUND

    def identity(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "eventName": SCAN_EVENT_NAME,
            "eventTime": self.event_time,
            "eTag": self.etag,
            "versionId": self.version_id,
            "scanEventId": self.event_id,
        }
        return {name: value for name, value in fields.items() if value is not None}


def scan_subject(version_id: str | None, etag: str | None) -> str:
    """An object version as scans are matched to it: its version id, else its ETag."""
    return version_id or f"etag:{(etag or '').strip(chr(34))}"


def scan_upload_key(subject: str) -> str:
    """The idempotency key of the scan result of one object version (`scan_subject`)."""
    return hashlib.sha256(f"scan\x1f{subject}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ScanRecord:
    scan: Scan
    message_id: str | None


@dataclass(frozen=True)
class UploadRecord:
    upload: Upload
    message_id: str | None


@dataclass(frozen=True)
class S3TestEvent:
    bucket: str | None
    message_id: str | None


@dataclass(frozen=True)
class InvalidRecord:
    error: str
    raw: Any
    message_id: str | None


ParsedRecord = UploadRecord | S3TestEvent | InvalidRecord | ScanRecord


def parse_notification(event: Any) -> Iterator[ParsedRecord]:
    """Yield one parsed record per S3 record (direct, or inside SQS messages), or the
    scan result an EventBridge event carries."""
    if not isinstance(event, Mapping):
        yield InvalidRecord(f"event is {type(event).__name__}, not an object", event, None)
        return
    if "detail-type" in event:
        try:
            yield ScanRecord(parse_scan_event(event), None)
        except InvalidEventError as error:
            yield InvalidRecord(str(error), event, None)
        return
    if event.get("Event") == "s3:TestEvent":
        yield S3TestEvent(_optional_str(event.get("Bucket")), None)
        return
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        yield InvalidRecord("event has no Records list", event, None)
        return
    for record in records:
        if isinstance(record, Mapping) and record.get("eventSource") == "aws:sqs":
            yield from _parse_sqs_message(record)
        else:
            yield _parse_s3_record(record, None)


def _parse_sqs_message(message: Mapping[str, Any]) -> Iterator[ParsedRecord]:
    message_id = _optional_str(message.get("messageId"))
    body = message.get("body")
    if not isinstance(body, str):
        yield InvalidRecord("SQS message has no string body", message, message_id)
        return
    try:
        inner = json.loads(body)
    except ValueError as error:
        yield InvalidRecord(f"SQS body is not JSON: {error}", message, message_id)
        return
    if isinstance(inner, Mapping) and inner.get("Event") == "s3:TestEvent":
        yield S3TestEvent(_optional_str(inner.get("Bucket")), message_id)
        return
    if isinstance(inner, Mapping) and "detail-type" in inner:
        # An EventBridge event carried by SQS (a rule's SQS target, or a redriven result).
        try:
            yield ScanRecord(parse_scan_event(inner), message_id)
        except InvalidEventError as error:
            yield InvalidRecord(str(error), message, message_id)
        return
    records = inner.get("Records") if isinstance(inner, Mapping) else None
    if not isinstance(records, list) or not records:
        yield InvalidRecord("SQS body has no S3 Records list", message, message_id)
        return
    for record in records:
        yield _parse_s3_record(record, message_id)


def _parse_s3_record(record: Any, message_id: str | None) -> ParsedRecord:
    try:
        return UploadRecord(parse_s3_record(record), message_id)
    except InvalidEventError as error:
        return InvalidRecord(str(error), record, message_id)


def parse_s3_record(record: Any) -> Upload:
    """One S3 notification record to an `Upload`, or `InvalidEventError`."""
    if not isinstance(record, Mapping):
        raise InvalidEventError("record is not an object")
    if record.get("eventSource") != "aws:s3":
        raise InvalidEventError(
            f"unsupported eventSource {record.get('eventSource')!r}", field="eventSource"
        )
    version = record.get("eventVersion")
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_EVENT_MAJOR:
        raise InvalidEventError(f"unsupported eventVersion {version!r}", field="eventVersion")
    event_name = _require_str(record, "eventName")
    if not event_name.startswith((CREATED_PREFIX, REMOVED_PREFIX, EXPIRATION_PREFIX)):
        raise InvalidEventError(f"unsupported eventName {event_name!r}", field="eventName")
    event_time = _require_str(record, "eventTime")
    try:
        parse_event_time(event_time)
    except (ValueError, OverflowError) as error:
        raise InvalidEventError(
            f"eventTime {event_time!r} is not ISO 8601", field="eventTime"
        ) from error
    s3 = _require_mapping(record, "s3")
    bucket = _require_mapping(s3, "bucket", "s3.bucket")
    obj = _require_mapping(s3, "object", "s3.object")
    bucket_name = _require_str(bucket, "name", "s3.bucket.name")
    if not _BUCKET_NAME.fullmatch(bucket_name):
        raise InvalidEventError(
            f"s3.bucket.name {bucket_name[:80]!r} is not a valid bucket name",
            field="s3.bucket.name",
        )
    key = decode_key(_require_str(obj, "key", "s3.object.key"))
    size = obj.get("size")
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_OBJECT_BYTES
    ):
        raise InvalidEventError(
            f"s3.object.size {size!r} is not a byte count", field="s3.object.size"
        )
    sequencer = _optional_field(obj, "sequencer", "s3.object.sequencer")
    if sequencer is not None and not is_hex(sequencer):
        raise InvalidEventError(
            f"sequencer {sequencer!r} is not hexadecimal", field="s3.object.sequencer"
        )
    filetrail_extra = record.get("filetrail")
    reprocess_id = None
    if isinstance(filetrail_extra, Mapping):
        reprocess_id = _optional_field(filetrail_extra, "reprocessId", "filetrail.reprocessId")
    return Upload(
        bucket=bucket_name,
        key=key,
        event_name=event_name,
        event_time=event_time,
        size=size,
        etag=_optional_field(obj, "eTag", "s3.object.eTag"),
        version_id=_optional_field(obj, "versionId", "s3.object.versionId"),
        sequencer=sequencer,
        reprocess_id=reprocess_id,
    )


_SCAN_STATUS_RESULTS = {
    # A scan that did not complete has no result of its own: it never vouches for the file.
    "SKIPPED": schema.ScanResult.UNSUPPORTED,
    "FAILED": schema.ScanResult.FAILED,
}
_MAX_THREATS = 50
_MAX_THREAT_NAME_CHARS = 256


def parse_scan_event(event: Mapping[str, Any]) -> Scan:
    """A "GuardDuty Malware Protection Object Scan Result" EventBridge event to a `Scan`.

    https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
    """
    source, detail_type = event.get("source"), event.get("detail-type")
    if source != schema.SCAN_EVENT_SOURCE or detail_type != schema.SCAN_EVENT_DETAIL_TYPE:
        raise InvalidEventError(
            f"unsupported EventBridge event {str(source)[:80]!r} / {str(detail_type)[:80]!r}",
            field="detail-type",
        )
    event_id = _require_str(event, "id")
    event_time = _require_str(event, "time")
    try:
        parse_event_time(event_time)
    except (ValueError, OverflowError) as error:
        raise InvalidEventError(f"time {event_time!r} is not ISO 8601", field="time") from error
    detail = _require_mapping(event, "detail")
    obj = _require_mapping(detail, "s3ObjectDetails", "detail.s3ObjectDetails")
    bucket = _require_str(obj, "bucketName", "detail.s3ObjectDetails.bucketName")
    if not _BUCKET_NAME.fullmatch(bucket):
        raise InvalidEventError(
            f"bucketName {bucket[:80]!r} is not a valid bucket name",
            field="detail.s3ObjectDetails.bucketName",
        )
    # EventBridge carries the key as S3 stores it: not form-URL-encoded like S3 notifications.
    key = _require_str(obj, "objectKey", "detail.s3ObjectDetails.objectKey")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidEventError(
            "objectKey is longer than S3 allows", field="detail.s3ObjectDetails.objectKey"
        )
    version_id = _optional_field(obj, "versionId", "s3.object.versionId")
    etag = _optional_field(obj, "eTag", "s3.object.eTag") or _optional_field(
        obj, "etag", "s3.object.eTag"
    )
    if version_id is None and etag is None:
        raise InvalidEventError(
            "the scan result names no object version (no versionId, no eTag)",
            field="detail.s3ObjectDetails.versionId",
        )
    scan_status = _require_str(detail, "scanStatus", "detail.scanStatus")
    results = detail.get("scanResultDetails")
    raw_result = results.get("scanResultStatus") if isinstance(results, Mapping) else None
    if raw_result is None and scan_status in _SCAN_STATUS_RESULTS:
        result = _SCAN_STATUS_RESULTS[scan_status]
    else:
        try:
            result = schema.ScanResult(str(raw_result))
        except ValueError as error:
            raise InvalidEventError(
                f"unknown scanResultStatus {str(raw_result)[:80]!r}",
                field="detail.scanResultDetails.scanResultStatus",
            ) from error
    threats = _threat_names(results.get("threats") if isinstance(results, Mapping) else None)
    return Scan(
        bucket=bucket,
        key=key,
        version_id=version_id,
        etag=etag,
        scan_status=scan_status,
        result=result,
        threats=threats,
        event_id=event_id,
        event_time=event_time,
        scanner=_scanner(event),
    )


def _threat_names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidEventError("threats is not a list", field="detail.scanResultDetails.threats")
    names = []
    for threat in raw[:_MAX_THREATS]:
        name = threat.get("name") if isinstance(threat, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidEventError(
                "a threat has no name", field="detail.scanResultDetails.threats"
            )
        names.append(name[:_MAX_THREAT_NAME_CHARS])
    return tuple(names)


def _scanner(event: Mapping[str, Any]) -> str:
    """Local mode's stand-in marks its results, so the trail never passes them off as AWS's."""
    extra = event.get("filetrail")
    if isinstance(extra, Mapping) and extra.get("scanner") == "local":
        return "local"
    return "guardduty"


def decode_key(raw: str) -> str:
    """S3 form-URL-encodes keys in notifications: `+` is a space, `%2B` a plus, UTF-8."""
    try:
        key = unquote_plus(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as error:
        raise InvalidEventError(
            "s3.object.key is not valid UTF-8 once decoded", field="s3.object.key"
        ) from error
    if not key:
        raise InvalidEventError("s3.object.key is empty", field="s3.object.key")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidEventError("s3.object.key is longer than S3 allows", field="s3.object.key")
    return key


def _require_mapping(
    parent: Mapping[str, Any], name: str, path: str | None = None
) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{path or name} is missing or not an object", field=path or name)
    return value


def _require_str(parent: Mapping[str, Any], name: str, path: str | None = None) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{path or name} is missing or not a string", field=path or name)
    return value


def _optional_field(parent: Mapping[str, Any], name: str, path: str) -> str | None:
    value = parent.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"{path} is not a string", field=path)
    if len(value) > _MAX_FIELD_CHARS.get(path, 1024):
        raise InvalidEventError(f"{path} is longer than S3 ever sends", field=path)
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
