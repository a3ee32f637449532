"""Process-wide test hygiene: no real AWS, no stray endpoint, tracing off unless asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "_X_AMZN_TRACE_ID",
        "LAMBDA_TASK_ROOT",
        "AWS_LAMBDA_FUNCTION_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(False)
    yield
    global_sdk_config.set_sdk_enabled(enabled)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The X-Ray SDK's global emitter holds a UDP socket for the life of the process."""
    emitter_socket = getattr(xray_recorder.emitter, "_socket", None)
    if emitter_socket is not None:
        emitter_socket.close()
