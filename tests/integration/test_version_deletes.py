"""Deletes in a versioned bucket: a delete marker, or the permanent delete of one version.

Only a delete marker, or the delete of the version the status describes, changes what
the key serves. Removing an old version leaves the file as it was; removing the current
version (or the marker) makes an older version current again, which is validated afresh.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.errors import AwsError
from handlers.objects import ObjectStore
from handlers.schema import Status
from infra.iam import function_policy
from tests.support.aws_answers import answer_missing_keys_by_policy
from tests.support.pipeline import BUCKET, Pipeline
from tests.support.samples import PDF, PE_EXE

BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


def version_of(record: dict[str, Any]) -> str:
    return str(record["s3"]["object"]["versionId"])


def test_deleting_an_old_version_leaves_the_file_as_it_is(pipeline: Pipeline) -> None:
    old = pipeline.upload("doc.pdf", PDF)
    pipeline.process(old)
    pipeline.process(pipeline.upload("doc.pdf", PDF + b"%v2\n"))

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(old)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.stage) == (Status.SUCCESS, "STORED")
    last = pipeline.events("doc.pdf")[-1]
    assert (str(last.type), last.details) == ("DELETED", {"scope": "version"})


def test_deleting_the_current_version_revalidates_the_one_now_current(pipeline: Pipeline) -> None:
    bad = pipeline.upload("doc.pdf", PE_EXE)
    pipeline.process(bad)
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(good)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.reason, status.version_id) == (
        Status.FAILED,
        "TYPE_MISMATCH",
        version_of(bad),
    )
    assert pipeline.types("doc.pdf")[-3:] == ["DELETED", "RECEIVED", "REJECTED"]


def test_deleting_the_delete_marker_brings_the_file_back(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    marker = pipeline.delete("doc.pdf")
    pipeline.process(marker)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(marker)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.SUCCESS


def test_deleting_the_only_version_leaves_the_file_deleted(pipeline: Pipeline) -> None:
    only = pipeline.upload("doc.pdf", PDF)
    pipeline.process(only)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(only)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED


def test_redelivered_version_delete_appends_nothing(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PE_EXE))
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)
    deletion = pipeline.delete_version("doc.pdf", version_of(good))
    pipeline.process(deletion)
    before = pipeline.events("doc.pdf")

    pipeline.process(deletion)

    assert pipeline.events("doc.pdf") == before
    doc = before[0].document_id
    assert pipeline.store.replay(doc) == pipeline.store.get_status(doc)


def test_crash_after_the_delete_is_recorded_still_revalidates_on_retry(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PE_EXE))
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)
    deletion = pipeline.delete_version("doc.pdf", version_of(good))
    real = ObjectStore.current_version

    def crash(self: ObjectStore, upload: Any) -> Any:
        raise RuntimeError("process died after recording the delete")

    monkeypatch.setattr(ObjectStore, "current_version", crash)
    with pytest.raises(RuntimeError):
        pipeline.process(deletion)
    monkeypatch.setattr(ObjectStore, "current_version", real)

    pipeline.process(deletion)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.reason) == (Status.FAILED, "TYPE_MISMATCH")


def test_version_delete_delivered_before_its_upload_leaves_the_version_s3_serves(
    pipeline: Pipeline,
) -> None:
    """Upload v1, upload v2, delete v2; the delete arrives before v2's ObjectCreated."""
    v1 = pipeline.upload("doc.pdf", PDF)
    v2 = pipeline.upload("doc.pdf", PE_EXE)
    deletion = pipeline.delete_version("doc.pdf", version_of(v2))

    for record in (v1, deletion, v2):
        pipeline.process(record)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.version_id) == (Status.SUCCESS, version_of(v1))
    assert status.version_id == served_version(pipeline, "doc.pdf")


