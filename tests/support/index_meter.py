"""Write units a session's DynamoDB writes cost its tables' global secondary indexes.

moto keeps indexes but reports no consumed capacity, and the request alone does not say
what an index write costs: that depends on the item before the write. The meter reads
every item a write touches just before the request and just after it succeeds, with a
client of its own (so recorders on the measured session never see those reads), and
prices the change by DynamoDB's documented rules (tests/support/capacity.py).

It assumes one writer at a time, as the benchmark and the budget tests run. Its own reads
take time inside the measured calls: `seconds` says how much, for a timer to leave out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.support.capacity import Item, SecondaryIndex, index_write_units

_CONTEXT_KEY = "index_meter_touched"
_WRITE_TARGETS = ("Put", "Update", "Delete")


@dataclass
class _Table:
    keys: tuple[str, ...]
    indexes: list[SecondaryIndex]


def _touched(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table, key or whole item) of every item one write request may change."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(params["TableName"], params.get("Key") or params["Item"])]
    if operation == "TransactWriteItems":
        return [
            (action["TableName"], action.get("Key") or action["Item"])
            for entry in params["TransactItems"]
            for kind, action in entry.items()
            if kind in _WRITE_TARGETS
        ]
    if operation == "BatchWriteItem":
        return [
            (table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
            for table, requests in params["RequestItems"].items()
            for request in requests
        ]
    return []


@dataclass
class IndexWriteMeter:
    """Attach to the measured session; read `units` after the writes, `reset()` between.

    `reader` is a DynamoDB client on the same endpoint from another session.
    """

    reader: Any
    units: int = 0
    seconds: float = 0.0
    _tables: dict[str, _Table] = field(default_factory=dict)

    def attach(self, session: boto3.session.Session) -> IndexWriteMeter:
        session.events.register("before-parameter-build.dynamodb", self._before)
        session.events.register("after-call.dynamodb", self._after)
        return self

    def reset(self) -> None:
        self.units = 0
        self.seconds = 0.0

    def _table(self, name: str) -> _Table:
        if name not in self._tables:
            started = time.perf_counter()
            table = self.reader.describe_table(TableName=name)["Table"]
            self.seconds += time.perf_counter() - started
            self._tables[name] = _Table(
                keys=tuple(key["AttributeName"] for key in table["KeySchema"]),
                indexes=SecondaryIndex.of_table(table),
            )
        return self._tables[name]

    def _read(self, table: str, key: dict[str, Any]) -> Item | None:
        started = time.perf_counter()
        response = self.reader.get_item(TableName=table, Key=key, ConsistentRead=True)
        self.seconds += time.perf_counter() - started
        item: Item | None = response.get("Item")
        return item

    def _before(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        touched = []
        for table_name, item in _touched(model.name, params):
            table = self._table(table_name)
            if not table.indexes:
                continue
            key = {name: item[name] for name in table.keys}
            touched.append((table_name, key, self._read(table_name, key)))
        if touched:
            context[_CONTEXT_KEY] = touched

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        touched = context.pop(_CONTEXT_KEY, None)
        if not touched or http_response.status_code >= 300:
            return  # a refused write changes no index
        for table_name, key, before in touched:
            after = self._read(table_name, key)
            self.units += sum(
                index_write_units(index, before, after) for index in self._table(table_name).indexes
            )
