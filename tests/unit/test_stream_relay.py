"""Local mode's stand-in for Lambda's stream event source: filter, batch, retry from failure."""

from __future__ import annotations

from typing import Any

import pytest

from filetrail.local import stream_relay
from filetrail.local.stream_relay import StreamRelay, matches
from handlers.notification import stream_filter_pattern


def record(seq: str, sort_key: str = "EVENT#0000000003", kind: str = "STORED") -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": seq,
            "NewImage": {"sk": {"S": sort_key}, "type": {"S": kind}},
        },
    }


@pytest.mark.parametrize(
    ("candidate", "passes"),
    [
        (record("1"), True),
        (record("1", kind="REJECTED"), True),
        (record("1", kind="RECEIVED"), False),
        (record("1", sort_key="STATUS"), False),
        (record("1", sort_key="UPLOAD#abc#OUTCOME"), False),
        ({**record("1"), "eventName": "MODIFY"}, False),
    ],
)
def test_filter_passes_only_inserted_terminal_events(
    candidate: dict[str, Any], passes: bool
) -> None:
    assert matches(stream_filter_pattern(), candidate) is passes


class Handler:
    """Fails the records named in `failing` (a count of failures each), like the notifier."""

    def __init__(self, failing: dict[str, int]) -> None:
        self.failing = dict(failing)
        self.published: list[str] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        for item in event["Records"]:
            seq = item["dynamodb"]["SequenceNumber"]
            if self.failing.get(seq, 0) > 0:
                self.failing[seq] -= 1
                return {"batchItemFailures": [{"itemIdentifier": seq}]}
            self.published.append(seq)
        return {"batchItemFailures": []}


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_relay.time, "sleep", lambda _: None)


def test_a_failed_record_is_retried_from_itself_and_nothing_is_skipped() -> None:
    handler = Handler({"2": 1})
    relay = StreamRelay(None, "arn", stream_filter_pattern(), handler)

    relay._deliver([record("1"), record("2"), record("3")])

    assert handler.published == ["1", "2", "3"]
    assert (relay.published, relay.given_up) == (3, 0)


def test_a_record_that_always_fails_is_given_up_and_the_rest_delivered() -> None:
    handler = Handler({"2": 99})
    relay = StreamRelay(None, "arn", stream_filter_pattern(), handler)

    relay._deliver([record("1"), record("2"), record("3")])

    assert handler.published == ["1", "3"]
    assert relay.given_up == 1