def test_marker_removal_delivered_before_the_marker_leaves_the_file_back(
    pipeline: Pipeline,
) -> None:
    """A delete marker is removed; the removal arrives before DeleteMarkerCreated."""
    v1 = pipeline.upload("doc.pdf", PDF)
    marker = pipeline.delete("doc.pdf")
    removal = pipeline.delete_version("doc.pdf", version_of(marker))

    for record in (v1, removal, marker):
        pipeline.process(record)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.version_id) == (Status.SUCCESS, version_of(v1))
    assert status.version_id == served_version(pipeline, "doc.pdf")


def test_marker_removed_and_last_version_deleted_in_any_order_ends_deleted(
    pipeline: Pipeline,
) -> None:
    v1 = pipeline.upload("doc.pdf", PDF)
    marker = pipeline.delete("doc.pdf")
    removal = pipeline.delete_version("doc.pdf", version_of(marker))
    last = pipeline.delete_version("doc.pdf", version_of(v1))

    for record in (v1, removal, last, marker):
        pipeline.process(record)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED
    assert served_version(pipeline, "doc.pdf") is None


def test_reconciliation_is_recorded_once_under_redelivery(pipeline: Pipeline) -> None:
    v1 = pipeline.upload("doc.pdf", PDF)
    v2 = pipeline.upload("doc.pdf", PE_EXE)
    deletion = pipeline.delete_version("doc.pdf", version_of(v2))
    for record in (v1, deletion, v2):
        pipeline.process(record)
    before = pipeline.events("doc.pdf")

    for record in (v2, deletion, v1):
        pipeline.process(record)

    assert pipeline.events("doc.pdf") == before
    doc = before[0].document_id
    assert pipeline.store.replay(doc) == pipeline.store.get_status(doc)


def served_version(pipeline: Pipeline, key: str) -> str | None:
    """What S3 itself serves for the key (the oracle), or None."""
    try:
        return str(pipeline.s3.head_object(Bucket=BUCKET, Key=key)["VersionId"])
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
            raise
        return None


def deploy_policy() -> dict[str, Any]:
    return function_policy(
        bucket_arn=BUCKET_ARN,
        table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t",
        dlq_arn="arn:aws:sqs:us-east-1:123456789012:dlq",
        log_group_arn="arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f",
    )


def test_deleting_the_only_version_ends_deleted_under_the_deployed_policy(
    pipeline: Pipeline,
) -> None:
    """The lookup after the delete meets a missing key. AWS answers it 404 only to a role
    holding s3:ListBucket, else 403 (HeadObject API reference):
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html"""
    handler_s3 = pipeline.runtime.processor._objects._client
    answer_missing_keys_by_policy(handler_s3, pipeline.s3, deploy_policy(), BUCKET_ARN)
    only = pipeline.upload("doc.pdf", PDF)
    pipeline.process(only)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(only)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED
    assert pipeline.dlq_messages() == []


def test_without_list_bucket_the_lookup_is_a_403_and_never_a_verdict(
    pipeline: Pipeline,
) -> None:
    """Why the role holds s3:ListBucket: without it AWS answers 403, which the handler
    must retry (a 403 is also what a real denial looks like)."""
    policy = deploy_policy()
    policy["Statement"] = [s for s in policy["Statement"] if "s3:ListBucket" not in s["Action"]]
    handler_s3 = pipeline.runtime.processor._objects._client
    answer_missing_keys_by_policy(handler_s3, pipeline.s3, policy, BUCKET_ARN)
    only = pipeline.upload("doc.pdf", PDF)
    pipeline.process(only)

    with pytest.raises(AwsError):
        pipeline.process(pipeline.delete_version("doc.pdf", version_of(only)))


