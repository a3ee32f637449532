"""A local stack's contents, captured from the emulator and put back into a fresh one, are
served back as they were: judged through S3, DynamoDB and SQS's own APIs."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest
from moto import mock_aws

from filetrail.local import snapshot
from filetrail.local.stack import identity
from filetrail.local.state import Snapshot
from handlers import schema
from tests.support.streams import stream_records

IDENTITY = identity()
PK, SK = schema.PARTITION_KEY, schema.SORT_KEY


def _provision(session: boto3.session.Session) -> dict[str, str]:
    s3 = session.client("s3")
    s3.create_bucket(Bucket=IDENTITY.bucket)
    s3.put_bucket_versioning(Bucket=IDENTITY.bucket, VersioningConfiguration={"Status": "Enabled"})
    session.client("dynamodb").create_table(
        **schema.create_table_request(IDENTITY.table, stream=True)
    )
    sqs = session.client("sqs")
    return {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in IDENTITY.queues}


def _fill(session: boto3.session.Session, queues: dict[str, str]) -> None:
    s3 = session.client("s3")
    bucket = IDENTITY.bucket
    s3.put_object(
        Bucket=bucket,
        Key="photos/a b+ü.png",
        Body=b"\x89PNG first",
        ContentType="image/png",
        Metadata={"owner": "ana"},
        Tagging="filetrail-status=STORED&team=x",
        StorageClass="STANDARD_IA",
    )
    s3.put_object(Bucket=bucket, Key="photos/a b+ü.png", Body=b"\x89PNG second")
    s3.delete_object(Bucket=bucket, Key="photos/a b+ü.png")
    s3.put_object(Bucket=bucket, Key="photos/a b+ü.png", Body=b"\x89PNG third")
    s3.put_object(Bucket=bucket, Key="same.txt", Body=b"\x89PNG first")
    # A key whose only version was deleted after its marker: the marker is its oldest entry.
    gone = s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"gone")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gone.txt")
    s3.delete_object(Bucket=bucket, Key="gone.txt", VersionId=gone)
    dynamodb = session.client("dynamodb")
    dynamodb.put_item(
        TableName=IDENTITY.table,
        Item={
            PK: {"S": "doc-1"},
            SK: {"S": schema.STATUS_SORT_KEY},
            schema.STATUS_INDEX_PARTITION_KEY: {"S": "SUCCESS"},
            schema.STATUS_INDEX_SORT_KEY: {"S": "2026-12-01T00:00:00Z#doc-1"},
            "version": {"N": "3"},
            "details": {"M": {"tags": {"L": [{"S": "a"}, {"N": "1.50"}]}, "ok": {"BOOL": True}}},
            "blob": {"B": b"\x00\xff"},
            "sizes": {"NS": ["1", "2"]},
            "nothing": {"NULL": True},
        },
    )
    dynamodb.put_item(
        TableName=IDENTITY.table, Item={PK: {"S": "doc-1"}, SK: {"S": "EVENT#0000000001"}}
    )
    sqs = session.client("sqs")
    queue, dlq = (queues[name] for name in IDENTITY.queues)
    sqs.send_message(
        QueueUrl=queue,
        MessageBody='{"Records": []}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "s3"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )
    sqs.send_message(QueueUrl=queue, MessageBody="in flight")
    sqs.send_message(QueueUrl=dlq, MessageBody='{"reason": "RETRIES_EXHAUSTED"}')
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=300)
    assert len(received["Messages"]) == 2


def _served(session: boto3.session.Session, queues: dict[str, str]) -> dict[str, Any]:
    """Everything the services serve about the stack's contents."""
    s3 = session.client("s3")
    bucket = IDENTITY.bucket
    listing = s3.list_object_versions(Bucket=bucket)
    versions = []
    for version in listing["Versions"]:
        where = {"Bucket": bucket, "Key": version["Key"], "VersionId": version["VersionId"]}
        got = s3.get_object(**where)
        versions.append(
            {
                "listed": version,
                "body": got["Body"].read(),
                "headers": {
                    k: v
                    for k, v in got["ResponseMetadata"]["HTTPHeaders"].items()
                    if k not in ("date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2")
                },
                "tags": s3.get_object_tagging(**where)["TagSet"],
            }
        )
    dynamodb = session.client("dynamodb")
    items = [
        dynamodb.query(
            TableName=IDENTITY.table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PK},
            ExpressionAttributeValues={":pk": {"S": "doc-1"}},
        )["Items"],
        dynamodb.query(
            TableName=IDENTITY.table,
            IndexName=schema.STATUS_INDEX,
            KeyConditionExpression="#k = :k",
            ExpressionAttributeNames={"#k": schema.STATUS_INDEX_PARTITION_KEY},
            ExpressionAttributeValues={":k": {"S": "SUCCESS"}},
        )["Items"],
    ]
    return {
        "versions": versions,
        "markers": listing["DeleteMarkers"],
        "items": items,
        "queues": _messages(session, queues),
    }


