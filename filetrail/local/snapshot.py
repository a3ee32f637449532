"""A local stack's contents read from, and put back into, the emulator's backends.

Through moto's own objects rather than its HTTP API, because only they can put a version
back with the version id S3 gave it, its time and its place among the key's versions: the
audit trail records version ids, and reconciliation compares them with what S3 serves, so
re-uploading the bodies (new ids) would leave every restored file disagreeing with its own
history. Writing the backends directly also sends no S3 notification and adds no stream
record, as a restart must not: the restored files were processed before the stop.

The restored state is judged by what the services serve afterwards
(tests/e2e/test_local_state.py): the same keys, versions in order with their ids, tags,
metadata and bodies, the same table items, the same messages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends
from moto.sqs.models import Message, sqs_backends
from moto.utilities.utils import LowercaseDict

from filetrail.local.state import Identity, Snapshot, StateDirError

# Attributes of a version S3 serves back as they were set (headers, checksums, locks).
_VERSION_ATTRIBUTES = (
    "_storage_class",
    "encryption",
    "kms_key_id",
    "bucket_key_enabled",
    "checksum_algorithm",
    "checksum_value",
    "checksum_type",
    "website_redirect_location",
    "lock_mode",
    "lock_legal_status",
    "lock_until",
)
_BYTES = "$base64"


def capture(identity: Identity) -> Snapshot:
    """The stack's contents now. The caller keeps requests out while this runs."""
    snapshot = Snapshot()
    _capture_bucket(identity, snapshot)
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][identity.region]
    table = _existing("table", identity.table, tables.get_table)
    stored: dict[Any, Any] = table.items  # {hash: Item}, or {hash: {range: Item}}
    for partition in list(stored.values()):
        for item in partition.values() if table.range_key_attr else [partition]:
            snapshot.items.append({name: _wire(value) for name, value in item.attrs.items()})
    sqs = sqs_backends[DEFAULT_ACCOUNT_ID][identity.region]
    for name in identity.queues:
        queue = _existing("queue", name, sqs.get_queue)
        snapshot.queues[name] = [_message(m) for m in list(queue._messages)]
    return snapshot


def _existing(kind: str, name: str, get: Callable[[str], Any]) -> Any:
    try:
        return get(name)
    except Exception as error:  # noqa: BLE001 - moto's not-found errors share no common base
        raise StateDirError(
            f"the {kind} {name} is gone (deleted while local mode ran?), so the stack was "
            f"not saved: {type(error).__name__}"
        ) from None


def apply(identity: Identity, snapshot: Snapshot) -> None:
    """Put `snapshot` into the stack's bucket, table and queues, freshly created and empty."""
    try:
        _apply_bucket(identity, snapshot)
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][identity.region].get_table(identity.table)
        stored: dict[Any, Any] = table.items
        for wire in snapshot.items:
            attributes = _stored_item(wire)
            hash_key = DynamoType(attributes[table.hash_key_attr])
            if table.range_key_attr:
                range_key = DynamoType(attributes[table.range_key_attr])
                stored[hash_key][range_key] = Item(hash_key, range_key, attributes)
            else:
                stored[hash_key] = Item(hash_key, None, attributes)
        sqs = sqs_backends[DEFAULT_ACCOUNT_ID][identity.region]
        for name, messages in snapshot.queues.items():
            queue = sqs.get_queue(name)
            for record in messages:
                queue.add_message(_restored_message(record))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StateDirError(f"the saved state could not be restored: {error!r}") from None


def _capture_bucket(identity: Identity, snapshot: Snapshot) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket = _existing("bucket", identity.bucket, backend.get_bucket)
    for name, versions in list(bucket.keys.iterlists()):
        for version in list(versions):
            record: dict[str, Any] = {
                "key": name,
                "versionId": version.version_id,
                "lastModified": version.last_modified.isoformat(),
            }
            if isinstance(version, FakeDeleteMarker):
                record["deleteMarker"] = True
                snapshot.versions.append(record)
                continue
            body = version.value
            sha = hashlib.sha256(body).hexdigest()
            snapshot.bodies[sha] = body
            record.update(
                body=sha,
                etag=version.etag.strip('"'),
                metadata=dict(version.metadata.store),
                tags=backend.tagger.list_tags_for_resource(version.arn)["Tags"],
                attributes={
                    attribute: getattr(version, attribute)
                    for attribute in _VERSION_ATTRIBUTES
                    if getattr(version, attribute, None) is not None
                },
            )
            snapshot.versions.append(record)


