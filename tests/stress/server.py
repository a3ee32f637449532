"""The stress scenarios' emulator: local mode's atomic moto server
(filetrail/local/emulator.py), and a cheaper rollback copy in moto's transactions."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from filetrail.local.emulator import AtomicMotoServer

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    endpoint_url: str


@contextmanager
def locked_moto_server() -> Iterator[Server]:
    """Local mode's own emulator (atomic requests), on a free port."""
    server = AtomicMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        yield Server(f"http://{HOST}:{server.get_host_and_port()[1]}")
    finally:
        server.stop()


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
