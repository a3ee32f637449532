"""Invariant violations found by the fault scenarios, pinned until fixed (docs/stress.md)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from tests.stress.harness import stack
from tests.support.pipeline import LambdaContext
from tests.support.s3_events import s3_event
from tests.support.samples import PNG

pytestmark = pytest.mark.stress


class LoseResponse:
    """Send the nth TransactWriteItems for real, then report a read timeout."""

    def __init__(self, nth: int) -> None:
        self._nth = nth
        self._seen = 0
        self._http = URLLib3Session()

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> None:
        self._seen += 1
        if self._seen == self._nth:
            self._http.send(request)
            raise ReadTimeoutError(endpoint_url=request.url)


def _process_losing_the_outcome_response() -> tuple[dict[str, Any], list[str]]:
    with stack() as env:
        record = env.pipeline.upload("a.png", PNG)
        session = env.session()
        session.events.register("before-send.dynamodb.TransactWriteItems", LoseResponse(2))
        result = env.runtime(session).handle(s3_event(record), LambdaContext("req-1"))
        return result, env.pipeline.types("a.png")


def test_outcome_write_whose_response_was_lost_is_recorded_once() -> None:
    _, types = _process_losing_the_outcome_response()

    assert types == ["RECEIVED", "VALIDATED", "STORED"]


def test_outcome_write_whose_response_was_lost_is_logged_as_its_outcome() -> None:
    result, _ = _process_losing_the_outcome_response()

    assert result == {"outcomes": ["STORED"]}
