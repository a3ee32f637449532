"""The processing function: its log group, role, dead-letter queue and invoke settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers import schema
from infra import iam
from infra.config import PipelineConfig
from infra.packaging import LAMBDA_PYTHON_VERSION, BuiltArchive

RUNTIME = f"python{LAMBDA_PYTHON_VERSION}"
HANDLER = "handlers.app.handler"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
SOURCES_ONLY_WARNING = (
    f"No Python {LAMBDA_PYTHON_VERSION} on this machine: the Lambda archive ships sources "
    "only, so every cold start compiles them. Put python"
    f"{LAMBDA_PYTHON_VERSION} on PATH to ship compiled files."
)


def application_log_level(log_level: str) -> str:
    """Lambda's filter for the function's logs: never above INFO.

    Outcome lines are INFO and every metric and alarm counts them; the handler itself
    keeps quieter levels for its diagnostics (handlers.logs.log_outcome).
    """
    return "DEBUG" if log_level == "DEBUG" else "INFO"


@dataclass(frozen=True)
class ProcessingFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    dlq: aws.sqs.Queue
    invoke_config: aws.lambda_.FunctionEventInvokeConfig


def dead_letter_queue(
    name: str, parent: pulumi.Resource, event_rule_arns: Sequence[pulumi.Input[str]] = ()
) -> aws.sqs.Queue:
    """`event_rule_arns`: EventBridge rules that may park undeliverable events here."""
    queue = aws.sqs.Queue(
        f"{name}-dlq",
        sqs_managed_sse_enabled=True,
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.sqs.QueuePolicy(
        f"{name}-dlq-policy",
        queue_url=queue.url,
        policy=pulumi.Output.json_dumps(
            pulumi.Output.all(queue.arn, *event_rule_arns).apply(
                lambda arns: iam.queue_policy(queue_arn=arns[0], event_rule_arns=arns[1:])
            )
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return queue


def environment(
    cfg: PipelineConfig, table_name: pulumi.Input[str], dlq_url: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    return {
        schema.ENV_TABLE_NAME: table_name,
        schema.ENV_MAX_FILE_BYTES: str(cfg.max_file_bytes),
        schema.ENV_ALLOWED_TYPES: cfg.allowed_types,
        schema.ENV_HEADER_BYTES: str(cfg.header_bytes),
        schema.ENV_TAG_OBJECTS: "true" if cfg.tag_objects else "false",
        schema.ENV_DLQ_URL: dlq_url,
        schema.ENV_LOG_LEVEL: cfg.log_level,
        schema.ENV_STATUS_INDEX_SHARDS: str(cfg.status_index_shards),
        # Only with scanning on: off, the stage leaves no trace in the function's settings.
        **(
            {schema.ENV_MALWARE_SCAN: cfg.malware_scan}
            if cfg.malware_scan != schema.MALWARE_SCAN_NONE
            else {}
        ),
    }


def log_group_and_role(
    prefix: str, cfg: PipelineConfig, parent: pulumi.Resource
) -> tuple[aws.cloudwatch.LogGroup, aws.iam.Role]:
    """A function's own log group and role (its policy is the caller's).

    The log group is created before the function so Lambda never creates it (unbounded
    retention) and the role needs no logs:CreateLogGroup.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{prefix}-logs", retention_in_days=cfg.log_retention_days, opts=opts
    )
    role = aws.iam.Role(
        f"{prefix}-role",
        assume_role_policy=pulumi.Output.json_dumps(iam.lambda_assume_role_policy()),
        opts=opts,
    )
    return log_group, role


def traced_function(
    resource_name: str,
    *,
    cfg: PipelineConfig,
    archive: BuiltArchive,
    handler: str,
    memory_size_mb: int,
    timeout_seconds: int,
    variables: Mapping[str, pulumi.Input[str]],
    role: aws.iam.Role,
    log_group: aws.cloudwatch.LogGroup,
    role_policy: aws.iam.RolePolicy,
    parent: pulumi.Resource,
    single_instance: bool = False,
) -> aws.lambda_.Function:
    """One of filetrail's functions: the shared archive, X-Ray active, JSON logs to its group.

    `single_instance`: at most one invocation at a time, whatever the stack reserves for the
    others (a scheduled job that overlapping runs could only duplicate).
    """
    return aws.lambda_.Function(
        resource_name,
        runtime=RUNTIME,
        handler=handler,
        architectures=[cfg.architecture],
        code=pulumi.FileArchive(str(archive.path)),
        source_code_hash=archive.sha256_base64,
        role=role.arn,
        memory_size=memory_size_mb,
        timeout=timeout_seconds,
        reserved_concurrent_executions=1 if single_instance else cfg.reserved_concurrency,
        tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON",
            log_group=log_group.name,
            application_log_level=application_log_level(cfg.log_level),
        ),
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(variables)),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, role_policy]),
    )


def processing_function(
    name: str,
    *,
    cfg: PipelineConfig,
    archive: BuiltArchive,
    bucket: aws.s3.Bucket,
    table: aws.dynamodb.Table,
    parent: pulumi.Resource,
    dlq_event_rule_arns: Sequence[pulumi.Input[str]] = (),
) -> ProcessingFunction:
    """`dlq_event_rule_arns`: EventBridge rules targeting the function, whose undeliverable
    events share its dead-letter queue."""
    opts = pulumi.ResourceOptions(parent=parent)
    if archive.bytecode_version is None:
        pulumi.log.warn(SOURCES_ONLY_WARNING)
    dlq = dead_letter_queue(name, parent, dlq_event_rule_arns)
    log_group, role = log_group_and_role(f"{name}-function", cfg, parent)
    document = pulumi.Output.all(bucket.arn, table.arn, dlq.arn, log_group.arn).apply(
        lambda arns: iam.function_policy(
            bucket_arn=arns[0], table_arn=arns[1], dlq_arn=arns[2], log_group_arn=arns[3]
        )
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-function-policy",
        role=role.id,
        policy=pulumi.Output.json_dumps(document),
        opts=opts,
    )
    function = traced_function(
        f"{name}-function",
        cfg=cfg,
        archive=archive,
        handler=HANDLER,
        memory_size_mb=cfg.memory_size_mb,
        timeout_seconds=cfg.timeout_seconds,
        variables=environment(cfg, table.name, dlq.url),
        role=role,
        log_group=log_group,
        role_policy=role_policy,
        parent=parent,
    )
    invoke_config = aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-function-invoke",
        function_name=function.name,
        maximum_retry_attempts=cfg.max_retry_attempts,
        maximum_event_age_in_seconds=cfg.max_event_age_seconds,
        destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                destination=dlq.arn
            )
        ),
        opts=opts,
    )
    return ProcessingFunction(
        function=function, role=role, log_group=log_group, dlq=dlq, invoke_config=invoke_config
    )


def s3_invoke_permission(
    name: str,
    function: aws.lambda_.Function,
    bucket: aws.s3.Bucket,
    account_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.lambda_.Permission:
    return aws.lambda_.Permission(
        f"{name}-s3-invoke",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="s3.amazonaws.com",
        source_arn=bucket.arn,
        source_account=account_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
