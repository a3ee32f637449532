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


def test_access_denied_read_is_retried_never_recorded_not_found(pipeline: Pipeline) -> None:
    """The role holds s3:ListBucket, so S3 answers a missing object 404; a 403 AccessDenied
    is a real denial, e.g. an SSE-KMS object under a key the role may not use:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html"""
    record = pipeline.upload("doc.pdf", PDF)
    fail_s3(pipeline, "GetObject", "AccessDenied", 403)

    with pytest.raises(AwsError, match="AccessDenied"):
        pipeline.process(record)

    assert pipeline.types("doc.pdf") == ["RECEIVED"]


def test_sse_c_object_is_rejected_with_its_own_reason(pipeline: Pipeline) -> None:
    """S3 answers a read of an SSE-C object made without the customer key with 400
    InvalidRequest: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"""
    record = pipeline.upload("secret.pdf", PDF)
    client = pipeline.runtime.processor._objects._client

    def answer(**_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "InvalidRequest",
                    "Message": "The object was stored using a form of Server Side Encryption. "
                    "The correct parameters must be provided to retrieve the object.",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "GetObject",
        )

    client.meta.events.register("before-call.s3.GetObject", answer)

    pipeline.process(record)

    assert [(str(e.type), e.reason) for e in pipeline.events("secret.pdf")] == [
        ("RECEIVED", None),
        ("REJECTED", "UNSUPPORTED_ENCRYPTION"),
    ]
    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key="secret.pdf")["TagSet"]
    assert tags == [{"Key": "filetrail-status", "Value": "REJECTED"}]


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
