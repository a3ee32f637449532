"""One emulated pipeline per module: provisioning costs more than a hostile case does.

Cases stay independent because each one uploads a new object version whose sequencer is
newer than any before it, and asserts only on what that upload produced.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.call_recorder import CallRecorder
from tests.support.pipeline import Pipeline, provision, receive_all

# Small, so "exactly the limit" and "one byte over" are cheap to upload.
SIZE_LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def session() -> Iterator[boto3.session.Session]:
    """In-process emulator, active before any client exists."""
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture(scope="module")
def module_recorder(session: boto3.session.Session) -> CallRecorder:
    return CallRecorder().attach(session)


@pytest.fixture
def recorder(module_recorder: CallRecorder) -> CallRecorder:
    module_recorder.reset()
    return module_recorder


@pytest.fixture(scope="module")
def pipeline(session: boto3.session.Session, module_recorder: CallRecorder) -> Pipeline:
    return provision(session, MAX_FILE_BYTES=str(SIZE_LIMIT))


def take_dead_letters(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Receive and delete every dead letter, so the next case sees only its own."""
    return receive_all(pipeline.session.client("sqs"), pipeline.dlq_url, delete=True)
