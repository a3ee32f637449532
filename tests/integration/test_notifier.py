"""The notifier between the audit table's stream and the file-events topic."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from examples.consumer import consume
from handlers import schema
from handlers.errors import AwsError
from handlers.notification import stream_filter_pattern
from handlers.notifier import Notifier, build_notifier
from tests.support.pipeline import TABLE, Pipeline, provision, receive_all
from tests.support.samples import PDF, PE_EXE
from tests.support.streams import lambda_event, stream_records


@dataclass
class Consumer:
    """An application's queue subscribed to the topic (raw delivery, optional filter)."""

    sqs: Any
    url: str

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in receive_all(self.sqs, self.url, delete=True)]


@dataclass
class Setup:
    pipeline: Pipeline
    notifier: Notifier
    session: boto3.session.Session
    topic_arn: str

    def subscribe(self, name: str, filter_policy: dict[str, Any] | None = None) -> Consumer:
        sqs = self.session.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes = {"RawMessageDelivery": "true"}
        if filter_policy:
            attributes["FilterPolicy"] = json.dumps(filter_policy)
        self.session.client("sns").subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes
        )
        return Consumer(sqs, url)

    def stream_event(self) -> dict[str, Any]:
        return lambda_event(stream_records(self.session, TABLE), stream_filter_pattern())


@pytest.fixture
def setup(session: boto3.session.Session) -> Setup:
    pipeline = provision(session, stream=True)
    topic_arn = session.client("sns").create_topic(Name="filetrail-file-events")["TopicArn"]
    notifier = build_notifier({schema.ENV_TOPIC_ARN: topic_arn}, session)
    return Setup(pipeline, notifier, session, topic_arn)


def test_each_terminal_event_is_published_once_per_delivery(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF))
    setup.pipeline.process(setup.pipeline.upload("evil.jpg", PE_EXE))
    setup.pipeline.process(setup.pipeline.delete("doc.pdf"))

    result = setup.notifier.handle(setup.stream_event())

    assert result == {"batchItemFailures": []}
    received = consumer.messages()
    assert sorted((m["subject"], m["type"]) for m in received) == [
        ("doc.pdf", "filetrail.file.deleted"),
        ("doc.pdf", "filetrail.file.stored"),
        ("evil.jpg", "filetrail.file.rejected"),
    ]


def test_markers_status_items_and_intermediate_events_are_never_published(setup: Setup) -> None:
    setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF))

    event = setup.stream_event()

    assert [r["dynamodb"]["NewImage"]["type"]["S"] for r in event["Records"]] == ["STORED"]


def test_a_redelivered_batch_carries_the_same_ids(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF))
    event = setup.stream_event()

    setup.notifier.handle(event)
    setup.notifier.handle(event)

    ids = [m["id"] for m in consumer.messages()]
    assert len(ids) == 2
    assert len(set(ids)) == 1
    stored = setup.pipeline.events("doc.pdf")[-1]
    assert ids[0] == f"{stored.document_id}/{stored.seq}"


def test_message_is_the_recorded_event_in_cloudevents_form(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    setup.pipeline.process(setup.pipeline.upload("reports/q3.pdf", PDF))

    setup.notifier.handle(setup.stream_event())

    (message,) = consumer.messages()
    stored = setup.pipeline.events("reports/q3.pdf")[-1]
    assert message["specversion"] == "1.0"
    assert message["source"] == f"filetrail:{stored.bucket}"
    assert message["time"] == stored.at
    assert message["filetrailschemaversion"] == "1"
    assert message["data"] == {**stored.to_json(), "fileStatus": "SUCCESS"}


def test_events_of_one_file_are_published_in_stream_order(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    for n in range(3):
        setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF + bytes([n])))
    setup.pipeline.process(setup.pipeline.delete("doc.pdf"))

    setup.notifier.handle(setup.stream_event())

    seqs = [m["data"]["seq"] for m in consumer.messages()]
    assert seqs == sorted(seqs)
    assert len(seqs) == 4


def test_a_rejections_only_subscription_receives_no_stored_file(setup: Setup) -> None:
    rejections = setup.subscribe("ops", {schema.ATTR_OUTCOME: ["REJECTED"]})
    setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF))
    setup.pipeline.process(setup.pipeline.upload("evil.jpg", PE_EXE))

    setup.notifier.handle(setup.stream_event())

    assert [(m["subject"], m["data"]["details"]["reason"]) for m in rejections.messages()] == [
        ("evil.jpg", "TYPE_MISMATCH")
    ]


def test_a_poison_record_is_reported_and_nothing_after_it_is_skipped(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    setup.pipeline.process(setup.pipeline.upload("a.pdf", PDF))
    setup.pipeline.process(setup.pipeline.upload("b.pdf", PDF))
    records = setup.stream_event()["Records"]
    poison = copy.deepcopy(records[0])
    del poison["dynamodb"]["NewImage"]["seq"]
    poison["dynamodb"]["SequenceNumber"] = "999"

    result = setup.notifier.handle({"Records": [records[0], poison, records[1]]})

    assert result == {"batchItemFailures": [{"itemIdentifier": "999"}]}
    assert [m["subject"] for m in consumer.messages()] == ["a.pdf"]


def test_a_failed_publish_is_retried_from_that_record(setup: Setup) -> None:
    setup.pipeline.process(setup.pipeline.upload("a.pdf", PDF))
    event = setup.stream_event()
    broken = build_notifier(
        {schema.ENV_TOPIC_ARN: setup.topic_arn.replace("file-events", "missing")}, setup.session
    )

    result = broken.handle(event)

    (record,) = event["Records"]
    assert result == {
        "batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
    }


def test_publish_errors_are_translated(setup: Setup) -> None:
    broken = build_notifier(
        {schema.ENV_TOPIC_ARN: setup.topic_arn.replace("file-events", "missing")}, setup.session
    )
    setup.pipeline.process(setup.pipeline.upload("a.pdf", PDF))
    (record,) = setup.stream_event()["Records"]

    with pytest.raises(AwsError):
        broken._publish(record)


def test_the_readme_consumer_drops_duplicates_by_id(setup: Setup) -> None:
    consumer = setup.subscribe("app")
    setup.pipeline.process(setup.pipeline.upload("doc.pdf", PDF))
    event = setup.stream_event()
    setup.notifier.handle(event)
    setup.notifier.handle(event)  # a redelivered batch
    handled: list[str] = []

    new = consume(consumer.sqs, consumer.url, set(), lambda e: handled.append(e["type"]))

    assert (new, handled) == (1, ["filetrail.file.stored"])
