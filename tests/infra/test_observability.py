import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from handlers import schema
from handlers.logs import get_logger, log_outcome
from infra import metrics, observability
from infra.config import PipelineConfig
from infra.packaging import BuiltArchive
from tests.infra.harness import (
    PROJECT,
    STACK,
    Deployment,
    RecordingMocks,
    RecordingMonitor,
    deploy,
)
from tests.support.filter_pattern import extract, matches

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
NAMESPACE = f"{schema.METRIC_NAMESPACE}/{STACK}"


def outcome_line(outcome: str, reason: str | None = None, duration_ms: float = 87.5) -> str:
    """An outcome line as it reaches CloudWatch: the handler's fields plus Lambda's own."""
    return json.dumps(
        {
            "timestamp": "2026-11-28T10:15:30.123Z",
            "level": "INFO",
            schema.LOG_MESSAGE: schema.OUTCOME_MESSAGE,
            "logger": "filetrail",
            "requestId": "0f6f5a3e-1111-4a8e-9c1d-6a7b8c9d0e1f",
            schema.LOG_OUTCOME: outcome,
            schema.LOG_REASON: reason,
            schema.LOG_DOCUMENT_ID: schema.document_id("uploads", "photos/cat.png"),
            schema.LOG_BUCKET: "uploads",
            schema.LOG_KEY: "photos/cat.png",
            schema.LOG_SIZE: 2048,
            schema.LOG_DURATION_MS: duration_ms,
            schema.LOG_FILE_TYPE: "image/png",
            schema.LOG_TRACE_ID: "1-6747f0a2-3c4d5e6f7a8b9c0d1e2f3a4b",
        }
    )


OTHER_LINES = [
    # Another message that happens to carry an outcome field must not count.
    json.dumps({schema.LOG_MESSAGE: "filetrail.retry", schema.LOG_OUTCOME: "ERROR"}),
    json.dumps({"time": "2026-11-28T10:15:30.123Z", "type": "platform.report", "record": {}}),
    "START RequestId: 0f6f5a3e Version: $LATEST",
]


def _filter(stack: Deployment, spec: metrics.MetricFilterSpec) -> dict[str, Any]:
    inputs: dict[str, Any] = stack.named(f"filetrail-metric-{spec.suffix}").inputs
    return inputs


def _counted(spec: metrics.MetricFilterSpec, line: str) -> bool:
    return matches(spec.pattern, line)


@pytest.mark.parametrize("spec", metrics.METRIC_FILTERS, ids=lambda s: s.suffix)
def test_metric_filter_reads_the_function_log_group(
    stack: Deployment, spec: metrics.MetricFilterSpec
) -> None:
    log_group = stack.one("aws:cloudwatch/logGroup:LogGroup").state["name"]
    assert _filter(stack, spec)["logGroupName"] == log_group


@pytest.mark.parametrize("spec", metrics.METRIC_FILTERS, ids=lambda s: s.suffix)
def test_metric_filter_publishes_its_metric_in_the_stack_namespace(
    stack: Deployment, spec: metrics.MetricFilterSpec
) -> None:
    deployed = _filter(stack, spec)
    transformation = deployed["metricTransformation"]
    assert deployed["pattern"] == spec.pattern
    assert (transformation["name"], transformation["namespace"]) == (spec.metric_name, NAMESPACE)
    assert transformation["value"] == spec.value


@pytest.mark.parametrize("spec", metrics.METRIC_FILTERS, ids=lambda s: s.suffix)
@pytest.mark.parametrize("line", OTHER_LINES)
def test_metric_filter_ignores_lines_that_are_not_outcomes(
    spec: metrics.MetricFilterSpec, line: str
) -> None:
    assert not _counted(spec, line)


@pytest.mark.parametrize("outcome", list(schema.Outcome))
def test_received_counts_uploads_that_reached_a_verdict(outcome: schema.Outcome) -> None:
    verdicts = {schema.Outcome.STORED, schema.Outcome.REJECTED, schema.Outcome.IGNORED}
    assert _counted(metrics.RECEIVED, outcome_line(outcome)) is (outcome in verdicts)


