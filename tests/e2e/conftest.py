"""Local mode end to end: `filetrail local --json` as a real process, driven over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import boto3
import pytest

from tests.support.moto_server import (  # noqa: F401 - fixtures for tests that need a bare server
    emulated_aws,
    moto_server,
)

READY_SECONDS = 30
T = TypeVar("T")


def filetrail_command(*args: str) -> list[str]:
    """The console script `make demo` runs, or the module when it is not installed."""
    script = Path(sys.executable).with_name("filetrail")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "filetrail", *args]


def child_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FILETRAIL_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def poll(check: Callable[[], T | None], *, timeout: float = 20.0, what: str = "condition") -> T:
    """`check()` until it returns something, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)  # polling interval of a deadline-bounded wait


class LocalProcess:
    def __init__(self, stderr: IO[str] | None = None, args: tuple[str, ...] = ()) -> None:
        """`stderr`: a file for the process's log lines (default: discarded); `args`: more
        options for `filetrail local`."""
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            filetrail_command("local", "--json", *args),
            stdout=subprocess.PIPE,
            stderr=stderr or subprocess.DEVNULL,
            text=True,
            env=child_environment(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.kill()
            pytest.fail(f"filetrail local exited with {self.process.wait()} before it was ready")
        self.ready: dict[str, Any] = json.loads(line)
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.session = session

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.ready["endpoint_url"])

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=READY_SECONDS)
        finally:
            if self.process.stdout:
                self.process.stdout.close()


@pytest.fixture(scope="module")
def local() -> Iterator[LocalProcess]:
    process = LocalProcess()
    yield process
    process.stop()


@pytest.fixture
def local_env(local: LocalProcess, monkeypatch: pytest.MonkeyPatch) -> LocalProcess:
    """The variables the ready line tells a user to export."""
    ready = local.ready
    monkeypatch.setenv("AWS_ENDPOINT_URL", ready["endpoint_url"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", ready["region"])
    monkeypatch.setenv("FILETRAIL_TABLE", ready["table"])
    monkeypatch.setenv("FILETRAIL_BUCKET", ready["bucket"])
    monkeypatch.setenv("FILETRAIL_QUEUE_URL", ready["queue_url"])
    return local
