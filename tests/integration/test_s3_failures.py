"""How S3's answers to the handler's read and tag become verdicts, or retries.

moto cannot produce most of these answers for a real object (archived objects, bad
signatures), so a botocore event hook on the handler's own S3 client answers in their
place, with the error shape S3 sends.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.errors import AwsError
from handlers.events import parse_s3_record
from tests.support.pipeline import BUCKET, Pipeline
from tests.support.samples import PDF, PNG


def fail_s3(pipeline: Pipeline, operation: str, code: str, status: int) -> None:
    client = pipeline.runtime.processor._objects._client

    def answer(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {"Code": code, "Message": code},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )

    client.meta.events.register(f"before-call.s3.{operation}", answer)


def test_access_denied_read_is_not_found_as_s3_answers_without_list_bucket(
    pipeline: Pipeline,
) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    fail_s3(pipeline, "GetObject", "AccessDenied", 403)

    pipeline.process(record)

    assert pipeline.events("doc.pdf")[-1].reason == "NOT_FOUND"


@pytest.mark.parametrize(
    "code", ["SignatureDoesNotMatch", "InvalidAccessKeyId", "AllAccessDisabled"]
)
def test_other_403s_are_retried_never_recorded_as_a_verdict(pipeline: Pipeline, code: str) -> None:
    record = pipeline.upload("doc.pdf", PDF)
    fail_s3(pipeline, "GetObject", code, 403)

    with pytest.raises(AwsError, match=code):
        pipeline.process(record)

    assert pipeline.types("doc.pdf") == ["RECEIVED"]


def test_archived_object_is_rejected_as_archived(pipeline: Pipeline) -> None:
    record = pipeline.upload("cold.pdf", PDF)
    fail_s3(pipeline, "GetObject", "InvalidObjectState", 403)

    pipeline.process(record)

    assert pipeline.events("cold.pdf")[-1].reason == "ARCHIVED"


def test_empty_object_keeps_the_uploaders_tags(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("empty.txt", b"", tags="team=a"))

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="empty.txt")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [
        ("filetrail-status", "REJECTED"),
        ("team", "a"),
    ]


def test_unversioned_overwrite_between_read_and_tag_never_leaves_the_new_object_stored(
    pipeline: Pipeline,
) -> None:
    first = pipeline.upload("pic.png", PNG, with_version=False)
    store = pipeline.runtime.processor._objects
    parsed = parse_s3_record(first)
    inspection = store.inspect(parsed)
    pipeline.upload("pic.png", b"MZ" + b"\x00" * 62, with_version=False)  # attacker overwrites

    store.tag(parsed, "STORED", inspection.etag, inspection.tag_count)

    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="pic.png")["TagSet"]
    assert tags == [{"Key": "filetrail-status", "Value": "PENDING"}]
