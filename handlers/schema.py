"""The one definition of every name the handler, the Pulumi program, the metric
filters and the CLI share: table keys, index names, event types, reason codes,
statuses, log fields, tag names and environment variables.

Pure constants only: this module is imported by infra code that never loads boto3.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Final

# DynamoDB table layout (single table).
PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
STATUS_SORT_KEY: Final = "STATUS"
EVENT_SORT_PREFIX: Final = "EVENT#"
MARKER_SORT_PREFIX: Final = "UPLOAD#"
SEQ_DIGITS: Final = 10

# Sparse global secondary index: only status items carry these attributes.
STATUS_INDEX: Final = "byStatus"
STATUS_INDEX_PARTITION_KEY: Final = "statusKey"
STATUS_INDEX_SORT_KEY: Final = "statusSort"
# Write sharding: one index partition takes about 1,000 write units a second, so each
# status is spread over this many partitions (by documentId) and readers merge them.
DEFAULT_STATUS_INDEX_SHARDS: Final = 8
MAX_STATUS_INDEX_SHARDS: Final = 32

DOCUMENT_ID_PREFIX: Final = "doc-"


class EventType(StrEnum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    STORED = "STORED"
    REJECTED = "REJECTED"
    DELETED = "DELETED"
    IGNORED = "IGNORED"
    # A malware scan's result for one version of the file (GuardDuty, or local mode's scanner).
    SCANNED = "SCANNED"


class Status(StrEnum):
    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    DELETED = "DELETED"
    IGNORED = "IGNORED"


class Reason(StrEnum):
    """Stable reason codes. Never rename one: alarms and users' scripts match them."""

    EMPTY_FILE = "EMPTY_FILE"
    TOO_LARGE = "TOO_LARGE"
    TYPE_UNKNOWN = "TYPE_UNKNOWN"
    TYPE_NOT_ALLOWED = "TYPE_NOT_ALLOWED"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    UNSAFE_NAME = "UNSAFE_NAME"
    NOT_FOUND = "NOT_FOUND"
    ARCHIVED = "ARCHIVED"
    UNSUPPORTED_ENCRYPTION = "UNSUPPORTED_ENCRYPTION"
    FOLDER_MARKER = "FOLDER_MARKER"
    SUPERSEDED = "SUPERSEDED"
    INVALID_EVENT = "INVALID_EVENT"
    # Malware scanning: a threat was found, the scanner cannot scan this object, or the
    # scan itself failed (no verdict on the content, so the file is never trusted).
    MALWARE = "MALWARE"
    SCAN_UNSUPPORTED = "SCAN_UNSUPPORTED"
    SCAN_FAILED = "SCAN_FAILED"


class ScanResult(StrEnum):
    """GuardDuty Malware Protection for S3's `scanResultStatus` values.

    https://docs.aws.amazon.com/guardduty/latest/ug/monitoring-malware-protection-s3-scans-gdu.html
    """

    NO_THREATS_FOUND = "NO_THREATS_FOUND"
    THREATS_FOUND = "THREATS_FOUND"
    UNSUPPORTED = "UNSUPPORTED"
    ACCESS_DENIED = "ACCESS_DENIED"
    FAILED = "FAILED"


# What a PROCESSING file waits for (the status item's `awaiting`).
AWAITING_SCAN: Final = "SCAN"
AWAITING_VALIDATION: Final = "VALIDATION"


class Outcome(StrEnum):
    """The value of the `outcome` log field: one log line per processed record."""

    STORED = "STORED"
    REJECTED = "REJECTED"
    DELETED = "DELETED"
    IGNORED = "IGNORED"
    DUPLICATE = "DUPLICATE"
    INVALID = "INVALID"
    ERROR = "ERROR"
    TEST_EVENT = "TEST_EVENT"
    # Malware scanning: validated and waiting for its scan; a scan result recorded that did
    # not decide the file's verdict (the verdict came earlier, or validation is still to come).
    AWAITING_SCAN = "AWAITING_SCAN"
    SCANNED = "SCANNED"


# Structured log fields (one JSON object per line). Metric filters match these.
LOG_MESSAGE: Final = "message"
LOG_OUTCOME: Final = "outcome"
LOG_REASON: Final = "reason"
LOG_DOCUMENT_ID: Final = "documentId"
LOG_BUCKET: Final = "bucket"
LOG_KEY: Final = "key"
LOG_SIZE: Final = "size"
LOG_DURATION_MS: Final = "durationMs"
LOG_FILE_TYPE: Final = "fileType"
LOG_TRACE_ID: Final = "traceId"
LOG_ERROR: Final = "error"
LOG_STALE: Final = "stale"
# True on the outcome line of a record the handler made itself to match what S3 serves.
LOG_RECONCILED: Final = "reconciled"
# On the outcome line of a scan result: GuardDuty's scanResultStatus (ThreatsFound counts it).
LOG_SCAN_RESULT: Final = "scanResult"
# The message every outcome line carries, so filters can be anchored to it.
OUTCOME_MESSAGE: Final = "filetrail.outcome"