def test_crash_during_reconciliation_is_resumed_by_the_retry(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = pipeline.upload("doc.pdf", PDF)
    v2 = pipeline.upload("doc.pdf", PE_EXE)
    deletion = pipeline.delete_version("doc.pdf", version_of(v2))
    pipeline.process(v1)
    pipeline.process(deletion)
    real = ObjectStore.inspect

    def crash_on_the_reconciliation(self: ObjectStore, upload: Any) -> Any:
        if upload.reprocess_id:
            raise RuntimeError("process died while reconciling")
        return real(self, upload)

    monkeypatch.setattr(ObjectStore, "inspect", crash_on_the_reconciliation)
    with pytest.raises(RuntimeError):
        pipeline.process(v2)  # NOT_FOUND recorded, then the crash
    monkeypatch.setattr(ObjectStore, "inspect", real)

    pipeline.process(v2)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.version_id) == (Status.SUCCESS, version_of(v1))


def test_deleting_a_version_the_status_does_not_show_records_what_s3_serves(
    pipeline: Pipeline,
) -> None:
    """The status shows a delete marker; an older version goes while a newer upload, not yet
    notified, is what S3 serves. The delete records itself, then what S3 serves (the newer
    upload, validated); its own notification, when it comes, appends nothing new to the
    status."""
    old = pipeline.upload("doc.pdf", PDF)
    pipeline.process(old)
    pipeline.process(pipeline.delete("doc.pdf"))
    newer = pipeline.upload("doc.pdf", PDF + b"%v2\n")  # its notification is still on the way
    before = len(pipeline.events("doc.pdf"))

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(old)))

    added = pipeline.events("doc.pdf")[before:]
    assert [str(e.type) for e in added] == ["DELETED", "RECEIVED", "VALIDATED", "STORED"]
    assert dict(added[0].details) == {"scope": "version"}
    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.version_id) == (Status.SUCCESS, version_of(newer))


@pytest.mark.parametrize("with_sequencers", [True, False])
def test_a_late_delete_still_reconciles_past_a_notification_s3_never_sent(
    pipeline: Pipeline, with_sequencers: bool
) -> None:
    """S3 may send a single notification for concurrent writes to one key
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html), so the
    status can describe v1 while S3 serves v2 with nothing left to deliver. A delete of an
    older version, delivered late, reconciles anyway: the record it makes applies now,
    whatever the age of the delete that prompted it."""
    v0 = pipeline.upload("doc.pdf", PDF, event_time="2026-11-28T10:00:00.000Z")
    deletion = pipeline.delete_version("doc.pdf", version_of(v0))
    deletion["eventTime"] = "2026-11-28T10:01:00.000Z"
    v1 = pipeline.upload("doc.pdf", PDF + b"%v1\n", event_time="2026-11-28T10:02:00.000Z")
    v2 = pipeline.upload("doc.pdf", PDF + b"%v2\n")  # its notification never comes
    if not with_sequencers:
        for record in (deletion, v1):
            record["s3"]["object"].pop("sequencer")
    pipeline.process(v1)

    pipeline.process(deletion)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.version_id) == (Status.SUCCESS, version_of(v2))


def test_a_delete_while_an_upload_is_in_flight_leaves_that_upload_its_own_verdict(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status is PROCESSING (an upload's RECEIVED is recorded, its outcome is not yet):
    a delete of another version records itself only; the upload's retry gives the verdict."""
    v0 = pipeline.upload("doc.pdf", PDF)
    pipeline.process(v0)
    v2 = pipeline.upload("doc.pdf", PDF + b"%v2\n")
    real = ObjectStore.inspect

    def crash(self: ObjectStore, upload: Any) -> Any:
        raise RuntimeError("process died after RECEIVED")

    monkeypatch.setattr(ObjectStore, "inspect", crash)
    with pytest.raises(RuntimeError):
        pipeline.process(v2)
    monkeypatch.setattr(ObjectStore, "inspect", real)
    before = len(pipeline.events("doc.pdf"))

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(v0)))
    pipeline.process(v2)

    added = [str(e.type) for e in pipeline.events("doc.pdf")[before:]]
    assert added == ["DELETED", "VALIDATED", "STORED"]
