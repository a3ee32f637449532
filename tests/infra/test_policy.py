"""The policy pack's rules run on the program's own resources (mocked), and each can fail."""

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import rules
from policy.pack import policies
from tests.infra.harness import Deployment

Props = dict[str, Any]
Mutation = Callable[[Props], None]


def _resources(stack: Deployment) -> list[tuple[str, Props]]:
    return [(r.type, copy.deepcopy(r.inputs)) for r in stack.resources]


def _set(path: str, value: Any) -> Mutation:
    def mutate(props: Props) -> None:
        *parents, last = path.split(".")
        target: Any = props
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value

    return mutate


def _edit_policy(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(props: Props) -> None:
        document = json.loads(props["policy"])
        edit(document)
        props["policy"] = json.dumps(document)

    return mutate


def _drop_tls_statement(document: dict[str, Any]) -> None:
    document["Statement"] = [
        s for s in document["Statement"] if s.get("Sid") != "DenyInsecureTransport"
    ]


def _grant_service_wildcard(document: dict[str, Any]) -> None:
    document["Statement"][0]["Action"] = ["s3:*"]


def _widen_object_resource(document: dict[str, Any]) -> None:
    document["Statement"][0]["Resource"] = "*"


# rule name -> (resource type, how to break the program's compliant resource)
NEGATIVE: dict[str, tuple[str, Mutation]] = {
    "s3-public-access-block": (rules.PUBLIC_ACCESS_BLOCK, _set("blockPublicPolicy", False)),
    "s3-default-encryption": (
        rules.BUCKET_ENCRYPTION,
        _set("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "NONE"),
    ),
    "s3-versioning": (rules.BUCKET_VERSIONING, _set("versioningConfiguration.status", "Suspended")),
    "s3-tls-only": (rules.BUCKET_POLICY, _edit_policy(_drop_tls_statement)),
    "lambda-tracing": (rules.FUNCTION, _set("tracingConfig.mode", "PassThrough")),
    "lambda-supported-runtime": (rules.FUNCTION, _set("runtime", "python3.8")),
    "lambda-reserved-concurrency": (rules.FUNCTION, _set("reservedConcurrentExecutions", None)),
    "lambda-failure-destination": (rules.INVOKE_CONFIG, _set("destinationConfig", None)),
    "lambda-stream-failures": (rules.EVENT_SOURCE_MAPPING, _set("destinationConfig", None)),
    "dynamodb-pitr": (rules.TABLE, _set("pointInTimeRecovery.enabled", False)),
    "dynamodb-encryption": (rules.TABLE, _set("serverSideEncryption.enabled", False)),
    "log-retention": (rules.LOG_GROUP, _set("retentionInDays", None)),
    "sqs-encryption": (rules.QUEUE, _set("sqsManagedSseEnabled", False)),
    "sns-encryption": (rules.TOPIC, _set("kmsMasterKeyId", None)),
    "kms-rotation": (rules.KMS_KEY, _set("enableKeyRotation", False)),
    "iam-no-wildcard-actions": (
        IAM := rules.IAM_POLICY_TYPES[0],
        _edit_policy(_grant_service_wildcard),
    ),
    "iam-no-wildcard-resources": (IAM, _edit_policy(_widen_object_resource)),
}

# stack rule name -> the resource type whose absence it must notice
NEGATIVE_STACK: dict[str, str] = {
    "s3-bucket-public-access-block": rules.PUBLIC_ACCESS_BLOCK,
    "s3-bucket-encryption": rules.BUCKET_ENCRYPTION,
    "s3-bucket-versioning": rules.BUCKET_VERSIONING,
    "s3-bucket-tls-only": rules.BUCKET_POLICY,
    "lambda-dead-letter": rules.INVOKE_CONFIG,
}


@pytest.fixture
def production(deploy_with: Callable[..., Deployment]) -> Deployment:
    return deploy_with(
        reserved_concurrency=50,
        deletion_protection=True,
        notifications=True,
        malware_scan="guardduty",
    )


def _rule(name: str) -> rules.Rule:
    (rule,) = [r for r in rules.RULES if r.name == name]
    return rule


def test_every_rule_has_a_negative_case() -> None:
    assert set(NEGATIVE) == {r.name for r in rules.RULES}
    assert set(NEGATIVE_STACK) == {r.name for r in rules.STACK_RULES}


def test_every_rule_applies_to_a_resource_the_program_declares(production: Deployment) -> None:
    declared = {r.type for r in production.resources}
    assert [r.name for r in rules.RULES if not set(r.resource_types) & declared] == []


def test_program_passes_every_mandatory_rule(stack: Deployment) -> None:
    found = {
        r.name: rules.violations(r.type, r.inputs, mandatory_only=True) for r in stack.resources
    }
    assert {name: v for name, v in found.items() if v} == {}


def test_program_with_production_settings_passes_every_rule(production: Deployment) -> None:
    found = {r.name: rules.violations(r.type, r.inputs) for r in production.resources}
    assert {name: v for name, v in found.items() if v} == {}


def test_default_program_is_advised_to_reserve_concurrency(stack: Deployment) -> None:
    function = stack.one(rules.FUNCTION)
    assert rules.violations(function.type, function.inputs) == [
        "lambda-reserved-concurrency: function should reserve concurrency "
        "(reservedConcurrentExecutions)"
    ]


def test_program_passes_every_stack_rule(stack: Deployment) -> None:
    assert rules.stack_violations(_resources(stack)) == []


def test_production_program_with_every_stage_passes_every_stack_rule(
    production: Deployment,
) -> None:
    """Notifications are on by default: the notifier is a function the rule counts too."""
    assert rules.stack_violations(_resources(production)) == []


@pytest.mark.parametrize("rule_name", sorted(NEGATIVE))
def test_rule_reports_a_broken_resource(production: Deployment, rule_name: str) -> None:
    resource_type, mutate = NEGATIVE[rule_name]
    # The first of its type (the processing function before the notifier, and so on).
    props = copy.deepcopy(production.of_type(resource_type)[0].inputs)
    mutate(props)
    rule = _rule(rule_name)
    assert rule.check(resource_type, props) != []
    assert all(m.startswith(f"{rule_name}: ") for m in rules.violations(resource_type, props))


@pytest.mark.parametrize("rule_name", sorted(NEGATIVE_STACK))
def test_stack_rule_reports_a_missing_resource(stack: Deployment, rule_name: str) -> None:
    missing = NEGATIVE_STACK[rule_name]
    (rule,) = [r for r in rules.STACK_RULES if r.name == rule_name]
    remaining = [(t, p) for t, p in _resources(stack) if t != missing]
    assert rule.check(remaining) != []


def _policy_resource(resource_type: str, props: Props) -> PolicyResource:
    opts = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )
    return PolicyResource(resource_type, props, "urn:x", "x", opts, None, None, [], {})


def _run_resource_policy(
    policy: ResourceValidationPolicy, resource_type: str, props: Props
) -> list[str]:
    reported: list[str] = []
    opts = _policy_resource(resource_type, props).opts
    args = ResourceValidationArgs(resource_type, props, "urn:x", "x", opts, None)
    validate = policy.validate
    assert callable(validate)
    validate(args, lambda message, urn: reported.append(message))
    return reported


def test_pack_wires_each_rule_with_its_enforcement_level() -> None:
    levels = {p.name: p.enforcement_level for p in policies()}
    assert levels["lambda-reserved-concurrency"] == EnforcementLevel.ADVISORY
    assert levels["s3-tls-only"] == EnforcementLevel.MANDATORY
    assert set(levels) == {r.name for r in rules.RULES} | {r.name for r in rules.STACK_RULES}


def test_pack_resource_policy_reports_through_the_engine_callback(stack: Deployment) -> None:
    (policy,) = [p for p in policies() if p.name == "lambda-tracing"]
    assert isinstance(policy, ResourceValidationPolicy)
    props = copy.deepcopy(stack.one(rules.FUNCTION).inputs)
    assert _run_resource_policy(policy, rules.FUNCTION, props) == []
    props["tracingConfig"] = {"mode": "PassThrough"}
    assert _run_resource_policy(policy, rules.FUNCTION, props) == ["X-Ray tracing must be Active"]


def test_pack_stack_policy_sees_every_resource(stack: Deployment) -> None:
    (policy,) = [p for p in policies() if p.name == "lambda-dead-letter"]
    assert isinstance(policy, StackValidationPolicy)
    reported: list[str] = []
    resources = [_policy_resource(t, p) for t, p in _resources(stack) if t != rules.INVOKE_CONFIG]
    validate = policy.validate
    assert callable(validate)
    validate(StackValidationArgs(resources), lambda message, urn: reported.append(message))
    assert reported == ["1 function(s) without a DLQ or on-failure destination"]


def _as_engine_sees(props: Props) -> Any:
    """Props wrapped the way the policy engine passes them: lists and dicts are proxies."""
    return unknown_checking_proxy(copy.deepcopy(props))


def test_program_passes_every_rule_as_the_engine_presents_it(production: Deployment) -> None:
    found = {
        r.name: rules.violations(r.type, _as_engine_sees(r.inputs)) for r in production.resources
    }
    assert {name: v for name, v in found.items() if v} == {}


def test_program_passes_every_stack_rule_as_the_engine_presents_it(stack: Deployment) -> None:
    resources = [(t, _as_engine_sees(p)) for t, p in _resources(stack)]
    assert rules.stack_violations(resources) == []


@pytest.mark.parametrize("rule_name", sorted(NEGATIVE))
def test_rule_reports_a_broken_resource_as_the_engine_presents_it(
    production: Deployment, rule_name: str
) -> None:
    resource_type, mutate = NEGATIVE[rule_name]
    # The first of its type (the processing function before the notifier, and so on).
    props = copy.deepcopy(production.of_type(resource_type)[0].inputs)
    mutate(props)
    assert _rule(rule_name).check(resource_type, _as_engine_sees(props)) != []


def test_policy_unknown_at_preview_is_left_to_the_engine(production: Deployment) -> None:
    """An unknown value raises UnknownValueError: the engine reports 'can't run during preview'."""
    props = copy.deepcopy(production.of_type(rules.BUCKET_POLICY)[0].inputs)
    props["policy"] = UNKNOWN_STRING_VALUE
    with pytest.raises(UnknownValueError):
        rules.s3_tls_only(rules.BUCKET_POLICY, _as_engine_sees(props))