@pytest.mark.parametrize("outcome", list(schema.Outcome))
def test_stored_counts_only_stored(outcome: schema.Outcome) -> None:
    assert _counted(metrics.STORED, outcome_line(outcome)) is (outcome is schema.Outcome.STORED)


@pytest.mark.parametrize("outcome", list(schema.Outcome))
def test_rejected_counts_only_rejections(outcome: schema.Outcome) -> None:
    assert _counted(metrics.REJECTED, outcome_line(outcome)) is (outcome is schema.Outcome.REJECTED)


@pytest.mark.parametrize("outcome", list(schema.Outcome))
def test_errors_counts_only_errors(outcome: schema.Outcome) -> None:
    assert _counted(metrics.ERRORS, outcome_line(outcome)) is (outcome is schema.Outcome.ERROR)


@pytest.mark.parametrize("reason", list(schema.Reason))
def test_rejected_by_reason_carries_the_reason_as_dimension(reason: schema.Reason) -> None:
    line = outcome_line(schema.Outcome.REJECTED, reason=reason)
    spec = metrics.REJECTED_BY_REASON
    assert _counted(spec, line)
    (dimension_selector,) = spec.dimensions.values()
    assert extract(dimension_selector, line) == reason


def test_rejected_by_reason_dimension_is_deployed(stack: Deployment) -> None:
    transformation = _filter(stack, metrics.REJECTED_BY_REASON)["metricTransformation"]
    assert transformation["dimensions"] == {schema.LOG_REASON: f"$.{schema.LOG_REASON}"}
    assert "defaultValue" not in transformation


def test_count_filters_default_to_zero(stack: Deployment) -> None:
    assert _filter(stack, metrics.STORED)["metricTransformation"]["defaultValue"] == "0"


def test_duration_publishes_the_logged_milliseconds(stack: Deployment) -> None:
    line = outcome_line(schema.Outcome.STORED, duration_ms=123.4)
    transformation = _filter(stack, metrics.DURATION)["metricTransformation"]
    assert _counted(metrics.DURATION, line)
    assert extract(transformation["value"], line) == 123.4
    assert transformation["unit"] == "Milliseconds"


def test_duration_has_no_default_that_would_skew_its_percentiles(stack: Deployment) -> None:
    assert "defaultValue" not in _filter(stack, metrics.DURATION)["metricTransformation"]


def test_real_handler_outcome_line_is_counted(capsys: pytest.CaptureFixture[str]) -> None:
    log_outcome(
        get_logger(),
        schema.Outcome.REJECTED,
        **{schema.LOG_REASON: schema.Reason.TOO_LARGE, schema.LOG_DURATION_MS: 5.0},
    )
    (line,) = capsys.readouterr().out.splitlines()
    counted = {s.suffix for s in metrics.METRIC_FILTERS if _counted(s, line)}
    assert counted == {"received", "rejected", "rejected-by-reason", "duration"}


def _alarm(stack: Deployment, name: str) -> dict[str, Any]:
    inputs: dict[str, Any] = stack.named(f"filetrail-{name}").inputs
    return inputs


def _queries(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in alarm["metricQueries"]}


@pytest.mark.parametrize("name", ["errors", "dlq-not-empty", "rejection-rate"])
def test_alarm_notifies_the_topic(stack: Deployment, name: str) -> None:
    topic_arn = stack.one(TOPIC).state["arn"]
    alarm = _alarm(stack, name)
    assert alarm["alarmActions"] == [topic_arn]
    assert alarm["okActions"] == [topic_arn]


