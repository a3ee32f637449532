"""The function role's inline policy against what the handler actually calls."""

from typing import Any

import pytest

from tests.infra.harness import Deployment
from tests.support.iam_check import RecordedCall, check, is_allowed, parliament_findings

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECT_KEY = "incoming/report.pdf"

# Every call the handler makes (handlers/objects.py, store.py, deadletter.py), as a recorder
# of botocore events reports them. Replace with the integration suite's recorder output:
# the test below only needs `(service, operation, resource_arn)` tuples.
HANDLER_CALLS = (
    ("s3", "GetObject", "{bucket_arn}/" + OBJECT_KEY),
    ("s3", "GetObjectVersion", "{bucket_arn}/" + OBJECT_KEY),
    ("s3", "GetObjectTagging", "{bucket_arn}/" + OBJECT_KEY),
    ("s3", "GetObjectVersionTagging", "{bucket_arn}/" + OBJECT_KEY),
    ("s3", "PutObjectTagging", "{bucket_arn}/" + OBJECT_KEY),
    ("s3", "PutObjectVersionTagging", "{bucket_arn}/" + OBJECT_KEY),
    ("dynamodb", "BatchGetItem", "{table_arn}"),
    ("dynamodb", "TransactWriteItems", "{table_arn}"),
    ("sqs", "SendMessage", "{queue_arn}"),
)


@pytest.fixture
def function_policy(stack: Deployment) -> dict[str, Any]:
    return stack.policy_json(ROLE_POLICY)


@pytest.fixture
def recorded_calls(stack: Deployment) -> list[RecordedCall]:
    arns = {
        "bucket_arn": stack.one("aws:s3/bucket:Bucket").state["arn"],
        "table_arn": stack.one("aws:dynamodb/table:Table").state["arn"],
        "queue_arn": stack.one("aws:sqs/queue:Queue").state["arn"],
    }
    return [(s, op, arn.format(**arns)) for s, op, arn in HANDLER_CALLS]


def test_role_is_assumable_by_lambda_only(stack: Deployment) -> None:
    trust = stack.policy_json("aws:iam/role:Role", "assumeRolePolicy")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_inline_policy_is_attached_to_the_function_role(stack: Deployment) -> None:
    assert stack.one(ROLE_POLICY).inputs["role"] == stack.one("aws:iam/role:Role").state["name"]


def test_every_handler_call_is_allowed(
    function_policy: dict[str, Any], recorded_calls: list[RecordedCall]
) -> None:
    assert check(function_policy, recorded_calls).denied == []


def test_policy_allows_nothing_the_handler_does_not_call(
    function_policy: dict[str, Any], recorded_calls: list[RecordedCall]
) -> None:
    report = check(function_policy, recorded_calls, ignore_services=("logs", "xray"))
    assert report.unused == []


def test_object_access_is_limited_to_the_upload_bucket(function_policy: dict[str, Any]) -> None:
    assert not is_allowed(function_policy, "s3:GetObject", "arn:aws:s3:::another-bucket/x")


def test_bucket_level_actions_are_not_allowed(
    function_policy: dict[str, Any], stack: Deployment
) -> None:
    bucket_arn = stack.one("aws:s3/bucket:Bucket").state["arn"]
    assert not is_allowed(function_policy, "s3:ListBucket", bucket_arn)


def test_logs_are_limited_to_the_function_log_group(
    function_policy: dict[str, Any], stack: Deployment
) -> None:
    log_group_arn = stack.one("aws:cloudwatch/logGroup:LogGroup").state["arn"]
    stream = f"{log_group_arn}:log-stream:2026/11/28/[$LATEST]abc"
    assert is_allowed(function_policy, "logs:PutLogEvents", stream)
    assert is_allowed(function_policy, "logs:CreateLogStream", stream)
    assert not is_allowed(function_policy, "logs:CreateLogGroup", log_group_arn)
    assert not is_allowed(
        function_policy,
        "logs:PutLogEvents",
        log_group_arn.replace("log-group:", "log-group:other-") + ":log-stream:x",
    )


def test_table_writes_cannot_update_or_delete(
    function_policy: dict[str, Any], stack: Deployment
) -> None:
    table_arn = stack.one("aws:dynamodb/table:Table").state["arn"]
    assert not is_allowed(function_policy, "dynamodb:UpdateItem", table_arn)
    assert not is_allowed(function_policy, "dynamodb:DeleteItem", table_arn)
    assert not is_allowed(function_policy, "dynamodb:Scan", table_arn)


def test_wildcard_resource_only_for_xray(function_policy: dict[str, Any]) -> None:
    wildcard_actions = {
        action
        for statement in function_policy["Statement"]
        if statement["Resource"] == "*"
        for action in statement["Action"]
    }
    assert wildcard_actions == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_parliament_reports_no_findings(function_policy: dict[str, Any]) -> None:
    assert parliament_findings(function_policy) == []
