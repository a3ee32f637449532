"""The write-unit rules the budget tests and the benchmark count with (moto reports none).

Global secondary index writes follow "Provisioned throughput considerations for global
secondary indexes" in
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html: a put when an
item enters the index, a delete plus a put when an index key attribute changes, a delete
when it leaves, one write when only projected attributes change, nothing otherwise; each
one unit per 1 KB of the index entry.
"""

from __future__ import annotations

from typing import Any

from handlers import schema
from tests.support.capacity import SecondaryIndex, index_write_units

STATUS_INDEX = SecondaryIndex.of_table(schema.create_table_request("audit"))[0]


def _status(status: str | None, **extra: str) -> dict[str, dict[str, Any]]:
    item = {"pk": {"S": "doc-1"}, "sk": {"S": "STATUS"}, "fileName": {"S": "a.png"}}
    if status is not None:
        item["statusKey"] = {"S": status}
        item["statusSort"] = {"S": "2026-11-28T10:15:30Z#doc-1"}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def test_the_status_index_is_read_from_the_table_definition() -> None:
    assert STATUS_INDEX.keys == ("statusKey", "statusSort")
    assert STATUS_INDEX.projection == "ALL"


def test_an_item_entering_the_index_costs_one_put() -> None:
    assert index_write_units(STATUS_INDEX, None, _status("PROCESSING")) == 1


def test_a_changed_index_key_costs_a_delete_and_a_put() -> None:
    assert index_write_units(STATUS_INDEX, _status("PROCESSING"), _status("SUCCESS")) == 2


def test_an_item_leaving_the_index_costs_one_delete() -> None:
    assert index_write_units(STATUS_INDEX, _status("SUCCESS"), _status(None)) == 1


def test_a_changed_projected_attribute_costs_one_write() -> None:
    before, after = _status("SUCCESS", stage="VALIDATED"), _status("SUCCESS", stage="STORED")
    assert index_write_units(STATUS_INDEX, before, after) == 1


def test_an_unchanged_entry_costs_nothing() -> None:
    assert index_write_units(STATUS_INDEX, _status("SUCCESS"), _status("SUCCESS")) == 0


def test_an_item_outside_a_sparse_index_costs_nothing() -> None:
    event = {"pk": {"S": "doc-1"}, "sk": {"S": "EVENT#0000000001"}}
    assert index_write_units(STATUS_INDEX, None, event) == 0


def test_an_index_entry_over_1_kb_costs_a_unit_per_started_kb() -> None:
    assert index_write_units(STATUS_INDEX, None, _status("SUCCESS", note="x" * 1500)) == 2


def test_a_keys_only_index_prices_the_keys_not_the_item() -> None:
    keys_only = SecondaryIndex(
        "byStatus", ("pk", "sk"), ("statusKey", "statusSort"), projection="KEYS_ONLY"
    )
    assert index_write_units(keys_only, None, _status("SUCCESS", note="x" * 2000)) == 1
