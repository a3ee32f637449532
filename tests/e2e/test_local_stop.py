"""SIGTERM with work in flight: local mode exits promptly and says what it left unprocessed."""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config

from tests.e2e.conftest import LocalProcess
from tests.support.samples import PNG

UPLOADS = 120
EXIT_SECONDS = 5.0
WAIT_SECONDS = 60.0  # how long the test waits; the assertions judge the time taken


@dataclass(frozen=True)
class Stopped:
    exit_code: int | None
    seconds: float
    lines: list[dict[str, Any]]

    def one(self, message: str) -> dict[str, Any]:
        found = [line for line in self.lines if line.get("message") == message]
        assert len(found) == 1, f"{len(found)} {message!r} lines"
        return found[0]

    def count(self, message: str) -> int:
        return sum(1 for line in self.lines if line.get("message") == message)


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


@pytest.fixture(scope="module")
def stopped() -> Stopped:
    """Local mode after SIGTERM, sent once UPLOADS uploads are queued faster than it works."""
    with tempfile.TemporaryFile("w+") as stderr:
        local = LocalProcess(stderr=stderr)
        s3 = local.session.client(
            "s3",
            endpoint_url=local.ready["endpoint_url"],
            config=Config(max_pool_connections=8),
        )

        def upload(n: int) -> None:
            s3.put_object(Bucket=local.ready["bucket"], Key=f"stop/{n}.png", Body=PNG + bytes(n))

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, range(UPLOADS)))
        started = time.monotonic()
        local.process.send_signal(signal.SIGTERM)
        try:
            exit_code: int | None = local.process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            exit_code = None
        finally:
            seconds = time.monotonic() - started
            local.process.kill()
            local.stop()
        stderr.seek(0)
        return Stopped(exit_code, seconds, _json_lines(stderr.read()))


def test_sigterm_with_work_in_flight_exits_within_5_seconds(stopped: Stopped) -> None:
    assert stopped.seconds < EXIT_SECONDS


def test_sigterm_with_work_in_flight_exits_0(stopped: Stopped) -> None:
    assert stopped.exit_code == 0


def test_stop_says_how_many_notifications_were_left_unprocessed(stopped: Stopped) -> None:
    report = stopped.one("filetrail.local.stopped")

    assert report["unprocessed"] > 0


def test_every_notification_is_either_processed_or_reported_left(stopped: Stopped) -> None:
    report = stopped.one("filetrail.local.stopped")

    assert stopped.count("filetrail.outcome") + report["unprocessed"] >= UPLOADS
