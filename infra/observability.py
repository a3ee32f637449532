"""Metric filters on the function's log group, alarms to an encrypted topic, a dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from handlers import schema
from infra import iam, metrics
from infra.config import PipelineConfig

PERIOD_SECONDS = 300
DASHBOARD_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class Observability:
    topic: aws.sns.Topic
    dashboard: aws.cloudwatch.Dashboard
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    metric_filters: dict[str, aws.cloudwatch.LogMetricFilter]


@dataclass(frozen=True)
class ObservedResources:
    log_group_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    dlq_name: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    namespace: str
    # Set when the notifications stage is on.
    notifier_function_name: pulumi.Input[str] | None = None
    # The malware scanning stage's metrics (threats found, the oldest wait) are charted.
    malware_scan: bool = False


def metric_filters(
    name: str, observed: ObservedResources, parent: pulumi.Resource
) -> dict[str, aws.cloudwatch.LogMetricFilter]:
    return {
        spec.suffix: aws.cloudwatch.LogMetricFilter(
            f"{name}-metric-{spec.suffix}",
            log_group_name=observed.log_group_name,
            pattern=spec.pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=spec.metric_name,
                namespace=observed.namespace,
                value=spec.value,
                unit=spec.unit,
                default_value=spec.default_value,
                dimensions=spec.dimensions or None,
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for spec in metrics.METRIC_FILTERS
    }


def alarm_topic(
    name: str, cfg: PipelineConfig, observed: ObservedResources, parent: pulumi.Resource
) -> aws.sns.Topic:
    opts = pulumi.ResourceOptions(parent=parent)
    key = aws.kms.Key(
        f"{name}-alarms-key",
        description="Encrypts the filetrail alarm topic; CloudWatch may use it to publish.",
        enable_key_rotation=True,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(observed.account_id, observed.partition).apply(
                lambda ids: iam.alarm_key_policy(account_id=ids[0], partition=ids[1])
            )
        ),
        opts=opts,
    )
    topic = aws.sns.Topic(f"{name}-alarms", kms_master_key_id=key.arn, opts=opts)
    aws.sns.TopicPolicy(
        f"{name}-alarms-policy",
        arn=topic.arn,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(topic.arn, observed.account_id).apply(
                lambda ids: iam.topic_policy(topic_arn=ids[0], account_id=ids[1])
            )
        ),
        opts=opts,
    )
    if cfg.alarm_email:
        aws.sns.TopicSubscription(
            f"{name}-alarms-email",
            topic=topic.arn,
            protocol="email",
            endpoint=cfg.alarm_email,
            opts=opts,
        )
    return topic


def _metric(
    query_id: str, namespace: str, metric_name: str, stat: str, dimensions: Any = None
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace,
            metric_name=metric_name,
            stat=stat,
            period=PERIOD_SECONDS,
            dimensions=dimensions,
        ),
    )


def _expression(
    query_id: str, expression: str, label: str
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id, expression=expression, label=label, return_data=True
    )


def alarms(
    name: str,
    cfg: PipelineConfig,
    observed: ObservedResources,
    topic: aws.sns.Topic,
    parent: pulumi.Resource,
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    opts = pulumi.ResourceOptions(parent=parent)
    actions = [topic.arn]
    common: dict[str, Any] = {
        "alarm_actions": actions,
        "ok_actions": actions,
        "evaluation_periods": 1,
        "treat_missing_data": "notBreaching",
    }
    errors = aws.cloudwatch.MetricAlarm(
        f"{name}-errors",
        alarm_description="Files failed to process: logged ERROR outcomes or function errors.",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        metric_queries=[
            _metric("logged", observed.namespace, metrics.ERRORS.metric_name, "Sum"),
            _metric(
                "crashed",
                "AWS/Lambda",
                "Errors",
                "Sum",
                {"FunctionName": observed.function_name},
            ),
            _expression("errors", "FILL(logged, 0) + FILL(crashed, 0)", "Processing errors"),
        ],
        opts=opts,
        **common,
    )
    dlq = aws.cloudwatch.MetricAlarm(
        f"{name}-dlq-not-empty",
        alarm_description="Events exhausted their retries and wait in the dead-letter queue.",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": observed.dlq_name},
        statistic="Maximum",
        period=PERIOD_SECONDS,
        comparison_operator="GreaterThanThreshold",
        threshold=0,
        opts=opts,
        **common,
    )
    rejection_rate = aws.cloudwatch.MetricAlarm(
        f"{name}-rejection-rate",
        alarm_description="Share of received files rejected by validation, in percent.",
        comparison_operator="GreaterThanThreshold",
        threshold=cfg.rejection_rate_threshold_percent,
        metric_queries=[
            _metric("received", observed.namespace, metrics.RECEIVED.metric_name, "Sum"),
            _metric("rejected", observed.namespace, metrics.REJECTED.metric_name, "Sum"),
            _expression(
                "rate",
                "IF(received > 0, 100 * FILL(rejected, 0) / received, 0)",
                "Rejected files (%)",
            ),
        ],
        opts=opts,
        **common,
    )
    return {"errors": errors, "dlq": dlq, "rejection_rate": rejection_rate}


def dashboard_body(
    *,
    namespace: str,
    region: str,
    function_name: str,
    dlq_name: str,
    notifier_function_name: str | None = None,
    malware_scan: bool = False,
) -> dict[str, Any]:
    def widget(title: str, y: int, x: int, metric_rows: list[list[Any]], stat: str) -> Any:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": DASHBOARD_PERIOD_SECONDS,
                "view": "timeSeries",
                "metrics": metric_rows,
            },
        }

    # The schema's names in double quotes: a stack name may hold `.` or `-`, which CloudWatch
    # only accepts quoted (and quoting is always valid).
    rejected_by_reason = (
        f'SEARCH(\'{{"{namespace}","{metrics.REJECTED_BY_REASON_DIMENSION}"}} '
        f"MetricName=\"{metrics.REJECTED_BY_REASON.metric_name}\"', 'Sum', "
        f"{DASHBOARD_PERIOD_SECONDS})"
    )
    widgets = [
        widget(
            "Files",
            0,
            0,
            [
                [namespace, metrics.RECEIVED.metric_name],
                [namespace, metrics.STORED.metric_name],
                [namespace, metrics.REJECTED.metric_name],
                [namespace, metrics.ERRORS.metric_name],
            ],
            "Sum",
        ),
        widget(
            "Rejected by reason",
            0,
            12,
            [[{"expression": rejected_by_reason, "id": "reasons"}]],
            "Sum",
        ),
        widget(
            "Processing duration (ms)",
            6,
            0,
            [
                [namespace, metrics.DURATION.metric_name, {"stat": "p50"}],
                [namespace, metrics.DURATION.metric_name, {"stat": "p99"}],
            ],
            "Average",
        ),
        widget(
            "Function and dead-letter queue",
            6,
            12,
            [
                ["AWS/Lambda", "Errors", "FunctionName", function_name],
                ["AWS/Lambda", "Throttles", "FunctionName", function_name],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq_name],
            ],
            "Sum",
        ),
    ]
    if notifier_function_name:
        widgets.append(
            widget(
                "Notifications: oldest unannounced event (ms), notifier errors",
                12,
                0,
                [
                    ["AWS/Lambda", "IteratorAge", "FunctionName", notifier_function_name],
                    [
                        "AWS/Lambda",
                        "Errors",
                        "FunctionName",
                        notifier_function_name,
                        {"stat": "Sum", "yAxis": "right"},
                    ],
                ],
                "Maximum",
            )
        )
    if malware_scan:
        widgets.append(
            widget(
                "Malware scanning: files with threats, oldest PROCESSING wait (s)",
                12,
                12,
                [
                    [namespace, metrics.THREATS.metric_name, {"stat": "Sum"}],
                    [
                        namespace,
                        schema.METRIC_OLDEST_PROCESSING,
                        {"stat": "Maximum", "yAxis": "right"},
                    ],
                ],
                "Sum",
            )
        )
    return {"widgets": widgets}


def dashboard_name(name: str, stack: str) -> str:
    """Per stack; CloudWatch allows only letters, digits, `-` and `_`, stack names also `.`."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{name}-{stack}")


def dashboard(
    name: str, observed: ObservedResources, parent: pulumi.Resource
) -> aws.cloudwatch.Dashboard:
    body = pulumi.Output.all(
        observed.region,
        observed.function_name,
        observed.dlq_name,
        observed.notifier_function_name or "",
    ).apply(
        lambda values: dashboard_body(
            namespace=observed.namespace,
            region=values[0],
            function_name=values[1],
            dlq_name=values[2],
            notifier_function_name=values[3] or None,
            malware_scan=observed.malware_scan,
        )
    )
    return aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=dashboard_name(name, pulumi.get_stack()),
        dashboard_body=pulumi.Output.json_dumps(body),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def observability(
    name: str, cfg: PipelineConfig, observed: ObservedResources, parent: pulumi.Resource
) -> Observability:
    filters = metric_filters(name, observed, parent)
    topic = alarm_topic(name, cfg, observed, parent)
    return Observability(
        topic=topic,
        dashboard=dashboard(name, observed, parent),
        alarms=alarms(name, cfg, observed, topic, parent),
        metric_filters=filters,
    )
