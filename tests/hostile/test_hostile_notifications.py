"""Hypothesis-generated notifications: fields missing, mistyped, huge, full of control
characters, wrong event versions, SQS bodies that are not JSON.

Whatever arrives, the handler either records the truth about a real object, dead-letters
the record as INVALID_EVENT without writing anything, or raises a filetrail error; it
never crashes with anything else, and its log lines keep the metrics honest.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from handlers.errors import FiletrailError
from handlers.schema import OUTCOME_MESSAGE, Outcome
from tests.hostile.conftest import take_dead_letters
from tests.hostile.metrics import expected_counts, json_lines, metric_counts
from tests.stress.options import full_size
from tests.support.call_recorder import WRITE_OPERATIONS, CallRecorder
from tests.support.pipeline import BUCKET, Pipeline
from tests.support.s3_events import s3_event, sqs_event
from tests.support.samples import PNG

pytestmark = pytest.mark.stress

SEED = 20261128
DELETE = object()

PATHS: list[tuple[str, ...]] = [
    ("eventVersion",),
    ("eventSource",),
    ("eventName",),
    ("eventTime",),
    ("awsRegion",),
    ("s3",),
    ("s3", "s3SchemaVersion"),
    ("s3", "bucket"),
    ("s3", "bucket", "name"),
    ("s3", "object"),
    ("s3", "object", "key"),
    ("s3", "object", "size"),
    ("s3", "object", "eTag"),
    ("s3", "object", "versionId"),
    ("s3", "object", "sequencer"),
    ("filetrail",),
    ("filetrail", "reprocessId"),
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), max_size=10),
    st.sampled_from(
        ["1.0", "2.1", "3.0", "2", "", "aws:s3", "ObjectCreated:Put", "ObjectRemoved:Delete"]
    ),
    st.sampled_from(["0A", "0x1F", "-1", "ff_ff", "zz", "2026-11-28T10:15:30.123Z", "yesterday"]),
    st.integers(min_value=1, max_value=3000).map(lambda n: "k" * n),
)
values = st.one_of(
    scalars,
    st.just(DELETE),
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
)
mutations = st.lists(st.tuples(st.sampled_from(PATHS), values), max_size=4)


def mutate(record: dict[str, Any], changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    mutated = copy.deepcopy(record)
    for path, value in changes:
        parent: Any = mutated
        for part in path[:-1]:
            if not isinstance(parent, dict) or not isinstance(parent.get(part), dict):
                parent = None
                break
            parent = parent[part]
        if parent is None:
            continue
        if value is DELETE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = copy.deepcopy(value)
    return mutated


Envelope = Callable[[dict[str, Any]], dict[str, Any]]
ENVELOPES: dict[str, Envelope] = {
    "direct": s3_event,
    "sqs": lambda record: sqs_event({"Records": [record]}),
}


def _examples(pytestconfig: pytest.Config) -> int:
    return 600 if full_size(pytestconfig) else 80


def _handle(pipeline: Pipeline, event: Any) -> tuple[list[str] | None, Exception | None]:
    """Outcomes the handler reported (direct), or the error it raised."""
    try:
        result = pipeline.handle(event)
    except FiletrailError as error:
        return None, error
    return [str(o) for o in result.get("outcomes", [])], None


def test_mutated_notification_never_crashes_and_never_writes_for_garbage(
    pipeline: Pipeline, recorder: CallRecorder, pytestconfig: pytest.Config
) -> None:
    original = pipeline.upload("target.png", PNG)

    @seed(SEED)
    @settings(
        max_examples=_examples(pytestconfig),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(mutations)
    def check(changes: list[tuple[tuple[str, ...], Any]]) -> None:
        record = mutate(original, changes)
        recorder.reset()
        take_dead_letters(pipeline)

        outcomes, error = _handle(pipeline, s3_event(record))

        writes = recorder.count("dynamodb", *WRITE_OPERATIONS)
        if outcomes == [Outcome.INVALID]:
            assert writes == 0, "an invalid notification wrote to the table"
            (letter,) = take_dead_letters(pipeline)
            body = json.loads(letter["Body"])
            assert (body["reason"], body["record"]) == ("INVALID_EVENT", record)
        elif error is not None:
            assert str(error), "an error without a message"
            assert writes == 0, f"wrote {writes} times before failing with {error!r}"
        elif outcomes == [Outcome.STORED]:
            obj = record["s3"]["object"]
            assert (record["s3"]["bucket"]["name"], obj["key"]) == (BUCKET, "target.png")

    check()


@pytest.mark.parametrize("envelope", sorted(ENVELOPES))
def test_mutated_notification_logs_one_outcome_line_the_filters_count_once(
    pipeline: Pipeline,
    capsys: pytest.CaptureFixture[str],
    pytestconfig: pytest.Config,
    envelope: str,
) -> None:
    original = pipeline.upload("metrics.png", PNG)
    wrap = ENVELOPES[envelope]

    @seed(SEED)
    @settings(
        max_examples=_examples(pytestconfig) // 2,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(mutations)
    def check(changes: list[tuple[tuple[str, ...], Any]]) -> None:
        capsys.readouterr()
        with contextlib.suppress(FiletrailError):  # its error line is checked below
            pipeline.handle(wrap(mutate(original, changes)))
        lines = json_lines(capsys.readouterr().out)
        logged = [json.loads(line) for line in lines]
        outcomes = [line for line in logged if line.get("message") == OUTCOME_MESSAGE]
        # Plus, at most, the record the handler made to match what S3 now serves.
        assert len([line for line in outcomes if not line.get("reconciled")]) == 1, logged
        assert len(outcomes) <= 2, logged
        assert metric_counts(lines) == expected_counts([line["outcome"] for line in outcomes])

    check()


@pytest.mark.parametrize(
    "body", ["", "not json {", "[1, 2]", "null", '"Records"', '{"Records": "x"}', "{}"]
)
def test_sqs_body_that_is_not_a_notification_is_dead_lettered_as_invalid(
    pipeline: Pipeline, recorder: CallRecorder, body: str
) -> None:
    take_dead_letters(pipeline)

    result = pipeline.handle(sqs_event(body))

    assert result == {"batchItemFailures": []}
    (letter,) = take_dead_letters(pipeline)
    assert json.loads(letter["Body"])["reason"] == "INVALID_EVENT"
    assert recorder.count("dynamodb", *WRITE_OPERATIONS) == 0
