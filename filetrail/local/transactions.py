"""moto's TransactWriteItems with a rollback of only the items a transaction touches.

moto backs a transaction up by deep-copying every table it names, once per item, so each
write costs more than the last and the copies (full of reference cycles) pile up until
the cyclic collector runs: local mode slowed to a crawl and grew by gigabytes. A
transaction can only change the items it names, so a copy of those items taken before it
runs (and the length of the table's stream) is the same backup at a constant cost. The
emulator serves one request at a time (emulator.AtomicRequests), so nothing else changes
those items between the backup and a rollback.

moto's own code still does everything else (validation, conditions, cancellation reasons):
only its whole-table backup is skipped, by handing the one module that takes it a `copy`
whose `deepcopy` returns a table as it is. moto's rollback then puts back the very table it
holds, and the journal below restores the items.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_installed = False
_install_lock = threading.Lock()
_moto_transact_write_items = DynamoDBBackend.transact_write_items


class _CopyKeepingTables:
    """`copy` as moto's DynamoDB backend module sees it: a table is never deep-copied.

    That module deep-copies a table only to back up a transaction (an item, elsewhere,
    still gets a real copy); the transaction's journal takes that backup's place.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


@dataclass(frozen=True)
class _Saved:
    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    item: Item | None


class Journal:
    """The items a transaction may change, as they were before it ran."""

    def __init__(self, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        self._saved: list[_Saved] = []
        self._streams: list[tuple[Any, int]] = []
        tables: dict[str, Table] = {}
        for entry in transact_items:
            for action in entry.values():
                saved = _save(backend, action)
                if saved is None:
                    continue  # moto rejects what it cannot resolve before writing anything
                self._saved.append(saved)
                tables[saved.table.name] = saved.table
        for table in tables.values():
            if table.stream_shard is not None:
                self._streams.append((table.stream_shard, len(table.stream_shard.items)))

    def restore(self) -> None:
        for saved in self._saved:
            _put_back(saved)
        for shard, length in self._streams:
            del shard.items[length:]  # a cancelled transaction leaves no stream record


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    journal = Journal(self, transact_items)
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        journal.restore()
        raise


def install() -> None:
    """Patch moto (process-wide, once): every emulator filetrail runs uses this rollback."""
    global _installed  # noqa: PLW0603 - moto's backends are process-wide too
    with _install_lock:
        if _installed:
            return
        dynamodb_models.copy = _CopyKeepingTables()  # type: ignore[attr-defined,assignment]
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _installed = True


def _save(backend: DynamoDBBackend, action: Any) -> _Saved | None:
    """A copy of the item an action names (by table name or ARN, as moto resolves it)."""
    if not isinstance(action, dict):
        return None
    try:
        table = backend.get_table(str(action.get("TableName")))
        key = _key_of(table, action)
        if key is None:
            return None
        return _Saved(table, *key, copy.deepcopy(_stored(table, *key)))
    except (ResourceNotFoundException, AttributeError, IndexError, TypeError, ValueError):
        return None


def _key_of(table: Table, action: dict[str, Any]) -> tuple[DynamoType, DynamoType | None] | None:
    attributes = action.get("Item") if "Item" in action else action.get("Key")
    if not isinstance(attributes, dict) or table.hash_key_attr not in attributes:
        return None
    range_key = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in attributes:
            return None
        range_key = DynamoType(attributes[table.range_key_attr])
    return DynamoType(attributes[table.hash_key_attr]), range_key


def _stored(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    """The stored item, read without `Table.get_item` (which adds empty partitions)."""
    items: dict[Any, Any] = table.items
    stored = items.get(hash_key)
    if range_key is None:
        return stored
    return stored.get(range_key) if stored is not None else None


def _put_back(saved: _Saved) -> None:
    items: dict[Any, Any] = saved.table.items
    if saved.range_key is None:
        if saved.item is None:
            items.pop(saved.hash_key, None)
        else:
            items[saved.hash_key] = saved.item
        return
    partition = items.setdefault(saved.hash_key, {})
    if saved.item is None:
        partition.pop(saved.range_key, None)
        if not partition:
            del items[saved.hash_key]
    else:
        partition[saved.range_key] = saved.item
