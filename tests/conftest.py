"""Process-wide test hygiene: no real AWS, no stray endpoint, no trace context unless asked."""

from __future__ import annotations

import sys

import pytest

from filetrail.local.emulator import patch_moto
from handlers import tracing


@pytest.fixture(autouse=True)
def _offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Emitters hold a UDP socket for the life of the process: the tracer's, and the X-Ray
    SDK's when moto's X-Ray backend has imported it (the SDK builds one at import)."""
    tracing.close()
    sdk = sys.modules.get("aws_xray_sdk.core")
    sdk_socket = getattr(
        getattr(getattr(sdk, "xray_recorder", None), "emitter", None), "_socket", None
    )
    if sdk_socket is not None:
        sdk_socket.close()


def pytest_configure(config: pytest.Config) -> None:
    """Every test, in-process mock or HTTP server, runs moto as local mode runs it."""
    patch_moto()
