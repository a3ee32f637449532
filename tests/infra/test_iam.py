"""The function role's inline policy against what the handler actually calls."""

from typing import Any

import pytest

from tests.infra.harness import Deployment
from tests.support.handler_calls import EMULATOR_ARNS, record_handler_calls
from tests.support.iam_check import (
    RecordedCall,
    check,
    is_allowed,
    parliament_findings,
    retarget,
)

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECT_KEY = "incoming/report.pdf"


@pytest.fixture
def function_policy(stack: Deployment) -> dict[str, Any]:
    return stack.policy_json(ROLE_POLICY)


@pytest.fixture
def recorded_calls(stack: Deployment) -> list[RecordedCall]:
    """The handler's calls, recorded live on the emulator, pointed at this stack's ARNs."""
    deployed = {
        EMULATOR_ARNS["bucket"]: stack.one("aws:s3/bucket:Bucket").state["arn"],
        EMULATOR_ARNS["table"]: stack.one("aws:dynamodb/table:Table").state["arn"],
        EMULATOR_ARNS["queue"]: stack.one("aws:sqs/queue:Queue").state["arn"],
    }
    return retarget(record_handler_calls(), deployed)


def test_recording_saw_every_kind_of_call_the_handler_makes() -> None:
    actions = {(service, action) for service, action, _ in record_handler_calls()}
    assert actions == {
        ("s3", "GetObject"),
        ("s3", "GetObjectVersion"),
        ("s3", "HeadObject"),
        ("s3", "ListBucket"),
        ("s3", "GetObjectTagging"),
        ("s3", "GetObjectVersionTagging"),
        ("s3", "PutObjectTagging"),
        ("s3", "PutObjectVersionTagging"),
        ("dynamodb", "BatchGetItem"),
        ("dynamodb", "PutItem"),
        ("sqs", "SendMessage"),
    }


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


def test_the_only_bucket_level_action_is_list_bucket_on_the_upload_bucket(
    function_policy: dict[str, Any], stack: Deployment
) -> None:
    """s3:ListBucket makes S3 answer a missing key 404 instead of 403 (HeadObject API
    reference): https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html"""
    bucket_arn = stack.one("aws:s3/bucket:Bucket").state["arn"]
    assert is_allowed(function_policy, "s3:ListBucket", bucket_arn)
    assert not is_allowed(function_policy, "s3:ListBucket", "arn:aws:s3:::another-bucket")
    for action in ("s3:DeleteObject", "s3:PutObject", "s3:PutBucketPolicy", "s3:ListAllMyBuckets"):
        assert not is_allowed(function_policy, action, bucket_arn)
        assert not is_allowed(function_policy, action, f"{bucket_arn}/k")


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
