"""The notifications stage under Pulumi mocks: on by default, nothing of it when off."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers import schema
from handlers.notification import stream_filter_pattern
from handlers.notifier import build_notifier
from infra import iam
from infra.config import ConfigError, PipelineConfig, parse_queue_subscriptions
from tests.infra.harness import Deployment
from tests.support.call_recorder import CallRecorder
from tests.support.iam_check import check, is_allowed, parliament_findings
from tests.support.pipeline import TABLE, provision
from tests.support.samples import PDF
from tests.support.streams import lambda_event, stream_records

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:billing"


@pytest.fixture
def notified(deploy_with: Callable[..., Deployment]) -> Deployment:
    return deploy_with(notifications=True)


def test_notifications_are_on_by_default() -> None:
    assert PipelineConfig().notifications is True


def test_table_streams_new_images(notified: Deployment) -> None:
    table = notified.one("aws:dynamodb/table:Table").inputs
    assert (table["streamEnabled"], table["streamViewType"]) == (True, "NEW_IMAGE")


def test_without_notifications_nothing_of_the_stage_exists(stack: Deployment) -> None:
    table = stack.one("aws:dynamodb/table:Table").inputs
    assert not table.get("streamEnabled")
    assert stack.of_type(MAPPING) == []
    assert [f.name for f in stack.of_type("aws:lambda/function:Function")] == ["filetrail-function"]
    assert [t.name for t in stack.of_type("aws:sns/topic:Topic")] == ["filetrail-alarms"]
    assert "events_topic_arn" not in stack.outputs


def test_mapping_reads_the_stream_through_the_filter(notified: Deployment) -> None:
    mapping = notified.one(MAPPING).inputs
    table = notified.one("aws:dynamodb/table:Table")
    assert mapping["eventSourceArn"] == table.state["streamArn"]
    assert mapping["functionName"] == notified.named("filetrail-notifier").state["arn"]
    (criterion,) = mapping["filterCriteria"]["filters"]
    assert json.loads(criterion["pattern"]) == stream_filter_pattern()


def test_one_bad_record_cannot_block_its_shard(deploy_with: Callable[..., Deployment]) -> None:
    stack = deploy_with(notifications=True, notifier_max_retries=5)
    mapping = stack.one(MAPPING).inputs
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert mapping["maximumRetryAttempts"] == 5
    failures = stack.named("filetrail-notifier-dlq").state["arn"]
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == failures


def test_mapping_starts_from_the_oldest_record(notified: Deployment) -> None:
    assert notified.one(MAPPING).inputs["startingPosition"] == "TRIM_HORIZON"


def test_topic_is_encrypted_with_its_own_key(notified: Deployment) -> None:
    topic = notified.named("filetrail-file-events").inputs
    key = notified.named("filetrail-file-events-key")
    assert topic["kmsMasterKeyId"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True


def _key_policy(stack: Deployment) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stack.named("filetrail-file-events-key").inputs["policy"])
    return document


def test_only_the_notifier_may_use_the_topic_key(notified: Deployment) -> None:
    users = {
        json.dumps(s["Principal"], sort_keys=True)
        for s in _key_policy(notified)["Statement"]
        if set(s["Action"]) & {"kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"}
    }
    role = notified.named("filetrail-notifier-role").state["arn"]
    assert users == {json.dumps({"AWS": role})}


def test_the_account_administers_the_key_without_using_it(notified: Deployment) -> None:
    (admin,) = [
        s for s in _key_policy(notified)["Statement"] if s["Sid"] == "AccountAdministersKey"
    ]
    assert "kms:*" not in admin["Action"]
    assert not {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"} & set(admin["Action"])


def _notifier_policy(stack: Deployment) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stack.named("filetrail-notifier-policy").inputs["policy"])
    return document


def test_notifier_reads_only_its_tables_stream(notified: Deployment) -> None:
    policy = _notifier_policy(notified)
    table_arn = notified.one("aws:dynamodb/table:Table").state["arn"]
    stream = f"{table_arn}/stream/2026-12-01T00:00:00.000"
    for action in iam.STREAM_ACTIONS:
        assert is_allowed(policy, action, stream)
    assert not is_allowed(policy, "dynamodb:GetRecords", f"{table_arn}-other/stream/x")
    assert not is_allowed(policy, "dynamodb:PutItem", table_arn)
    assert not is_allowed(policy, "dynamodb:BatchGetItem", table_arn)


def test_notifier_publishes_only_to_its_topic_with_its_key(notified: Deployment) -> None:
    policy = _notifier_policy(notified)
    topic = notified.named("filetrail-file-events").state["arn"]
    key = notified.named("filetrail-file-events-key").state["arn"]
    alarms = notified.named("filetrail-alarms").state["arn"]
    assert is_allowed(policy, "sns:Publish", topic)
    assert not is_allowed(policy, "sns:Publish", alarms)
    assert is_allowed(policy, "kms:GenerateDataKey", key)
    assert is_allowed(policy, "kms:Decrypt", key)
    assert not is_allowed(policy, "kms:Decrypt", key.replace("key/", "key/other-"))


def test_notifier_policy_has_no_parliament_findings(notified: Deployment) -> None:
    assert parliament_findings(_notifier_policy(notified)) == []


def test_only_the_notifier_may_publish_file_events(notified: Deployment) -> None:
    document = json.loads(notified.named("filetrail-file-events-policy").inputs["policy"])
    (deny,) = [s for s in document["Statement"] if s["Sid"] == "OnlyTheNotifierPublishes"]
    role = notified.named("filetrail-notifier-role").state["arn"]
    assert (deny["Effect"], deny["Action"]) == ("Deny", "sns:Publish")
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": role}}


def test_notifier_is_told_its_topic(notified: Deployment) -> None:
    function = notified.named("filetrail-notifier").inputs
    topic = notified.named("filetrail-file-events").state["arn"]
    assert function["handler"] == "handlers.notifier.handler"
    assert function["environment"]["variables"][schema.ENV_TOPIC_ARN] == topic
    assert function["tracingConfig"] == {"mode": "Active"}


def test_processing_function_knows_nothing_of_the_stage(notified: Deployment) -> None:
    variables = notified.named("filetrail-function").inputs["environment"]["variables"]
    assert schema.ENV_TOPIC_ARN not in variables


def test_email_subscription_receives_rejections_only(
    deploy_with: Callable[..., Deployment],
) -> None:
    stack = deploy_with(notifications=True, notification_email="ops@acme.io")
    (subscription,) = [
        s
        for s in stack.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["topic"] == stack.named("filetrail-file-events").state["arn"]
    ]
    assert subscription.inputs["protocol"] == "email"
    assert json.loads(subscription.inputs["filterPolicy"]) == {"outcome": ["REJECTED"]}


def test_queue_subscriptions_get_raw_events_and_their_filter(
    deploy_with: Callable[..., Deployment],
) -> None:
    stack = deploy_with(
        notifications=True,
        notification_queues=parse_queue_subscriptions(f"{QUEUE_ARN}=STORED,deleted {QUEUE_ARN}2"),
    )
    queues = sorted(
        (s.inputs for s in stack.of_type("aws:sns/topicSubscription:TopicSubscription")),
        key=lambda inputs: str(inputs["endpoint"]),
    )
    assert [(q["endpoint"], q["rawMessageDelivery"]) for q in queues] == [
        (QUEUE_ARN, True),
        (f"{QUEUE_ARN}2", True),
    ]
    assert json.loads(queues[0]["filterPolicy"]) == {"outcome": ["STORED", "DELETED"]}
    assert "filterPolicy" not in queues[1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"notification_queues": parse_queue_subscriptions("not-an-arn")}, "not an SQS queue"),
        (
            {"notification_queues": parse_queue_subscriptions(f"{QUEUE_ARN}=VALIDATED")},
            "VALIDATED",
        ),
        ({"notifications": False, "notification_email": "ops@acme.io"}, "need notifications"),
        ({"notification_email": "ops@example.com"}, "can confirm"),
        ({"notifier_max_retries": -2}, "notifierMaxRetries"),
    ],
)
def test_bad_notification_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PipelineConfig(**settings)


def test_stack_alarms_on_iterator_age_and_notifier_failures(
    deploy_with: Callable[..., Deployment],
) -> None:
    stack = deploy_with(notifications=True, iterator_age_alarm_seconds=120)
    alarms = {a.name: a.inputs for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    notifier = stack.named("filetrail-notifier").state["name"]
    age = alarms["filetrail-notifier-iterator-age"]
    assert (age["metricName"], age["statistic"], age["threshold"]) == (
        "IteratorAge",
        "Maximum",
        120_000,
    )
    assert age["dimensions"] == {"FunctionName": notifier}
    errors = alarms["filetrail-notifier-errors"]
    assert (errors["metricName"], errors["dimensions"]) == ("Errors", {"FunctionName": notifier})
    topic = stack.named("filetrail-alarms").state["arn"]
    assert all(a["alarmActions"] == [topic] for n, a in alarms.items() if "notifier" in n)


def test_dashboard_shows_the_notifier(notified: Deployment) -> None:
    body = json.loads(notified.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    notifier = notified.named("filetrail-notifier").state["name"]
    rows = [row for w in body["widgets"] for row in w["properties"]["metrics"]]
    assert ["AWS/Lambda", "IteratorAge", "FunctionName", notifier] in rows


def record_notifier_calls() -> list[tuple[str, str, str]]:
    """The notifier's own calls, recorded live on the emulator (what it publishes with)."""
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        recorder = CallRecorder(region="us-east-1")
        notifier_session = boto3.session.Session(region_name="us-east-1")
        recorder.attach(notifier_session)
        pipeline = provision(session, stream=True)
        topic = session.client("sns").create_topic(Name="events")["TopicArn"]
        notifier = build_notifier({schema.ENV_TOPIC_ARN: topic}, notifier_session)
        pipeline.process(pipeline.upload("doc.pdf", PDF))
        notifier.handle(lambda_event(stream_records(session, TABLE), stream_filter_pattern()))
        return [(s, a, r.replace(topic, "TOPIC")) for s, a, r in recorder.triples()]


def test_notifier_policy_allows_exactly_what_the_notifier_and_its_poller_need(
    notified: Deployment,
) -> None:
    """Besides its own calls: Lambda's poller reads the stream with the function's role
    (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), and publishing to a topic
    encrypted with a customer key needs GenerateDataKey and Decrypt on it
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
    topic = notified.named("filetrail-file-events").state["arn"]
    key = notified.named("filetrail-file-events-key").state["arn"]
    table = notified.one("aws:dynamodb/table:Table").state
    failures = notified.named("filetrail-notifier-dlq").state["arn"]
    calls = [(s, a, r.replace("TOPIC", topic)) for s, a, r in record_notifier_calls()]
    assert calls == [("sns", "Publish", topic)]
    poller = [("dynamodb", a.split(":")[1], table["streamArn"]) for a in iam.STREAM_ACTIONS]
    poller.append(("dynamodb", "ListStreams", "*"))
    implied = [("kms", "GenerateDataKey", key), ("kms", "Decrypt", key)]
    destination = [("sqs", "SendMessage", failures)]
    report = check(
        _notifier_policy(notified),
        [*calls, *poller, *implied, *destination],
        ignore_services=("logs", "xray"),
    )
    assert (report.denied, report.unused) == ([], [])