def test_errors_alarm_adds_logged_errors_and_function_errors(stack: Deployment) -> None:
    alarm = _alarm(stack, "errors")
    queries = _queries(alarm)
    assert queries["logged"]["metric"]["metricName"] == schema.METRIC_ERRORS
    assert queries["logged"]["metric"]["namespace"] == NAMESPACE
    assert queries["crashed"]["metric"]["dimensions"] == {
        "FunctionName": stack.one("aws:lambda/function:Function").state["name"]
    }
    assert queries["errors"]["expression"] == "FILL(logged, 0) + FILL(crashed, 0)"
    assert (alarm["comparisonOperator"], alarm["threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
    )


def test_dlq_alarm_fires_on_any_visible_message(stack: Deployment) -> None:
    alarm = _alarm(stack, "dlq-not-empty")
    assert (alarm["namespace"], alarm["metricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert alarm["dimensions"] == {"QueueName": stack.one("aws:sqs/queue:Queue").state["name"]}
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)


def test_rejection_rate_alarm_divides_rejected_by_received(
    deploy_with: Callable[..., Deployment],
) -> None:
    alarm = _alarm(deploy_with(rejection_rate_threshold_percent=40), "rejection-rate")
    queries = _queries(alarm)
    assert queries["received"]["metric"]["metricName"] == schema.METRIC_RECEIVED
    assert queries["rejected"]["metric"]["metricName"] == schema.METRIC_REJECTED
    assert "dimensions" not in queries["rejected"]["metric"]
    assert queries["rate"]["expression"] == (
        "IF(received > 0, 100 * FILL(rejected, 0) / received, 0)"
    )
    assert [q["id"] for q in alarm["metricQueries"] if q.get("returnData")] == ["rate"]
    assert alarm["threshold"] == 40


def test_alarm_topic_is_encrypted_with_its_own_key(stack: Deployment) -> None:
    key = stack.one("aws:kms/key:Key")
    assert stack.one(TOPIC).inputs["kmsMasterKeyId"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True


def test_alarm_key_lets_cloudwatch_encrypt(stack: Deployment) -> None:
    policy = stack.policy_json("aws:kms/key:Key")
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "AllowAlarmsToEncrypt"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_topic_policy_lets_cloudwatch_publish(stack: Deployment) -> None:
    policy = stack.policy_json("aws:sns/topicPolicy:TopicPolicy")
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "AllowAlarmsToPublish"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Resource"] == stack.one(TOPIC).state["arn"]


def test_no_email_subscription_by_default(stack: Deployment) -> None:
    assert stack.of_type("aws:sns/topicSubscription:TopicSubscription") == []


def test_email_subscription_from_config(deploy_with: Callable[..., Deployment]) -> None:
    stack = deploy_with(alarm_email="filetrail-alerts@ops.acme.io")
    subscription = stack.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert (subscription["protocol"], subscription["endpoint"]) == (
        "email",
        "filetrail-alerts@ops.acme.io",
    )
    assert subscription["topic"] == stack.one(TOPIC).state["arn"]


def test_dashboard_charts_every_metric(stack: Deployment) -> None:
    body = json.dumps(
        json.loads(stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    )
    for spec in metrics.METRIC_FILTERS:
        assert spec.metric_name in body
    assert NAMESPACE in body
    assert stack.one("aws:sqs/queue:Queue").state["name"] in body


def test_dashboard_breaks_rejections_down_by_reason(stack: Deployment) -> None:
    body = json.loads(stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    (widget,) = [w for w in body["widgets"] if w["properties"]["title"] == "Rejected by reason"]
    ((query,),) = widget["properties"]["metrics"]
    assert query["expression"] == (
        f'SEARCH(\'{{"{NAMESPACE}","{schema.LOG_REASON}"}} '
        f"MetricName=\"{schema.METRIC_REJECTED}\"', 'Sum', 300)"
    )


def test_dashboard_search_quotes_a_stack_name_with_dots_and_dashes(
    mocks: tuple[RecordingMocks, RecordingMonitor], archive: BuiltArchive
) -> None:
    """The schema's names must be in double quotes when they hold anything but letters and
    digits, as a stack name like `prod.eu-west-1` does:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html
    """
    recording, monitor = mocks
    pulumi.runtime.set_mocks(
        recording, project=PROJECT, stack="prod.eu-west-1", preview=False, monitor=monitor
    )
    stack = deploy(recording, monitor, PipelineConfig(), archive)

    body = json.loads(stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    (widget,) = [w for w in body["widgets"] if w["properties"]["title"] == "Rejected by reason"]
    ((query,),) = widget["properties"]["metrics"]
    assert query["expression"].startswith(
        f'SEARCH(\'{{"{schema.METRIC_NAMESPACE}/prod.eu-west-1","{schema.LOG_REASON}"}} '
    )


def test_dashboard_name_is_valid_for_any_stack_name() -> None:
    assert observability.dashboard_name("filetrail", "prod.eu-west_1") == "filetrail-prod-eu-west_1"
