"""No log line carries a credential, at any log level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import boto3
import pytest

from handlers import schema
from tests.support.pipeline import provision
from tests.support.samples import PDF

ACCESS_KEY = "ASIAFILETRAILLOGTEST"
SECRET_KEY = "secret-key-that-must-never-be-logged"
SESSION_TOKEN = "session-token-that-must-never-be-logged"


@pytest.fixture
def lambda_root_logger() -> Iterator[io.StringIO]:
    """The Python runtime's own handler on the root logger, at the function's level.

    With log-level filtering, Lambda sets the root logger to the application log level, so
    every library logger that propagates reaches CloudWatch:
    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
    """
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


def test_debug_logs_carry_no_credentials(
    session: boto3.session.Session,
    lambda_root_logger: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler_session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
        region_name="us-east-1",
    )
    pipeline = provision(session, handler_session, **{schema.ENV_LOG_LEVEL: "DEBUG"})
    # From here on, as in Lambda: the runtime is built, the invocations follow.
    lambda_root_logger.seek(0)
    lambda_root_logger.truncate()
    capsys.readouterr()

    pipeline.process(pipeline.upload("doc.pdf", PDF))

    logged = lambda_root_logger.getvalue() + capsys.readouterr().out
    assert "filetrail.outcome" in logged
    for secret in (SESSION_TOKEN, SECRET_KEY, "Signature=", "Authorization", "Security-Token"):
        assert secret.lower() not in logged.lower()
