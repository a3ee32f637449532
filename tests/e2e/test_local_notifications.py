"""File-event notifications through `filetrail local`: the table's stream, the same notifier,
a local topic, and a consumer's own queue subscribed to it."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import LocalProcess, poll
from tests.support.samples import PDF, PE_EXE


def _subscribe(local: LocalProcess, name: str, filter_policy: Any = None) -> tuple[Any, str]:
    sqs = local.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    local.client("sns").subscribe(
        TopicArn=local.ready["events_topic_arn"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes=attributes,
    )
    return sqs, url


def _received(sqs: Any, url: str, into: list[dict[str, Any]]) -> None:
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        into.append(json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_ready_line_names_the_events_topic(local: LocalProcess) -> None:
    assert local.ready["events_topic_arn"].startswith("arn:aws:sns:")


def test_a_subscribed_queue_learns_of_a_stored_and_a_rejected_file(local: LocalProcess) -> None:
    sqs, url = _subscribe(local, "consumer-all")
    s3 = local.client("s3")
    s3.put_object(Bucket=local.ready["bucket"], Key="notify/good.pdf", Body=PDF)
    s3.put_object(Bucket=local.ready["bucket"], Key="notify/evil.jpg", Body=PE_EXE)
    received: list[dict[str, Any]] = []

    def both() -> bool:
        _received(sqs, url, received)
        return {m["subject"] for m in received} >= {"notify/good.pdf", "notify/evil.jpg"}

    poll(both, timeout=60, what="both notifications")
    by_key = {m["subject"]: m for m in received}
    assert by_key["notify/good.pdf"]["type"] == "filetrail.file.stored"
    assert by_key["notify/evil.jpg"]["type"] == "filetrail.file.rejected"
    assert by_key["notify/evil.jpg"]["data"]["details"]["reason"] == "TYPE_MISMATCH"


def test_a_rejections_only_subscription_gets_no_stored_file(local: LocalProcess) -> None:
    sqs, url = _subscribe(local, "consumer-rejections", {"outcome": ["REJECTED"]})
    everything, every_url = _subscribe(local, "consumer-witness")
    s3 = local.client("s3")
    s3.put_object(Bucket=local.ready["bucket"], Key="filter/good.pdf", Body=PDF)
    s3.put_object(Bucket=local.ready["bucket"], Key="filter/evil.jpg", Body=PE_EXE)
    witnessed: list[dict[str, Any]] = []
    poll(
        lambda: (
            _received(everything, every_url, witnessed)
            or {m["subject"] for m in witnessed} >= {"filter/good.pdf", "filter/evil.jpg"}
        ),
        timeout=60,
        what="the witness queue's notifications",
    )
    rejections: list[dict[str, Any]] = []

    poll(
        lambda: _received(sqs, url, rejections) or rejections,
        timeout=30,
        what="the rejection",
    )

    assert [m["subject"] for m in rejections] == ["filter/evil.jpg"]
