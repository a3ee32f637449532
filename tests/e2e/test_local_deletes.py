"""Deletes through local mode are recorded as on AWS: the emulator sends what S3 sends.

S3's event types, per
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html:
a DeleteObject without a version id on a versioned bucket creates a delete marker and sends
`ObjectRemoved:DeleteMarkerCreated` (with the marker's versionId); a DeleteObject with a
version id, a delete marker's included, sends `ObjectRemoved:Delete`; DeleteObjects sends
one of these per key. The message carries the versionId and a sequencer
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
moto sends nothing for a delete marker and crashed deleting versions behind one.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator, Mapping
from typing import IO, Any

import pytest

from handlers import schema
from handlers.model import AuditEvent, StatusItem
from handlers.store import AuditStore
from tests.e2e.conftest import LocalProcess, poll
from tests.support.samples import PNG


class Local:
    def __init__(self, process: LocalProcess, stderr: IO[str]) -> None:
        self.process = process
        self.stderr = stderr
        self.bucket = process.ready["bucket"]
        self.s3 = process.client("s3")
        self.store = AuditStore(process.client("dynamodb"), process.ready["table"])

    def upload(self, key: str) -> str:
        response = self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=PNG + uuid.uuid4().bytes, ContentType="image/png"
        )
        version_id: str = response["VersionId"]
        return version_id

    def status(self, key: str) -> StatusItem | None:
        return self.store.get_status(schema.document_id(self.bucket, key))

    def events(self, key: str) -> list[AuditEvent]:
        return list(self.store.iter_events(schema.document_id(self.bucket, key)))

    def wait_for(self, key: str, status: schema.Status, *, events: int) -> StatusItem:
        """The status once the stream holds at least `events` events and shows `status`."""

        def settled() -> StatusItem | None:
            item = self.status(key)
            if item is None or item.status != status or len(self.events(key)) < events:
                return None
            return item

        return poll(settled, timeout=30, what=f"{key} {status} after {events} events")

    def stored(self, key: str) -> str:
        version_id = self.upload(key)
        self.wait_for(key, schema.Status.SUCCESS, events=3)
        return version_id

    def delete_marker(self, key: str) -> str:
        """What `aws s3 rm` does: a DeleteObject without a version id."""
        response = self.s3.delete_object(Bucket=self.bucket, Key=key)
        assert response["DeleteMarker"] is True
        version_id: str = response["VersionId"]
        return version_id

    def delete_version(self, key: str, version_id: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def log(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    with tempfile.TemporaryFile("w+") as stderr:
        process = LocalProcess(stderr=stderr)
        try:
            yield Local(process, stderr)
        finally:
            process.stop()


def _key() -> str:
    return f"deletes/{uuid.uuid4().hex}.png"


def _last_upload(local: Local, key: str) -> Mapping[str, Any]:
    return local.events(key)[-1].upload


def test_plain_delete_records_the_file_deleted(local: Local) -> None:
    key = _key()
    local.stored(key)

    marker = local.delete_marker(key)

    item = local.wait_for(key, schema.Status.DELETED, events=4)
    assert item.version_id == marker
    upload = _last_upload(local, key)
    assert upload["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert upload["versionId"] == marker


def test_delete_notifications_carry_a_sequencer_later_than_the_upload(local: Local) -> None:
    key = _key()
    local.stored(key)
    uploaded = _last_upload(local, key)["sequencer"]

    local.delete_marker(key)

    local.wait_for(key, schema.Status.DELETED, events=4)
    deleted = _last_upload(local, key)["sequencer"]
    assert len(deleted) == len(uploaded)
    assert deleted > uploaded


def test_deleting_the_delete_marker_brings_the_file_back_revalidated(local: Local) -> None:
    key = _key()
    version_id = local.stored(key)
    marker = local.delete_marker(key)
    local.wait_for(key, schema.Status.DELETED, events=4)

    local.delete_version(key, marker)

    item = local.wait_for(key, schema.Status.SUCCESS, events=7)
    assert item.version_id == version_id
    assert [e.type for e in local.events(key)][-3:] == ["RECEIVED", "VALIDATED", "STORED"]


def test_deleting_every_version_after_a_marker_records_the_file_deleted(local: Local) -> None:
    key = _key()
    version_id = local.stored(key)
    marker = local.delete_marker(key)
    local.wait_for(key, schema.Status.DELETED, events=4)

    local.delete_version(key, version_id)
    local.delete_version(key, marker)

    local.wait_for(key, schema.Status.DELETED, events=6)
    uploads = [e.upload for e in local.events(key)[-2:]]
    # Local mode's dispatchers, like Lambda, may process the two deletes in either order.
    assert sorted((u["eventName"], u["versionId"]) for u in uploads) == sorted(
        [("ObjectRemoved:Delete", version_id), ("ObjectRemoved:Delete", marker)]
    )


def test_batch_delete_records_each_file_deleted(local: Local) -> None:
    keys = [_key(), _key()]
    for key in keys:
        local.stored(key)

    local.s3.delete_objects(Bucket=local.bucket, Delete={"Objects": [{"Key": k} for k in keys]})

    for key in keys:
        local.wait_for(key, schema.Status.DELETED, events=4)
        assert _last_upload(local, key)["eventName"] == "ObjectRemoved:DeleteMarkerCreated"


def test_deleting_versions_behind_a_marker_prints_no_traceback(local: Local) -> None:
    key = _key()
    version_id = local.stored(key)
    marker = local.delete_marker(key)
    local.wait_for(key, schema.Status.DELETED, events=4)

    local.delete_version(key, version_id)
    local.delete_version(key, marker)
    local.wait_for(key, schema.Status.DELETED, events=6)

    assert "Traceback" not in local.log()