def _apply_bucket(identity: Identity, snapshot: Snapshot) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket = backend.get_bucket(identity.bucket)
    by_key: dict[str, list[Any]] = {}
    for record in snapshot.versions:
        versions = by_key.setdefault(record["key"], [])
        if record.get("deleteMarker"):
            # moto links a marker to the version it hid; only its type is ever read.
            hidden: Any = versions[-1] if versions else _Named(record["key"])
            marker = FakeDeleteMarker(hidden)
            marker._version_id = record["versionId"]
            marker.last_modified = datetime.fromisoformat(record["lastModified"])
            versions.append(marker)
            continue
        key = FakeKey(
            name=record["key"],
            value=snapshot.bodies[record["body"]],
            account_id=DEFAULT_ACCOUNT_ID,
            region_name=bucket.region_name,
            etag=record["etag"],
            is_versioned=bucket.is_versioned,
            version_id=record["versionId"],
            bucket_name=bucket.name,
        )
        key.last_modified = datetime.fromisoformat(record["lastModified"])
        key._metadata = LowercaseDict()
        key._metadata.store.update(record["metadata"])
        for attribute, value in record["attributes"].items():
            if attribute not in _VERSION_ATTRIBUTES:
                raise ValueError(f"unknown version attribute {attribute!r}")
            setattr(key, attribute, value)
        if record["tags"]:
            backend.tagger.tag_resource(key.arn, record["tags"])
        versions.append(key)
    for name, versions in by_key.items():
        bucket.keys.setlist(name, versions)


class _Named:
    """Stands for a version deleted before the state was saved (a marker's first link)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "body": message.body,
        "messageAttributes": _jsonable(message.message_attributes),
        "systemAttributes": _jsonable(message.system_attributes),
        "senderId": message.sender_id,
        "sentTimestamp": message.sent_timestamp,
        "firstReceiveTimestamp": message.approximate_first_receive_timestamp,
        "receiveCount": message.approximate_receive_count,
        "deduplicationId": message.deduplication_id,
        "groupId": message.group_id,
        "sequenceNumber": message.sequence_number,
    }


def _restored_message(record: dict[str, Any]) -> Message:
    """Visible at once: a message in flight at the stop is redelivered, as SQS does once its
    visibility timeout ends; the handler's conditional writes make that harmless."""
    message = Message(record["id"], record["body"], _from_json(record["systemAttributes"]))
    message.message_attributes = _from_json(record["messageAttributes"])
    message.sender_id = record["senderId"]
    message.sent_timestamp = record["sentTimestamp"]
    message.approximate_first_receive_timestamp = record["firstReceiveTimestamp"]
    message.approximate_receive_count = record["receiveCount"]
    message.deduplication_id = record["deduplicationId"]
    message.group_id = record["groupId"]
    message.sequence_number = record["sequenceNumber"]
    return message


def _wire(value: DynamoType) -> dict[str, Any]:
    """An attribute in DynamoDB's JSON, as DynamoDB serves it: binary values in base64
    (moto holds them as bytes)."""
    kind, inner = value.type, value.value
    if kind == "M":
        return {kind: {k: _wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_wire(v) for v in inner]}
    if kind == "B":
        return {kind: _base64(inner)}
    if kind == "BS":
        return {kind: [_base64(v) for v in inner]}
    if isinstance(inner, list):
        return {kind: list(inner)}
    return {kind: inner}


def _stored_item(attributes: dict[str, Any]) -> dict[str, Any]:
    """The reverse of `_wire`: the item as moto holds it after a PutItem."""
    return {name: _stored_value(value) for name, value in attributes.items()}


def _stored_value(value: dict[str, Any]) -> dict[str, Any]:
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {kind: base64.b64decode(inner)}
    if kind == "BS":
        return {kind: [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {kind: {k: _stored_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_stored_value(v) for v in inner]}
    return {kind: inner}


def _base64(value: bytes | str) -> str:
    return value if isinstance(value, str) else base64.b64encode(value).decode("ascii")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value