def _messages(session: boto3.session.Session, queues: dict[str, str]) -> dict[str, Any]:
    """Each queue's messages, read with a visibility timeout of 0 so reading changes little
    (a receive still counts: both sides are read the same way)."""
    sqs = session.client("sqs")
    found: dict[str, Any] = {}
    for name, url in queues.items():
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        found[name] = sorted(
            (
                m["MessageId"],
                m["Body"],
                m["MD5OfBody"],
                repr(m.get("MessageAttributes")),
                m["Attributes"]["SentTimestamp"],
            )
            for m in messages
        )
    return found


@pytest.fixture
def saved() -> tuple[Snapshot, dict[str, Any]]:
    """The contents captured from one emulator, with what it served."""
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        queues = _provision(session)
        _fill(session, queues)
        captured = snapshot.capture(IDENTITY)
        return captured, _served(session, queues)


def test_a_captured_stack_put_into_a_fresh_emulator_serves_the_same_contents(saved) -> None:
    captured, before = saved
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        queues = _provision(session)
        snapshot.apply(IDENTITY, captured)

        after = _served(session, queues)

    assert after["versions"] == before["versions"]
    assert after["markers"] == before["markers"]
    assert after["items"] == before["items"]
    assert after["queues"]["filetrail-local-dlq"] == before["queues"]["filetrail-local-dlq"]


def test_messages_in_flight_at_the_save_are_visible_after_a_restore(saved) -> None:
    captured, _ = saved
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        queues = _provision(session)
        snapshot.apply(IDENTITY, captured)

        after = _messages(session, queues)

    assert {m[1] for m in after["filetrail-local-notifications"]} == {
        '{"Records": []}',
        "in flight",
    }


def test_a_binary_message_attribute_survives_a_restore(saved) -> None:
    captured, _ = saved
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        queues = _provision(session)
        snapshot.apply(IDENTITY, captured)
        messages = (
            session.client("sqs")
            .receive_message(
                QueueUrl=queues["filetrail-local-notifications"],
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
            )
            .get("Messages", [])
        )

    raw = [m["MessageAttributes"]["raw"] for m in messages if "MessageAttributes" in m]
    assert raw == [{"DataType": "Binary", "BinaryValue": b"\x01\x02"}]


def test_a_restore_adds_no_stream_record(saved) -> None:
    """Restored items were published before the stop; a stream record would publish twice."""
    captured, _ = saved
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        _provision(session)
        snapshot.apply(IDENTITY, captured)

        records = stream_records(session, IDENTITY.table)

    assert records == []


def test_a_restore_sends_no_s3_notification(saved) -> None:
    """The restored uploads were processed before the stop."""
    captured, _ = saved
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        queues = _provision(session)
        sqs = session.client("sqs")
        url = queues["filetrail-local-notifications"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        session.client("s3").put_bucket_notification_configuration(
            Bucket=IDENTITY.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        sqs.purge_queue(QueueUrl=url)  # S3's test event
        snapshot.apply(IDENTITY, _without_queues(captured))

        left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    assert left == []


def _without_queues(captured: Snapshot) -> Snapshot:
    return Snapshot(captured.versions, captured.bodies, captured.items, {})


def test_identical_bodies_are_saved_once(saved) -> None:
    captured, _ = saved

    assert captured.counts()["objectVersions"] == 4
    assert captured.counts()["bodies"] == 3


def test_a_binary_item_attribute_is_saved_as_dynamodb_serves_it(saved) -> None:
    captured, _ = saved

    status = next(item for item in captured.items if item[SK] == {"S": "STATUS"})
    assert status["blob"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert status["details"] == {
        "M": {"tags": {"L": [{"S": "a"}, {"N": "1.50"}]}, "ok": {"BOOL": True}}
    }
