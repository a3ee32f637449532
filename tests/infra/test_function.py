from collections.abc import Callable

import pytest

from handlers import schema
from infra.packaging import BuiltArchive
from tests.infra.harness import ACCOUNT_ID, Deployment

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUEUE = "aws:sqs/queue:Queue"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
PERMISSION = "aws:lambda/permission:Permission"


def test_function_runs_python_3_13(stack: Deployment) -> None:
    assert stack.one(FUNCTION).inputs["runtime"] == "python3.13"


def test_function_entry_point_is_the_handler(stack: Deployment) -> None:
    assert stack.one(FUNCTION).inputs["handler"] == "handlers.app.handler"


def test_function_defaults_to_arm64(stack: Deployment) -> None:
    assert stack.one(FUNCTION).inputs["architectures"] == ["arm64"]


def test_function_architecture_comes_from_config(deploy_with: Callable[..., Deployment]) -> None:
    function = deploy_with(architecture="x86_64").one(FUNCTION)
    assert function.inputs["architectures"] == ["x86_64"]


def test_function_memory_and_timeout_come_from_config(
    deploy_with: Callable[..., Deployment],
) -> None:
    function = deploy_with(memory_size_mb=1024, timeout_seconds=120).one(FUNCTION)
    assert (function.inputs["memorySize"], function.inputs["timeout"]) == (1024, 120)


def test_function_traces_actively(stack: Deployment) -> None:
    assert stack.one(FUNCTION).inputs["tracingConfig"] == {"mode": "Active"}


def test_function_logs_json_to_its_own_log_group(stack: Deployment) -> None:
    logging_config = stack.one(FUNCTION).inputs["loggingConfig"]
    assert logging_config["logFormat"] == "JSON"
    assert logging_config["logGroup"] == stack.one(LOG_GROUP).state["name"]


@pytest.mark.parametrize(
    ("log_level", "application_log_level"),
    [("DEBUG", "DEBUG"), ("INFO", "INFO"), ("WARNING", "INFO"), ("ERROR", "INFO")],
)
def test_lambda_never_filters_out_the_outcome_lines(
    deploy_with: Callable[..., Deployment], log_level: str, application_log_level: str
) -> None:
    """Outcome lines are INFO and feed every metric and alarm; Lambda drops application
    logs below `ApplicationLogLevel`, so it must never be above INFO:
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
    """
    logging_config = deploy_with(log_level=log_level).one(FUNCTION).inputs["loggingConfig"]
    assert logging_config["applicationLogLevel"] == application_log_level


def test_log_group_is_created_before_the_function(stack: Deployment) -> None:
    assert stack.one(LOG_GROUP).urn in stack.one(FUNCTION).dependencies


def test_role_policy_is_attached_before_the_function(stack: Deployment) -> None:
    policy = stack.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.urn in stack.one(FUNCTION).dependencies


def test_log_retention_comes_from_config(deploy_with: Callable[..., Deployment]) -> None:
    assert deploy_with(log_retention_days=90).one(LOG_GROUP).inputs["retentionInDays"] == 90


def test_function_environment_carries_the_handler_settings(stack: Deployment) -> None:
    variables = stack.one(FUNCTION).inputs["environment"]["variables"]
    assert variables == {
        schema.ENV_TABLE_NAME: stack.one("aws:dynamodb/table:Table").state["name"],
        schema.ENV_MAX_FILE_BYTES: str(schema.DEFAULT_MAX_FILE_BYTES),
        schema.ENV_ALLOWED_TYPES: schema.DEFAULT_ALLOWED_TYPES,
        schema.ENV_HEADER_BYTES: str(schema.DEFAULT_HEADER_BYTES),
        schema.ENV_TAG_OBJECTS: "true",
        schema.ENV_DLQ_URL: stack.one(QUEUE).state["url"],
        schema.ENV_LOG_LEVEL: "INFO",
        schema.ENV_STATUS_INDEX_SHARDS: str(schema.DEFAULT_STATUS_INDEX_SHARDS),
    }


def test_status_index_shards_setting_reaches_the_function(
    deploy_with: Callable[..., Deployment],
) -> None:
    variables = deploy_with(status_index_shards=16).one(FUNCTION).inputs["environment"]["variables"]
    assert variables[schema.ENV_STATUS_INDEX_SHARDS] == "16"


def test_tag_objects_setting_is_passed_as_false(deploy_with: Callable[..., Deployment]) -> None:
    stack = deploy_with(tag_objects=False, quarantine=False)
    assert stack.one(FUNCTION).inputs["environment"]["variables"][schema.ENV_TAG_OBJECTS] == "false"


def test_function_has_no_reserved_concurrency_by_default(stack: Deployment) -> None:
    assert "reservedConcurrentExecutions" not in stack.one(FUNCTION).inputs


def test_reserved_concurrency_comes_from_config(deploy_with: Callable[..., Deployment]) -> None:
    function = deploy_with(reserved_concurrency=20).one(FUNCTION)
    assert function.inputs["reservedConcurrentExecutions"] == 20


def test_function_code_hash_is_the_archive_hash(stack: Deployment, archive: BuiltArchive) -> None:
    assert stack.one(FUNCTION).inputs["sourceCodeHash"] == archive.sha256_base64


def test_invoke_config_retries_at_most_twice(stack: Deployment) -> None:
    assert stack.one(INVOKE_CONFIG).inputs["maximumRetryAttempts"] == 2


def test_invoke_config_event_age_comes_from_config(
    deploy_with: Callable[..., Deployment],
) -> None:
    config = deploy_with(max_event_age_seconds=900).one(INVOKE_CONFIG)
    assert config.inputs["maximumEventAgeInSeconds"] == 900


def test_invoke_config_sends_failures_to_the_dlq(stack: Deployment) -> None:
    config = stack.one(INVOKE_CONFIG).inputs
    assert config["destinationConfig"]["onFailure"]["destination"] == stack.one(QUEUE).state["arn"]
    assert config["functionName"] == stack.one(FUNCTION).state["name"]


def test_dlq_is_encrypted(stack: Deployment) -> None:
    assert stack.one(QUEUE).inputs["sqsManagedSseEnabled"] is True


def test_dlq_keeps_messages_for_fourteen_days(stack: Deployment) -> None:
    assert stack.one(QUEUE).inputs["messageRetentionSeconds"] == 14 * 24 * 3600


def test_dlq_policy_denies_insecure_transport(stack: Deployment) -> None:
    policy = stack.policy_json("aws:sqs/queuePolicy:QueuePolicy")
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "sqs:*"
    assert statement["Resource"] == [stack.one(QUEUE).state["arn"]]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert (
        stack.one("aws:sqs/queuePolicy:QueuePolicy").inputs["queueUrl"]
        == stack.one(QUEUE).state["url"]
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("action", "lambda:InvokeFunction"),
        ("principal", "s3.amazonaws.com"),
        ("sourceAccount", ACCOUNT_ID),
    ],
)
def test_s3_invoke_permission(stack: Deployment, key: str, expected: str) -> None:
    assert stack.one(PERMISSION).inputs[key] == expected


def test_s3_invoke_permission_is_scoped_to_the_bucket(stack: Deployment) -> None:
    permission = stack.one(PERMISSION).inputs
    assert permission["sourceArn"] == stack.one("aws:s3/bucket:Bucket").state["arn"]
    assert permission["function"] == stack.one(FUNCTION).state["name"]
