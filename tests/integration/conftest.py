from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.pipeline import Pipeline, provision


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    """In-process emulator, active before any client exists."""
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def pipeline(session: boto3.session.Session) -> Pipeline:
    return provision(session)
