"""S3 event notifications from moto as S3 sends them, so local mode records what AWS would.

moto's notifications carry no versionId or sequencer; a delete in a versioned bucket sends
nothing unless it removes the key's last version, and then names the newest version rather
than the deleted one, crashing when that is a delete marker ("'FakeDeleteMarker' object has
no attribute 'etag'"). S3 sends, per
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
and https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html:

- `ObjectCreated:*` with the object's size, eTag, versionId (versioned bucket) and sequencer;
- `ObjectRemoved:DeleteMarkerCreated` for a DeleteObject without a version id on a versioned
  bucket, with the new marker's versionId and a sequencer;
- `ObjectRemoved:Delete` for a DeleteObject with a version id (a delete marker's too), with
  that versionId and a sequencer, and for a delete in an unversioned bucket;
- one of these per key for DeleteObjects (moto deletes each key through `delete_object`).

Observers (local mode's malware scanner) hear of every new object version here too, as a
GuardDuty protection plan would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import notifications as moto_notifications
from moto.s3.models import S3Backend
from moto.s3.notifications import S3NotificationEvent

REMOVED = S3NotificationEvent.OBJECT_REMOVED_DELETE_EVENT
MARKER_CREATED = S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT
SEQUENCER_DIGITS = 18  # as long as S3's own, e.g. 0055AED6DCD90281E5
CREATED_PREFIX = "s3:ObjectCreated:"

# (bucket, key): called inside the emulator's request, so an observer must only queue.
Observer = Callable[[Any, Any], None]

_installed = False
_install_lock = threading.Lock()
_moto_send_event = moto_notifications.send_event
_moto_delete_object = S3Backend.delete_object
_muted = threading.local()
_observers: list[Observer] = []
_observers_lock = threading.Lock()


class _Sequencer:
    """Hex values that only grow, across restarts too (they start from the clock)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return f"{self._last:0{SEQUENCER_DIGITS}X}"


_sequencer = _Sequencer()


def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    """The message S3 sends for `key` (an object version or a delete marker)."""
    obj: dict[str, Any] = {"key": quote_plus(key.name)}
    if not event_name.startswith("s3:ObjectRemoved:"):
        for field, value in (("size", getattr(key, "size", None)), ("eTag", _etag(key))):
            if value is not None:
                obj[field] = value
    version_id = getattr(key, "version_id", None)
    if version_id not in (None, "null"):
        obj["versionId"] = version_id
    obj["sequencer"] = _sequencer.next()
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": bucket.region_name,
                "eventTime": iso_8601_datetime_with_milliseconds(),
                "eventName": event_name.removeprefix("s3:"),
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": notification_id,
                    "bucket": {"name": bucket.name, "arn": bucket.arn},
                    "object": obj,
                },
            }
        ]
    }


def send_event(account_id: str, event_name: S3NotificationEvent, bucket: Any, key: Any) -> None:
    """moto's, except the removal events `delete_object` below sends itself."""
    if getattr(_muted, "removals", False) and event_name == REMOVED:
        return
    _moto_send_event(account_id, event_name, bucket, key)
    if event_name.startswith(CREATED_PREFIX):
        with _observers_lock:
            observers = list(_observers)
        for observer in observers:
            observer(bucket, key)


def observe_created(observer: Observer) -> None:
    """Tell `observer` of every new object version from now on (any bucket)."""
    with _observers_lock:
        _observers.append(observer)


def forget(observer: Observer) -> None:
    with _observers_lock:
        if observer in _observers:
            _observers.remove(observer)


def delete_object(
    self: S3Backend,
    bucket_name: str,
    key_name: str,
    version_id: str | None = None,
    bypass: bool = False,
) -> tuple[bool, dict[str, Any]]:
    bucket = self.get_bucket(bucket_name)
    if not bucket.is_versioned:
        return _moto_delete_object(self, bucket_name, key_name, version_id, bypass)
    removed = None
    if version_id is not None:
        removed = next(
            (v for v in bucket.keys.getlist(key_name, []) if str(v.version_id) == str(version_id)),
            None,
        )
    with _removals_muted():
        deleted, meta = _moto_delete_object(self, bucket_name, key_name, version_id, bypass)
    if version_id is None and meta.get("delete-marker") == "true":
        send_event(self.account_id, MARKER_CREATED, bucket, bucket.keys[key_name])
    elif removed is not None and deleted:
        send_event(self.account_id, REMOVED, bucket, removed)
    return deleted, meta


def install() -> None:
    """Patch moto (process-wide, once)."""
    global _installed  # noqa: PLW0603 - moto's backends are process-wide too
    with _install_lock:
        if _installed:
            return
        moto_notifications._get_s3_event = s3_event
        moto_notifications.send_event = send_event
        S3Backend.delete_object = delete_object  # type: ignore[method-assign]
        _installed = True


@contextmanager
def _removals_muted() -> Iterator[None]:
    _muted.removals = True
    try:
        yield
    finally:
        _muted.removals = False


def _etag(key: Any) -> str | None:
    etag = getattr(key, "etag", None)
    return etag.replace('"', "") if isinstance(etag, str) else None
