"""moto as a real HTTP server on 127.0.0.1, shared by a test session.

Tests point boto3 at it through the standard variables (AWS_ENDPOINT_URL and fake
credentials), set with monkeypatch before any client exists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from filetrail.local.emulator import AtomicMotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    port: int


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = AtomicMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    yield MotoServer(f"http://127.0.0.1:{port}", port)
    server.stop()


@pytest.fixture
def emulated_aws(monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer) -> MotoServer:
    """The standard AWS variables aimed at the server, with credentials that are not real."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "FILETRAIL_TABLE",
        "FILETRAIL_BUCKET",
        "FILETRAIL_FUNCTION",
        "FILETRAIL_QUEUE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `pulumi` to fall back on
    return moto_server
