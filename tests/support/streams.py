"""What Lambda hands the notifier: the audit table's stream records, filtered.

moto records the stream (DynamoDB Streams) but runs no event source mapping, so this reads
every shard in order and applies the mapping's filter pattern with a matcher written from
Lambda's filtering rules for the forms the pattern uses (a list of exact values, or
`{"prefix": ...}`), independently of the code that builds the pattern:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.config import Config


def stream_records(session: Any, table_name: str) -> list[dict[str, Any]]:
    table = session.client("dynamodb").describe_table(TableName=table_name)["Table"]
    # botocore would address a stream ARN's account-based endpoint, which moto does not serve.
    streams = session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = table["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    for name, expected in pattern.items():
        if not isinstance(value, Mapping) or name not in value:
            return False
        actual = value[name]
        if isinstance(expected, Mapping):
            if not matches(expected, actual):
                return False
            continue
        if not any(_matches_one(rule, actual) for rule in expected):
            return False
    return True


def _matches_one(rule: Any, actual: Any) -> bool:
    if isinstance(rule, Mapping):
        (kind, operand), *_ = rule.items()
        if kind != "prefix":
            raise AssertionError(f"filter rule {kind} is not modelled")
        return isinstance(actual, str) and actual.startswith(operand)
    return bool(rule == actual)


def lambda_event(records: list[dict[str, Any]], pattern: Mapping[str, Any]) -> dict[str, Any]:
    """The notifier's event: the records that pass the filter, in stream order."""
    return {"Records": [r for r in records if matches(pattern, r)]}
