"""The baseline's checks as plain functions, so tests can run them without the policy engine.

A resource rule takes `(resource_type, props)` (props as the engine sees them: camelCase)
and returns violation messages. A stack rule takes every resource as `(type, props)` pairs,
for controls that span resources (a bucket and its public access block).
Control ids cite AWS Foundational Security Best Practices (FSBP) and checkov.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Props = Mapping[str, Any]
ResourceCheck = Callable[[str, Props], list[str]]
StackCheck = Callable[[Sequence[tuple[str, Props]]], list[str]]

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
TABLE = "aws:dynamodb/table:Table"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
IAM_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")

# Lambda runtimes not deprecated (FSBP Lambda.2 list, Python and Node families).
SUPPORTED_RUNTIMES = frozenset(
    {"python3.10", "python3.11", "python3.12", "python3.13", "nodejs20.x", "nodejs22.x"}
)
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)
SSE_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
# Services that accept no resource-level scoping, where "Resource": "*" is unavoidable.
RESOURCELESS_SERVICES = frozenset({"xray"})
# Single actions that accept no resource either (Service Authorization Reference).
RESOURCELESS_ACTIONS = frozenset({"dynamodb:ListStreams"})


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    resource_types: tuple[str, ...]
    check: ResourceCheck
    # Advisory rules report without failing a deployment.
    mandatory: bool = True


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck


def _as_list(value: Any) -> list[Any]:
    # The engine hands lists over as read-only Sequence proxies, not `list`.
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        parsed: dict[str, Any] = json.loads(value)
        return parsed
    return dict(value or {})


def s3_public_access_blocked(_: str, props: Props) -> list[str]:
    """FSBP S3.8 / checkov CKV_AWS_53-56."""
    return [f"{flag} must be true" for flag in PUBLIC_ACCESS_FLAGS if props.get(flag) is not True]


def s3_default_encryption(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_145/CKV_AWS_19: default encryption configured."""
    algorithms = [
        (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
        for rule in _as_list(props.get("rules"))
    ]
    if not algorithms or any(a not in SSE_ALGORITHMS for a in algorithms):
        return [f"default encryption must use one of {sorted(SSE_ALGORITHMS)}"]
    return []


def s3_versioning(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_21."""
    status = (props.get("versioningConfiguration") or {}).get("status")
    return [] if status == "Enabled" else ["bucket versioning must be Enabled"]


def s3_tls_only(_: str, props: Props) -> list[str]:
    """FSBP S3.5: the bucket policy denies requests without TLS."""
    for statement in _as_list(_document(props.get("policy")).get("Statement")):
        secure = ((statement.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport")
        actions = _as_list(statement.get("Action"))
        if (
            statement.get("Effect") == "Deny"
            and str(secure).lower() == "false"
            and ("s3:*" in actions or "*" in actions)
        ):
            return []
    return ["bucket policy must deny s3:* when aws:SecureTransport is false"]


def lambda_tracing(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_50."""
    mode = (props.get("tracingConfig") or {}).get("mode")
    return [] if mode == "Active" else ["X-Ray tracing must be Active"]


def lambda_supported_runtime(_: str, props: Props) -> list[str]:
    """FSBP Lambda.2."""
    runtime = props.get("runtime")
    return [] if runtime in SUPPORTED_RUNTIMES else [f"runtime {runtime!r} is not supported"]


def lambda_concurrency(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_115 (advisory: reserving concurrency fails on low-quota accounts)."""
    reserved = props.get("reservedConcurrentExecutions")
    if reserved is None or reserved < 0:
        return ["function should reserve concurrency (reservedConcurrentExecutions)"]
    return []


def lambda_failure_destination(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_116 for asynchronous invocation: failures land somewhere."""
    destination = ((props.get("destinationConfig") or {}).get("onFailure") or {}).get("destination")
    return [] if destination else ["asynchronous invocations need an on-failure destination"]


def lambda_stream_failures(_: str, props: Props) -> list[str]:
    """A stream mapping never blocks its shard on one record: bounded retries, bisection,
    and an on-failure destination (checkov CKV_AWS_116's intent, for poll-based sources)."""
    problems = []
    destination = ((props.get("destinationConfig") or {}).get("onFailure") or {}).get(
        "destinationArn"
    )
    if not destination:
        problems.append("stream mappings need an on-failure destination")
    retries = props.get("maximumRetryAttempts")
    if retries is None or retries < 0:
        problems.append("stream mappings need a bounded maximumRetryAttempts")
    if props.get("bisectBatchOnFunctionError") is not True:
        problems.append("stream mappings should bisect a failing batch")
    return problems


def dynamodb_point_in_time_recovery(_: str, props: Props) -> list[str]:
    """FSBP DynamoDB.2 / checkov CKV_AWS_28."""
    enabled = (props.get("pointInTimeRecovery") or {}).get("enabled")
    return [] if enabled is True else ["point-in-time recovery must be enabled"]


def dynamodb_encryption(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_119: encrypted at rest with a KMS key."""
    enabled = (props.get("serverSideEncryption") or {}).get("enabled")
    return [] if enabled is True else ["server-side encryption must be enabled"]


def log_retention(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_66: log groups do not grow forever."""
    days = props.get("retentionInDays")
    # The engine passes every number as a float.
    if isinstance(days, int | float) and not isinstance(days, bool) and days > 0:
        return []
    return ["log group needs a retention period"]


def sqs_encryption(_: str, props: Props) -> list[str]:
    """FSBP SQS.1 / checkov CKV_AWS_27."""
    if props.get("sqsManagedSseEnabled") is True or props.get("kmsMasterKeyId"):
        return []
    return ["queue must be encrypted at rest"]


def sns_encryption(_: str, props: Props) -> list[str]:
    """FSBP SNS.1 / checkov CKV_AWS_26."""
    return [] if props.get("kmsMasterKeyId") else ["topic must be encrypted with a KMS key"]


def kms_rotation(_: str, props: Props) -> list[str]:
    """FSBP KMS.4 / checkov CKV_AWS_7."""
    return [] if props.get("enableKeyRotation") is True else ["key rotation must be enabled"]


def _allow_statements(props: Props) -> list[dict[str, Any]]:
    statements = _as_list(_document(props.get("policy")).get("Statement"))
    return [s for s in statements if s.get("Effect") == "Allow"]


def iam_no_wildcard_actions(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_63/CKV_AWS_290: no `*` or `service:*` actions."""
    return [
        f"statement {s.get('Sid', '?')} allows wildcard action {action!r}"
        for s in _allow_statements(props)
        for action in _as_list(s.get("Action"))
        if action == "*" or action.endswith(":*")
    ] + [
        f"statement {s.get('Sid', '?')} uses NotAction"
        for s in _allow_statements(props)
        if "NotAction" in s
    ]


def iam_no_wildcard_resources(_: str, props: Props) -> list[str]:
    """checkov CKV_AWS_355/CKV_AWS_289: `*` resources only for services with no ARNs."""
    violations = []
    for s in _allow_statements(props):
        if "*" not in _as_list(s.get("Resource")):
            continue
        actions = [str(a) for a in _as_list(s.get("Action"))]
        if not all(
            a.split(":", 1)[0] in RESOURCELESS_SERVICES or a in RESOURCELESS_ACTIONS
            for a in actions
        ):
            violations.append(f"statement {s.get('Sid', '?')} allows Resource '*'")
    return violations


RULES: tuple[Rule, ...] = (
    Rule("s3-public-access-block", "S3 blocks all public access.", (PUBLIC_ACCESS_BLOCK,),
         s3_public_access_blocked),
    Rule("s3-default-encryption", "S3 encrypts objects by default.", (BUCKET_ENCRYPTION,),
         s3_default_encryption),
    Rule("s3-versioning", "S3 keeps object versions.", (BUCKET_VERSIONING,), s3_versioning),
    Rule("s3-tls-only", "S3 denies requests without TLS.", (BUCKET_POLICY,), s3_tls_only),
    Rule("lambda-tracing", "Lambda traces with X-Ray.", (FUNCTION,), lambda_tracing),
    Rule("lambda-supported-runtime", "Lambda uses a supported runtime.", (FUNCTION,),
         lambda_supported_runtime),
    Rule("lambda-reserved-concurrency", "Lambda reserves concurrency.", (FUNCTION,),
         lambda_concurrency, mandatory=False),
    Rule("lambda-failure-destination", "Async failures go to a destination.", (INVOKE_CONFIG,),
         lambda_failure_destination),
    Rule("lambda-stream-failures", "A stream record cannot block its shard.",
         (EVENT_SOURCE_MAPPING,), lambda_stream_failures),
    Rule("dynamodb-pitr", "DynamoDB has point-in-time recovery.", (TABLE,),
         dynamodb_point_in_time_recovery),
    Rule("dynamodb-encryption", "DynamoDB is encrypted at rest.", (TABLE,), dynamodb_encryption),
    Rule("log-retention", "Log groups have a retention period.", (LOG_GROUP,), log_retention),
    Rule("sqs-encryption", "SQS queues are encrypted.", (QUEUE,), sqs_encryption),
    Rule("sns-encryption", "SNS topics are encrypted.", (TOPIC,), sns_encryption),
    Rule("kms-rotation", "KMS keys rotate.", (KMS_KEY,), kms_rotation),
    Rule("iam-no-wildcard-actions", "IAM policies name their actions.", IAM_POLICY_TYPES,
         iam_no_wildcard_actions),
    Rule("iam-no-wildcard-resources", "IAM policies name their resources.", IAM_POLICY_TYPES,
         iam_no_wildcard_resources),
)  # fmt: skip


def _count(resources: Sequence[tuple[str, Props]], resource_type: str) -> int:
    return sum(1 for t, _ in resources if t == resource_type)


def _each_bucket_has(resource_type: str, what: str) -> StackCheck:
    # Matched by count: during a preview the bucket names linking them may be unknown.
    def check(resources: Sequence[tuple[str, Props]]) -> list[str]:
        buckets, covered = _count(resources, BUCKET), _count(resources, resource_type)
        return [] if covered >= buckets else [f"{buckets - covered} bucket(s) without {what}"]

    return check


def functions_have_failure_destinations(resources: Sequence[tuple[str, Props]]) -> list[str]:
    """checkov CKV_AWS_116: every function has a DLQ or an on-failure destination."""
    without_dlq = sum(
        1
        for t, props in resources
        if t == FUNCTION and not (props.get("deadLetterConfig") or {}).get("targetArn")
    )
    destinations = sum(
        1
        for t, props in resources
        if t == INVOKE_CONFIG and not lambda_failure_destination(t, props)
    )
    if destinations >= without_dlq:
        return []
    return [f"{without_dlq - destinations} function(s) without a DLQ or on-failure destination"]


STACK_RULES: tuple[StackRule, ...] = (
    StackRule("s3-bucket-public-access-block", "Every bucket has a public access block.",
              _each_bucket_has(PUBLIC_ACCESS_BLOCK, "a public access block")),
    StackRule("s3-bucket-encryption", "Every bucket has default encryption.",
              _each_bucket_has(BUCKET_ENCRYPTION, "default encryption")),
    StackRule("s3-bucket-versioning", "Every bucket is versioned.",
              _each_bucket_has(BUCKET_VERSIONING, "versioning")),
    StackRule("s3-bucket-tls-only", "Every bucket has a TLS-only policy.",
              _each_bucket_has(BUCKET_POLICY, "a bucket policy")),
    StackRule("lambda-dead-letter", "Every function's async failures are kept.",
              functions_have_failure_destinations),
)  # fmt: skip


def violations(resource_type: str, props: Props, *, mandatory_only: bool = False) -> list[str]:
    """Every rule's violations for one resource, prefixed with the rule name."""
    return [
        f"{rule.name}: {message}"
        for rule in RULES
        if resource_type in rule.resource_types and (rule.mandatory or not mandatory_only)
        for message in rule.check(resource_type, props)
    ]


def stack_violations(resources: Sequence[tuple[str, Props]]) -> list[str]:
    return [f"{rule.name}: {message}" for rule in STACK_RULES for message in rule.check(resources)]
