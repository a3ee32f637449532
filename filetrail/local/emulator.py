"""moto as a real HTTP server on which each request is atomic, as on AWS.

moto's backends are not thread-safe: with two dispatchers, one TransactWriteItems can
interleave with another between its condition checks and its writes (a lost update that
real DynamoDB never allows), or crash copying a table another thread is changing. AWS
makes each request atomic and filetrail survives every race *between* requests, so one
lock per request models the service faithfully. SQS long polls are the exception: they
wait for messages and would hold everyone else up, and moto's queues guard themselves.

The server also runs moto with filetrail's fixes (`patch_moto`): whatever runs this
emulator, local mode or a test, runs the same one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from filetrail.local import notifications, queues, transactions

_UNLOCKED_TARGETS = frozenset({"AmazonSQS.ReceiveMessage"})


class AtomicRequests:
    """WSGI middleware: one emulated request at a time, long polls aside."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], lock: threading.Lock | None = None
    ) -> None:
        self._app = app
        self._lock = lock or threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") in _UNLOCKED_TARGETS:
            return list(self._app(environ, start_response))
        with self._lock:
            return list(self._app(environ, start_response))


def patch_moto() -> None:
    """moto as filetrail runs it (process-wide, idempotent): transactions and queues whose
    cost does not grow with what they hold, and the S3 notifications AWS sends."""
    transactions.install()
    queues.install()
    notifications.install()


class _QuietRequestHandler(MotoRequestHandler):
    """werkzeug formats a line for every request before its logger (at ERROR) drops it."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class AtomicMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` whose requests are atomic (see the module docstring)."""

    def __init__(self, ip_address: str = "0.0.0.0", port: int = 5000, verbose: bool = True):  # noqa: S104 - moto's default
        super().__init__(ip_address, port, verbose)
        self._requests_lock = threading.Lock()

    @contextmanager
    def between_requests(self) -> Iterator[None]:
        """No request runs while this is held: the backends can be read or written whole."""
        with self._requests_lock:
            yield

    def start(self) -> None:
        patch_moto()
        super().start()

    def _server_entry(self) -> None:
        app = AtomicRequests(DomainDispatcherApplication(create_backend_app), self._requests_lock)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=_QuietRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
