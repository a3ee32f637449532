"""The notifications stage: the audit table's stream, announced on an SNS topic.

Built only with `notifications: true`; with it off, none of these resources, permissions or
environment variables exist. The table's stream is the outbox: the notifier publishes what
is recorded, as recorded, and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from handlers import schema
from handlers.notification import stream_filter_pattern
from infra import iam
from infra.config import PipelineConfig
from infra.function import dead_letter_queue, log_group_and_role, traced_function
from infra.packaging import BuiltArchive

HANDLER = "handlers.notifier.handler"
# Records wait at most this long in a batch before the notifier is invoked.
BATCH_WINDOW_SECONDS = 1
BATCH_SIZE = 100
# Publishing is I/O: the smallest memory that keeps a 100-record batch well inside the timeout.
NOTIFIER_MEMORY_MB = 256
NOTIFIER_TIMEOUT_SECONDS = 30
PERIOD_SECONDS = 60


@dataclass(frozen=True)
class Notifications:
    topic: aws.sns.Topic
    key: aws.kms.Key
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    failures: aws.sqs.Queue
    mapping: aws.lambda_.EventSourceMapping


def notifications(
    name: str,
    *,
    cfg: PipelineConfig,
    archive: BuiltArchive,
    table: aws.dynamodb.Table,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    parent: pulumi.Resource,
) -> Notifications:
    opts = pulumi.ResourceOptions(parent=parent)
    log_group, role = log_group_and_role(f"{name}-notifier", cfg, parent)
    key = aws.kms.Key(
        f"{name}-file-events-key",
        description="Encrypts the filetrail file-events topic; only its notifier publishes.",
        enable_key_rotation=True,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(account_id, partition, role.arn).apply(
                lambda ids: iam.events_key_policy(
                    account_id=ids[0], partition=ids[1], publisher_role_arn=ids[2]
                )
            )
        ),
        opts=opts,
    )
    topic = aws.sns.Topic(f"{name}-file-events", kms_master_key_id=key.arn, opts=opts)
    aws.sns.TopicPolicy(
        f"{name}-file-events-policy",
        arn=topic.arn,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(topic.arn, role.arn).apply(
                lambda ids: iam.events_topic_policy(topic_arn=ids[0], publisher_role_arn=ids[1])
            )
        ),
        opts=opts,
    )
    failures = dead_letter_queue(f"{name}-notifier", parent)
    document = pulumi.Output.all(table.arn, topic.arn, key.arn, failures.arn, log_group.arn).apply(
        lambda arns: iam.notifier_policy(
            table_arn=arns[0],
            topic_arn=arns[1],
            key_arn=arns[2],
            failures_arn=arns[3],
            log_group_arn=arns[4],
        )
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-notifier-policy",
        role=role.id,
        policy=pulumi.Output.json_dumps(document),
        opts=opts,
    )
    function = traced_function(
        f"{name}-notifier",
        cfg=cfg,
        archive=archive,
        handler=HANDLER,
        memory_size_mb=NOTIFIER_MEMORY_MB,
        timeout_seconds=NOTIFIER_TIMEOUT_SECONDS,
        variables={schema.ENV_TOPIC_ARN: topic.arn, schema.ENV_LOG_LEVEL: cfg.log_level},
        role=role,
        log_group=log_group,
        role_policy=role_policy,
        parent=parent,
    )
    # The stream is its only trigger, but an asynchronous invocation (a test from the
    # console, say) must not vanish either: it goes to the same failures queue. The policy
    # pack's stack rule asks this of every function.
    aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-notifier-invoke",
        function_name=function.name,
        maximum_retry_attempts=0,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                destination=failures.arn
            )
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    mapping = aws.lambda_.EventSourceMapping(
        f"{name}-notifier-stream",
        event_source_arn=table.stream_arn,
        function_name=function.arn,
        # Everything still in the stream (24 hours) when the mapping is created: nothing
        # recorded is left unannounced.
        starting_position="TRIM_HORIZON",
        batch_size=BATCH_SIZE,
        maximum_batching_window_in_seconds=BATCH_WINDOW_SECONDS,
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=cfg.notifier_max_retries,
        function_response_types=["ReportBatchItemFailures"],
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=failures.arn
            )
        ),
        filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
            filters=[
                aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(
                    pattern=json.dumps(stream_filter_pattern())
                )
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    _subscriptions(name, cfg, topic, parent)
    return Notifications(
        topic=topic,
        key=key,
        function=function,
        role=role,
        log_group=log_group,
        failures=failures,
        mapping=mapping,
    )


def _subscriptions(
    name: str, cfg: PipelineConfig, topic: aws.sns.Topic, parent: pulumi.Resource
) -> None:
    opts = pulumi.ResourceOptions(parent=parent)
    if cfg.notification_email:
        aws.sns.TopicSubscription(
            f"{name}-file-events-email",
            topic=topic.arn,
            protocol="email",
            endpoint=cfg.notification_email,
            filter_policy=json.dumps({schema.ATTR_OUTCOME: ["REJECTED"]}),
            opts=opts,
        )
    for index, queue in enumerate(cfg.notification_queues):
        aws.sns.TopicSubscription(
            f"{name}-file-events-queue-{index}",
            topic=topic.arn,
            protocol="sqs",
            endpoint=queue.arn,
            # The consumer reads the CloudEvent itself, not an SNS envelope around it.
            raw_message_delivery=True,
            filter_policy=json.dumps({schema.ATTR_OUTCOME: list(queue.outcomes)})
            if queue.outcomes
            else None,
            opts=opts,
        )


def alarms(
    name: str,
    cfg: PipelineConfig,
    stage: Notifications,
    alarm_topic: aws.sns.Topic,
    parent: pulumi.Resource,
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    opts = pulumi.ResourceOptions(parent=parent)
    common: dict[str, Any] = {
        "alarm_actions": [alarm_topic.arn],
        "ok_actions": [alarm_topic.arn],
        "evaluation_periods": 1,
        "period": PERIOD_SECONDS,
        "namespace": "AWS/Lambda",
        "dimensions": {"FunctionName": stage.function.name},
        "treat_missing_data": "notBreaching",
        "opts": opts,
    }
    iterator_age = aws.cloudwatch.MetricAlarm(
        f"{name}-notifier-iterator-age",
        alarm_description="The oldest audit event not yet announced is getting old.",
        metric_name="IteratorAge",
        statistic="Maximum",
        comparison_operator="GreaterThanThreshold",
        threshold=cfg.iterator_age_alarm_seconds * 1000,
        **common,
    )
    failures = aws.cloudwatch.MetricAlarm(
        f"{name}-notifier-errors",
        alarm_description="The notifier failed: file events are being retried or given up.",
        metric_name="Errors",
        statistic="Sum",
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        **common,
    )
    given_up = aws.cloudwatch.MetricAlarm(
        f"{name}-notifier-failures-not-empty",
        alarm_description="Stream records the notifier could not publish wait in its queue.",
        **{
            **common,
            "namespace": "AWS/SQS",
            "dimensions": {"QueueName": stage.failures.name},
        },
        metric_name="ApproximateNumberOfMessagesVisible",
        statistic="Maximum",
        comparison_operator="GreaterThanThreshold",
        threshold=0,
    )
    return {"iterator_age": iterator_age, "errors": failures, "given_up": given_up}
