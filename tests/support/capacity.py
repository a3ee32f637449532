"""DynamoDB item sizes and write units, by the documented rules (moto reports none).

Rules (DynamoDB Developer Guide, "Item sizes and formats" and "Read/write capacity
mode"): an item's size is the sum of its attribute names' and values' sizes. Strings
and binary count their UTF-8 / raw length; a number counts about one byte per two
significant digits plus one; booleans and nulls one byte; lists and maps three bytes
plus, per element, the element's size plus one byte. One write unit covers 1 KB of a
standard write; a transactional write costs two units per 1 KB of each item.
"""

from __future__ import annotations

import math
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
