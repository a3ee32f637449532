"""DynamoDB item sizes and write units, by the documented rules (moto reports none).

Rules (DynamoDB Developer Guide, "Item sizes and formats" and "Read/write capacity
mode"): an item's size is the sum of its attribute names' and values' sizes. Strings
and binary count their UTF-8 / raw length; a number counts about one byte per two
significant digits plus one; booleans and nulls one byte; lists and maps three bytes
plus, per element, the element's size plus one byte. One write unit covers 1 KB of a
standard write; a transactional write costs two units per 1 KB of each item
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling).

A write that changes what a global secondary index holds also consumes write units for
the index (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html,
"Provisioned throughput considerations for global secondary indexes", which on-demand
tables pay for as write request units alike): an item entering the index costs one put,
a change of an index key attribute a delete of the old entry plus a put of the new one,
an item leaving it one delete, a change of projected attributes only one write, and a
write that leaves the index entry as it was nothing. Each costs one unit per 1 KB of the
index entry: the table's key, the index's key and the projected attributes. AWS documents
the double charge for the items a transaction writes, not for the index propagation that
follows it, so index writes are counted at the standard rate; the 100 bytes of overhead
per index entry are documented for storage, not for write units, and are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WRITE_UNIT_BYTES = 1024


def value_size(value: dict[str, Any]) -> int:
    """Size of one DynamoDB AttributeValue in wire form, e.g. {"S": "abc"}."""
    ((kind, payload),) = value.items()
    if kind == "S":
        return len(payload.encode("utf-8"))
    if kind == "B":
        return len(payload)
    if kind == "N":
        digits = Decimal(payload).normalize().as_tuple().digits
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in payload)
    if kind == "M":
        return 3 + sum(
            len(name.encode()) + value_size(element) + 1 for name, element in payload.items()
        )
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in payload)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(item: dict[str, dict[str, Any]], *, transactional: bool) -> int:
    units = max(1, math.ceil(item_size(item) / WRITE_UNIT_BYTES))
    return units * 2 if transactional else units


def request_write_units(operation: str, params: dict[str, Any]) -> int:
    """Write units one recorded DynamoDB request consumes."""
    if operation == "TransactWriteItems":
        return sum(
            write_units(next(iter(entry.values())).get("Item", {}), transactional=True)
            for entry in params["TransactItems"]
        )
    if operation == "PutItem":
        return write_units(params["Item"], transactional=False)
    if operation == "BatchWriteItem":
        return sum(
            write_units(request["PutRequest"]["Item"], transactional=False)
            for requests in params["RequestItems"].values()
            for request in requests
            if "PutRequest" in request
        )
    return 0


Item = Mapping[str, dict[str, Any]]


@dataclass(frozen=True)
class SecondaryIndex:
    """What one global secondary index copies out of a table item."""

    name: str
    table_keys: tuple[str, ...]
    keys: tuple[str, ...]
    projection: str = "ALL"
    non_key_attributes: frozenset[str] = frozenset()

    @classmethod
    def of_table(cls, table: Mapping[str, Any]) -> list[SecondaryIndex]:
        """The global secondary indexes of a `DescribeTable` (or `CreateTable`) table."""
        table_keys = tuple(key["AttributeName"] for key in table["KeySchema"])
        return [
            cls(
                name=index["IndexName"],
                table_keys=table_keys,
                keys=tuple(key["AttributeName"] for key in index["KeySchema"]),
                projection=index["Projection"]["ProjectionType"],
                non_key_attributes=frozenset(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in table.get("GlobalSecondaryIndexes", ())
        ]

    def entry(self, item: Item | None) -> dict[str, dict[str, Any]] | None:
        """The index entry an item makes, or None: an item without every index key is
        not in the index (a sparse index)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        kept = {*self.table_keys, *self.keys}
        if self.projection == "INCLUDE":
            kept |= self.non_key_attributes
        return {name: value for name, value in item.items() if name in kept}


def _standard_units(entry: Item) -> int:
    return write_units(dict(entry), transactional=False)


def index_write_units(index: SecondaryIndex, before: Item | None, after: Item | None) -> int:
    """Write units a table write from `before` to `after` (None: no item) costs `index`."""
    old, new = index.entry(before), index.entry(after)
    if new is None:
        return 0 if old is None else _standard_units(old)
    if old is None:
        return _standard_units(new)
    if any(old[key] != new[key] for key in index.keys):
        return _standard_units(old) + _standard_units(new)
    if old == new:
        return 0
    return max(_standard_units(old), _standard_units(new))