# CloudWatch metric names and namespace, shared by the metric filters and dashboard.
METRIC_NAMESPACE: Final = "Filetrail"
METRIC_RECEIVED: Final = "FilesReceived"
METRIC_STORED: Final = "FilesStored"
METRIC_REJECTED: Final = "FilesRejected"
METRIC_ERRORS: Final = "ProcessingErrors"
METRIC_DURATION: Final = "ProcessingDuration"
METRIC_THREATS: Final = "ThreatsFound"

# Object tag written with the outcome (quarantine: unvalidated objects stay unreadable).
TAG_KEY: Final = "filetrail-status"
TAG_STORED: Final = "STORED"
TAG_REJECTED: Final = "REJECTED"
# Unreadable under quarantine, never expired: a newer upload awaiting its own verdict.
TAG_PENDING: Final = "PENDING"
# The tag GuardDuty Malware Protection for S3 writes with its result; the function keeps it.
GUARDDUTY_TAG_KEY: Final = "GuardDutyMalwareScanStatus"

# Malware scan results as EventBridge delivers them.
# https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
SCAN_EVENT_SOURCE: Final = "aws.guardduty"
SCAN_EVENT_DETAIL_TYPE: Final = "GuardDuty Malware Protection Object Scan Result"
MALWARE_SCAN_NONE: Final = "none"
MALWARE_SCAN_GUARDDUTY: Final = "guardduty"
MALWARE_SCAN_MODES: Final = (MALWARE_SCAN_NONE, MALWARE_SCAN_GUARDDUTY)

# File-event notifications (the audit table's stream, published to SNS).
# Only terminal events are announced; status items and markers never are.
ANNOUNCED_EVENT_TYPES: Final = ("STORED", "REJECTED", "DELETED")
NOTIFICATION_SCHEMA_VERSION: Final = "1"
NOTIFICATION_TYPE_PREFIX: Final = "filetrail.file."
# SNS message attributes subscribers can filter on.
ATTR_OUTCOME: Final = "outcome"
ATTR_REASON: Final = "reason"
ATTR_FILE_TYPE: Final = "fileType"
ATTR_BUCKET: Final = "bucket"
NOTIFICATION_MESSAGE: Final = "filetrail.notification"
LOG_NOTIFICATION_ID: Final = "id"
LOG_MESSAGE_ID: Final = "messageId"
ENV_TOPIC_ARN: Final = "TOPIC_ARN"

# Handler settings (environment variables).
ENV_TABLE_NAME: Final = "TABLE_NAME"
ENV_MAX_FILE_BYTES: Final = "MAX_FILE_BYTES"
ENV_ALLOWED_TYPES: Final = "ALLOWED_TYPES"
ENV_HEADER_BYTES: Final = "HEADER_BYTES"
ENV_TAG_OBJECTS: Final = "TAG_OBJECTS"
ENV_DLQ_URL: Final = "DLQ_URL"
ENV_LOG_LEVEL: Final = "LOG_LEVEL"
ENV_STATUS_INDEX_SHARDS: Final = "STATUS_INDEX_SHARDS"
# "guardduty": a file is STORED only once validated and scanned clean.
ENV_MALWARE_SCAN: Final = "MALWARE_SCAN"

DEFAULT_MAX_FILE_BYTES: Final = 10 * 1024 * 1024
DEFAULT_ALLOWED_TYPES: Final = "image/*,application/pdf,text/plain"
DEFAULT_HEADER_BYTES: Final = 64 * 1024
MAX_HEADER_BYTES: Final = 64 * 1024


def document_id(bucket: str, key: str) -> str:
    """Stable stream id of one object key: every upload of it shares the stream."""
    digest = hashlib.sha256(f"{bucket}\x00{key}".encode()).hexdigest()
    return f"{DOCUMENT_ID_PREFIX}{digest[:32]}"


def event_sort_key(seq: int) -> str:
    return f"{EVENT_SORT_PREFIX}{seq:0{SEQ_DIGITS}d}"


def marker_sort_key(upload_key: str, phase: str) -> str:
    return f"{MARKER_SORT_PREFIX}{upload_key}#{phase}"


def status_shard(document_id: str, shards: int) -> int:
    """The status index shard of a file: fixed by its documentId for a given shard count.

    SHA-256, not `hash()`: every process, the handler's and the CLI's, must agree.
    """
    digest = hashlib.sha256(document_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def status_index_key(status: str, shard: int) -> str:
    """The index partition key of one shard of a status.

    Shard 0 is the bare status, the key every status item carried before sharding: a
    table written unsharded reads as shard 0 of any count, and one shard is that layout.
    """
    return str(status) if shard == 0 else f"{status}#{shard}"


def status_index_keys(status: str, shards: int) -> tuple[str, ...]:
    """Every index partition a reader must query for one status."""
    return tuple(status_index_key(status, shard) for shard in range(shards))


def create_table_request(table_name: str, *, stream: bool = False) -> dict[str, object]:
    """`CreateTable` arguments for the audit table (local mode and tests; infra mirrors it).

    The stream (new images) feeds the notifier; without notifications it is left off.
    """
    request: dict[str, object] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, STATUS_INDEX_PARTITION_KEY, STATUS_INDEX_SORT_KEY)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": STATUS_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": STATUS_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    return request
