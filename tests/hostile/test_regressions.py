"""Invariant violations the hostile-input scenarios found, each now a regression test.

Each was pinned as a strict xfail while the bug stood and now guards its fix.
Listed in docs/stress.md.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile.conftest import take_dead_letters
from tests.support.call_recorder import WRITE_OPERATIONS, CallRecorder
from tests.support.pipeline import Pipeline
from tests.support.samples import PNG

pytestmark = pytest.mark.stress


def test_notification_naming_an_impossible_bucket_is_invalid_and_writes_nothing(
    pipeline: Pipeline, recorder: CallRecorder
) -> None:
    record = pipeline.upload("a.png", PNG)
    record["s3"]["bucket"]["name"] = "Not A Bucket\n"
    recorder.reset()

    result = pipeline.process(record)

    assert (result, recorder.count("dynamodb", *WRITE_OPERATIONS)) == ({"outcomes": ["INVALID"]}, 0)


def test_removal_naming_an_impossible_bucket_is_invalid_and_writes_nothing(
    pipeline: Pipeline, recorder: CallRecorder
) -> None:
    record = pipeline.delete("a.png")
    record["s3"]["bucket"]["name"] = "Not A Bucket\n"
    recorder.reset()

    result = pipeline.process(record)

    assert (result, recorder.count("dynamodb", *WRITE_OPERATIONS)) == ({"outcomes": ["INVALID"]}, 0)


def test_size_beyond_any_s3_object_is_invalid(pipeline: Pipeline) -> None:
    record = pipeline.upload("b.png", PNG)
    record["s3"]["object"]["size"] = 10**40

    assert pipeline.process(record) == {"outcomes": ["INVALID"]}


def test_oversized_etag_is_dead_lettered_as_invalid(pipeline: Pipeline) -> None:
    record = pipeline.upload("c.png", PNG)
    record["s3"]["object"]["eTag"] = "e" * 500_000
    take_dead_letters(pipeline)

    result = pipeline.process(record)

    assert result == {"outcomes": ["INVALID"]}
    (letter,) = take_dead_letters(pipeline)
    body = json.loads(letter["Body"])
    assert (body["reason"], "s3.object.eTag" in body["error"]) == ("INVALID_EVENT", True)


@pytest.mark.parametrize("sequencer", ["-1", "0x1F", "ff_ff", " 1F "])
def test_sequencer_that_is_not_plain_hex_is_invalid(pipeline: Pipeline, sequencer: str) -> None:
    record = pipeline.upload("d.png", PNG)
    record["s3"]["object"]["sequencer"] = sequencer

    assert pipeline.process(record) == {"outcomes": ["INVALID"]}
