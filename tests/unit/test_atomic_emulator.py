"""Local mode's emulator: one request at a time (SQS long polls aside), and transactions
that stay atomic while costing the same however much the table holds."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from filetrail.local import transactions
from filetrail.local.emulator import AtomicRequests

TABLE = "atomic-test"


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


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    transactions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def _key(pk: str, sk: str = "S") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _put(client: Any, pk: str, **attributes: str) -> None:
    item = _key(pk) | {name: {"S": value} for name, value in attributes.items()}
    client.put_item(TableName=TABLE, Item=item)


def _items(client: Any, *pks: str) -> dict[str, dict[str, Any] | None]:
    return {
        pk: client.get_item(TableName=TABLE, Key=_key(pk), ConsistentRead=True).get("Item")
        for pk in pks
    }


def _stream_records() -> int:
    """Read from the backend: moto's mock does not serve the DynamoDB Streams API."""
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)
    return len(table.stream_shard.items)


def _writes_then_a_failed_check() -> list[dict[str, Any]]:
    """Every kind of write, then a condition that fails: all of it must be undone."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("updated"),
                "UpdateExpression": "SET colour = :c, added = :a",
                "ExpressionAttributeValues": {":c": {"S": "blue"}, ":a": {"S": "yes"}},
            }
        },
        {"Put": {"TableName": TABLE, "Item": _key("replaced") | {"colour": {"S": "green"}}}},
        {"Put": {"TableName": TABLE, "Item": _key("created") | {"colour": {"S": "new"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("deleted")}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": _key("missing"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ]


def test_cancelled_transaction_leaves_every_touched_item_as_before(dynamodb: Any) -> None:
    for pk in ("updated", "replaced", "deleted", "untouched"):
        _put(dynamodb, pk, colour="red")
    before = _items(dynamodb, "updated", "replaced", "created", "deleted", "untouched", "missing")

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=_writes_then_a_failed_check())

    assert _items(dynamodb, *before) == before


def test_cancelled_transaction_reports_which_item_failed(dynamodb: Any) -> None:
    for pk in ("updated", "replaced", "deleted"):
        _put(dynamodb, pk, colour="red")

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=_writes_then_a_failed_check())

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]


def test_transaction_rejected_midway_leaves_no_item_behind(dynamodb: Any) -> None:
    # Two actions on one item: moto writes the first, then rejects the request.
    item = {"TableName": TABLE, "Item": _key("twice") | {"n": {"S": "1"}}}

    with pytest.raises(dynamodb.exceptions.ClientError):
        dynamodb.transact_write_items(TransactItems=[{"Put": item}, {"Put": item}])

    assert _items(dynamodb, "twice") == {"twice": None}


def test_cancelled_transaction_adds_no_stream_record(dynamodb: Any) -> None:
    for pk in ("updated", "replaced", "deleted"):
        _put(dynamodb, pk, colour="red")
    recorded = _stream_records()

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=_writes_then_a_failed_check())

    assert _stream_records() == recorded


def test_committed_transaction_applies_every_item(dynamodb: Any) -> None:
    for pk in ("updated", "replaced", "deleted"):
        _put(dynamodb, pk, colour="red")
    actions = _writes_then_a_failed_check()[:-1]

    dynamodb.transact_write_items(TransactItems=actions)

    items = _items(dynamodb, "updated", "replaced", "created", "deleted")
    assert {pk: item and item["colour"]["S"] for pk, item in items.items()} == {
        "updated": "blue",
        "replaced": "green",
        "created": "new",
        "deleted": None,
    }


def test_transaction_never_copies_a_whole_table(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table copy per transaction makes each write cost more than the last (issue 9)."""
    for n in range(20):
        _put(dynamodb, f"existing-{n}", colour="red")
    copied: list[type] = []
    real_deepcopy = copy.deepcopy

    def recording(value: Any, memo: dict[int, Any] | None = None) -> Any:
        copied.append(type(value))
        return real_deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", recording)

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=_writes_then_a_failed_check())

    assert Table not in copied
