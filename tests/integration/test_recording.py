"""The handler against emulated S3 + DynamoDB: what it records for each kind of upload."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from handlers.schema import EventType, Reason, Status
from tests.support.pipeline import BUCKET, Pipeline, provision
from tests.support.samples import ELF, HTML, JPEG, PDF, PE_EXE, PNG, TEXT, padded


def test_valid_image_is_received_validated_and_stored(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("photos/cat.png", padded(PNG, 2048), content_type="image/png"))

    assert pipeline.types("photos/cat.png") == ["RECEIVED", "VALIDATED", "STORED"]
    assert [e.seq for e in pipeline.events("photos/cat.png")] == [1, 2, 3]


def test_status_item_carries_the_seed_schema(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("photos/cat.png", padded(PNG, 2048), content_type="image/png"))

    status = pipeline.status("photos/cat.png")
    assert status is not None
    assert (status.file_name, status.file_type, status.file_size, status.status) == (
        "cat.png",
        "image/png",
        2048,
        Status.SUCCESS,
    )
    assert status.uploaded_at == "2026-11-28T10:15:30.123Z"
    assert (status.version, status.stage) == (3, EventType.STORED)


def test_every_event_carries_the_upload_identity_and_request(pipeline: Pipeline) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    pipeline.process(record)

    for event in pipeline.events("doc.pdf"):
        assert event.upload["versionId"] == record["s3"]["object"]["versionId"]
        assert event.upload["sequencer"] == record["s3"]["object"]["sequencer"]
        assert event.upload["eTag"] == record["s3"]["object"]["eTag"]
        assert event.upload["eventName"] == "ObjectCreated:Put"
        assert event.request_id is not None
        assert event.at.endswith("Z")


def test_stored_object_is_tagged_stored(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="doc.pdf")["TagSet"]
    assert {"Key": "filetrail-status", "Value": "STORED"} in tags


def test_tagging_keeps_the_uploaders_own_tags(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF, tags="team=finance"))

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="doc.pdf")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [
        ("filetrail-status", "STORED"),
        ("team", "finance"),
    ]


def test_rejected_object_is_tagged_rejected(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("evil.jpg", PE_EXE))

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="evil.jpg")["TagSet"]
    assert tags == [{"Key": "filetrail-status", "Value": "REJECTED"}]


def test_tagging_can_be_switched_off(session: boto3.session.Session) -> None:
    pipeline = provision(session, TAG_OBJECTS="false")
    pipeline.process(pipeline.upload("doc.pdf", PDF))

    assert pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="doc.pdf")["TagSet"] == []
    assert pipeline.events("doc.pdf")[-1].details["tagged"] is False


@pytest.mark.parametrize(
    ("key", "body", "content_type", "reason"),
    [
        ("evil.jpg", PE_EXE, None, Reason.TYPE_MISMATCH),
        ("page.png", HTML, "image/png", Reason.TYPE_MISMATCH),
        ("photo.jpg", JPEG, "application/pdf", Reason.TYPE_MISMATCH),
        ("tool", ELF, None, Reason.TYPE_NOT_ALLOWED),
        ("empty.txt", b"", None, Reason.EMPTY_FILE),
        ("huge.png", padded(PNG, 10 * 1024 * 1024 + 1), None, Reason.TOO_LARGE),
        ("blob.bin", bytes(range(256)) * 4, None, Reason.TYPE_UNKNOWN),
        ("bad\nname.txt", TEXT, None, Reason.UNSAFE_NAME),
        ("gnp\u202eexe.txt", TEXT, None, Reason.UNSAFE_NAME),
    ],
)
def test_rejection_records_a_stable_reason(
    pipeline: Pipeline, key: str, body: bytes, content_type: str | None, reason: Reason
) -> None:
    pipeline.process(pipeline.upload(key, body, content_type=content_type))

    events = pipeline.events(key)
    assert [str(e.type) for e in events] == ["RECEIVED", "REJECTED"]
    assert events[-1].reason == reason
    assert events[-1].details["message"]
    status = pipeline.status(key)
    assert status is not None
    assert (status.status, status.reason) == (Status.FAILED, str(reason))


def test_file_exactly_at_the_size_limit_is_stored(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("limit.png", padded(PNG, 10 * 1024 * 1024)))

    assert pipeline.types("limit.png")[-1] == "STORED"


def test_text_file_is_stored_as_text(pipeline: Pipeline) -> None:
    pipeline.process(
        pipeline.upload("notes/readme.txt", TEXT, content_type="text/plain; charset=utf-8")
    )

    status = pipeline.status("notes/readme.txt")
    assert status is not None
    assert (status.status, status.file_type) == (Status.SUCCESS, "text/plain")


def test_key_with_spaces_plus_and_unicode_is_decoded_exactly(pipeline: Pipeline) -> None:
    key = "reports/Q3 results+final \u00e9t\u00e9 \U0001f4c4.pdf"
    pipeline.process(pipeline.upload(key, PDF))

    status = pipeline.status(key)
    assert status is not None
    assert (status.key, status.status) == (key, Status.SUCCESS)


def test_folder_marker_is_ignored(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("incoming/", b""))

    events = pipeline.events("incoming/")
    assert [(str(e.type), e.reason) for e in events] == [("IGNORED", "FOLDER_MARKER")]


def test_object_already_gone_is_rejected_not_found_once(pipeline: Pipeline) -> None:
    record = pipeline.upload("gone.pdf", PDF)
    version = record["s3"]["object"]["versionId"]
    pipeline.s3.delete_object(Bucket=BUCKET, Key="gone.pdf", VersionId=version)

    pipeline.process(record)
    pipeline.process(record)

    events = pipeline.events("gone.pdf")
    assert [(str(e.type), e.reason) for e in events] == [
        ("RECEIVED", None),
        ("REJECTED", "NOT_FOUND"),
        ("DELETED", None),  # reconciled: S3 serves nothing for the key
    ]
    assert events[-1].details == {"cause": "NOTHING_SERVED"}


def test_deletion_appends_deleted_and_marks_the_status(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    pipeline.process(pipeline.delete("doc.pdf"))

    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED", "DELETED"]
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED


def test_unversioned_notification_for_a_replaced_object_is_ignored_as_superseded(
    pipeline: Pipeline,
) -> None:
    first = pipeline.upload("doc.pdf", PDF, with_version=False)
    pipeline.upload("doc.pdf", PDF + b"% second upload\n", with_version=False)

    pipeline.process(first)

    events = pipeline.events("doc.pdf")
    assert [(str(e.type), e.reason) for e in events] == [
        ("RECEIVED", None),
        ("IGNORED", "SUPERSEDED"),
    ]


def test_replay_rebuilds_the_stored_status_item(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    pipeline.process(pipeline.upload("doc.pdf", PE_EXE))
    pipeline.process(pipeline.delete("doc.pdf"))
    doc = pipeline.events("doc.pdf")[0].document_id

    assert pipeline.store.replay(doc) == pipeline.store.get_status(doc)


def test_upload_with_ten_tags_gets_a_verdict_and_the_outcome_tag(pipeline: Pipeline) -> None:
    """S3 allows 10 tags per object; the outcome tag needs one of them:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html"""
    uploader_tags = "&".join(f"t{n}=v{n}" for n in range(10))
    pipeline.process(pipeline.upload("doc.pdf", PDF, tags=uploader_tags))

    assert pipeline.types("doc.pdf") == ["RECEIVED", "VALIDATED", "STORED"]
    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="doc.pdf")["TagSet"]
    assert len(tags) == 10
    assert {"Key": "filetrail-status", "Value": "STORED"} in tags


def test_tags_removed_to_make_room_are_recorded_in_the_event(pipeline: Pipeline) -> None:
    uploader_tags = "&".join(f"t{n}=v{n}" for n in range(10))
    pipeline.process(pipeline.upload("doc.pdf", PDF, tags=uploader_tags))

    kept = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="doc.pdf")["TagSet"]
    dropped = pipeline.events("doc.pdf")[-1].details["droppedTags"]
    assert dropped == [{"key": "t9", "value": "v9"}]
    assert {(t["Key"], t["Value"]) for t in kept} | {("t9", "v9")} == {
        *((f"t{n}", f"v{n}") for n in range(10)),
        ("filetrail-status", "STORED"),
    }


def test_unsafe_name_is_tagged_rejected_so_the_lifecycle_rule_expires_it(
    pipeline: Pipeline,
) -> None:
    pipeline.process(pipeline.upload("bad\nname.txt", TEXT))

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="bad\nname.txt")["TagSet"]
    assert tags == [{"Key": "filetrail-status", "Value": "REJECTED"}]


def lifecycle_record(pipeline: Pipeline, key: str, event_name: str) -> dict[str, Any]:
    """What S3 sends when a lifecycle rule expires an object (event names from
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configure-notification.html)."""
    record = pipeline.delete(key)
    record["eventName"] = event_name
    record["userIdentity"] = {"principalId": "s3.amazonaws.com"}
    return record


def test_lifecycle_expiration_is_recorded_as_a_deletion(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("evil.jpg", PE_EXE))

    pipeline.process(
        lifecycle_record(pipeline, "evil.jpg", "LifecycleExpiration:DeleteMarkerCreated")
    )

    status = pipeline.status("evil.jpg")
    assert status is not None
    assert status.status == Status.DELETED
    last = pipeline.events("evil.jpg")[-1]
    assert (str(last.type), last.details) == ("DELETED", {"cause": "LIFECYCLE_EXPIRATION"})


def test_lifecycle_expiry_of_a_noncurrent_version_leaves_the_file(pipeline: Pipeline) -> None:
    old = pipeline.upload("doc.pdf", PDF)
    pipeline.process(old)
    pipeline.process(pipeline.upload("doc.pdf", PDF + b"%v2\n"))
    expiry = pipeline.delete_version("doc.pdf", old["s3"]["object"]["versionId"])
    expiry["eventName"] = "LifecycleExpiration:Delete"

    pipeline.process(expiry)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.SUCCESS
    last = pipeline.events("doc.pdf")[-1]
    assert last.details == {"scope": "version", "cause": "LIFECYCLE_EXPIRATION"}
