"""Invariant violations found by the hostile-input scenarios, pinned until fixed.

Each is a strict xfail: it fails today for the reason given, and turns into an XPASS
(a failure) the day the handler is fixed, so the marker cannot outlive the bug.
Listed in docs/stress.md.
"""

from __future__ import annotations

import decimal

import pytest

from handlers.errors import AwsError
from tests.hostile.conftest import take_dead_letters
from tests.support.call_recorder import CallRecorder
from tests.support.pipeline import Pipeline
from tests.support.samples import PNG

pytestmark = pytest.mark.stress

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def _writes(recorder: CallRecorder) -> int:
    return sum(1 for c in recorder.calls if c.service == "dynamodb" and c.operation in WRITES)


@pytest.mark.xfail(
    strict=True,
    raises=AwsError,
    reason="bug 1: s3.bucket.name is not validated at parse time; RECEIVED and a PROCESSING "
    "status item are written, then GetObject fails botocore's bucket-name check with a "
    "non-transient AwsError on every retry, leaving the stream PROCESSING for ever",
)
def test_notification_naming_an_impossible_bucket_is_invalid_and_writes_nothing(
    pipeline: Pipeline, recorder: CallRecorder
) -> None:
    record = pipeline.upload("a.png", PNG)
    record["s3"]["bucket"]["name"] = "Not A Bucket\n"
    recorder.reset()

    result = pipeline.process(record)

    assert (result, _writes(recorder)) == ({"outcomes": ["INVALID"]}, 0)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="bug 1 (removal path): a removal notification naming a bucket S3 could never "
    "have is recorded as DELETED without any S3 call",
)
def test_removal_naming_an_impossible_bucket_is_invalid_and_writes_nothing(
    pipeline: Pipeline, recorder: CallRecorder
) -> None:
    record = pipeline.delete("a.png")
    record["s3"]["bucket"]["name"] = "Not A Bucket\n"
    recorder.reset()

    result = pipeline.process(record)

    assert (result, _writes(recorder)) == ({"outcomes": ["INVALID"]}, 0)


@pytest.mark.xfail(
    strict=True,
    raises=decimal.Rounded,
    reason="bug 2: s3.object.size is not bounded; a size over DynamoDB's 38-digit numbers "
    "crashes the serializer with decimal.Rounded (no filetrail error, no clear message), "
    "so the record is retried instead of dead-lettered as INVALID_EVENT",
)
def test_size_beyond_any_s3_object_is_invalid(pipeline: Pipeline) -> None:
    record = pipeline.upload("b.png", PNG)
    record["s3"]["object"]["size"] = 10**40

    assert pipeline.process(record) == {"outcomes": ["INVALID"]}


@pytest.mark.xfail(
    strict=True,
    raises=AwsError,
    reason="bug 3: string fields (eTag, versionId, sequencer) are not bounded; a 500 kB "
    "eTag makes the RECEIVED item exceed 400 KB and fails with a ValidationException "
    "on every retry instead of being dead-lettered once as INVALID_EVENT",
)
def test_oversized_etag_is_dead_lettered_as_invalid(pipeline: Pipeline) -> None:
    record = pipeline.upload("c.png", PNG)
    record["s3"]["object"]["eTag"] = "e" * 500_000
    take_dead_letters(pipeline)

    result = pipeline.process(record)

    assert result == {"outcomes": ["INVALID"]}


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="bug 4 (minor): is_hex uses int(value, 16), which accepts '-1', '0x1F', 'ff_ff' "
    "and surrounding spaces; such a sequencer is stored and compared character by "
    "character, so a forged one can sort before or after real ones",
)
@pytest.mark.parametrize("sequencer", ["-1", "0x1F", "ff_ff", " 1F "])
def test_sequencer_that_is_not_plain_hex_is_invalid(pipeline: Pipeline, sequencer: str) -> None:
    record = pipeline.upload("d.png", PNG)
    record["s3"]["object"]["sequencer"] = sequencer

    assert pipeline.process(record) == {"outcomes": ["INVALID"]}
