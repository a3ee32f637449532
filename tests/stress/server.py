"""moto as a real HTTP server that answers one request at a time (SQS excepted).

moto's backends are not thread-safe: two TransactWriteItems at once crash with
"dictionary changed size during iteration". Real DynamoDB makes each request atomic,
and the races filetrail must survive are between requests, so holding one lock per
request models the service faithfully while clients still interleave freely.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
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


class _OneBackupPerTable:
    """Stands in for the `copy` module inside moto's DynamoDB backend.

    moto's TransactWriteItems deep-copies the whole table once per *item* in the
    transaction, as a rollback backup. The copies are identical, so one per table per
    call is the same backup; it keeps a 1,000-upload scenario from spending its time
    copying a table of thousands of items four times per write. Semantics are unchanged.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        cache: dict[int, Any] | None = getattr(self._local, "tables", None)
        if cache is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in cache:
            cache[id(value)] = copy.deepcopy(value)
        return cache[id(value)]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._local.tables = {}
        try:
            yield
        finally:
            self._local.tables = None


@contextmanager
def one_backup_per_table() -> Iterator[None]:
    shim = _OneBackupPerTable()
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: Any) -> None:
        with shim.transaction():
            original(self, transact_items)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dynamodb_models, "copy", shim)
        patch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
        yield
