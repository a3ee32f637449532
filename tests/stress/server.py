"""moto as a real HTTP server that answers one request at a time (SQS excepted).

moto's backends are not thread-safe: two TransactWriteItems at once crash with
"dictionary changed size during iteration". Real DynamoDB makes each request atomic,
and the races filetrail must survive are between requests, so holding one lock per
request models the service faithfully while clients still interleave freely.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

HOST = "127.0.0.1"


class LockedApp:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if _service(environ) == "sqs":
            # A long poll waits inside the request; holding the lock through it would stall
            # every other client. moto's queues take their own lock.
            return list(self._app(environ, start_response))
        with self._lock:
            return list(self._app(environ, start_response))


def _service(environ: dict[str, Any]) -> str:
    """The service a SigV4 request is for: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`."""
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    scope = authorization.partition("Credential=")[2].split(",")[0].split("/")
    return scope[3] if len(scope) > 3 else ""


@dataclass(frozen=True)
class Server:
    endpoint_url: str


@contextmanager
def locked_moto_server() -> Iterator[Server]:
    app = LockedApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="locked-moto", daemon=True)
    thread.start()
    try:
        yield Server(f"http://{HOST}:{server.server_address[1]}")
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
