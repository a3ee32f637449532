"""Local mode's emulator answers one request at a time, except SQS long polls."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from filetrail.local.emulator import AtomicRequests


class Probe:
    """A WSGI app that records how many requests it is serving at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.entered = threading.Barrier(2, timeout=0.5)
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._count:
            self.inside += 1
            self.most = max(self.most, self.inside)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.entered.wait()  # both inside at once, or a timeout when serialised
        with self._count:
            self.inside -= 1
        return [b""]


def serve_two(target: str) -> int:
    probe = Probe()
    app = AtomicRequests(probe)
    environ = {"HTTP_X_AMZ_TARGET": target}
    threads = [threading.Thread(target=app, args=(environ, lambda *_: None)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    return probe.most


def test_two_table_writes_never_overlap() -> None:
    assert serve_two("DynamoDB_20120810.TransactWriteItems") == 1


def test_long_polls_do_not_hold_the_emulator() -> None:
    assert serve_two("AmazonSQS.ReceiveMessage") == 2
