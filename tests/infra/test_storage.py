import itertools
from collections.abc import Callable
from typing import Any

import pytest

from handlers import schema
from tests.infra.harness import Deployment

BUCKET = "aws:s3/bucket:Bucket"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
TABLE = "aws:dynamodb/table:Table"


def _bucket_arn(stack: Deployment) -> str:
    arn: str = stack.one(BUCKET).state["arn"]
    return arn


def _statement(stack: Deployment, sid: str) -> dict[str, Any]:
    policy = stack.policy_json("aws:s3/bucketPolicy:BucketPolicy")
    (found,) = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return dict(found)


def _lifecycle_rule(stack: Deployment, rule_id: str) -> dict[str, Any]:
    rules = stack.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ]
    (found,) = [r for r in rules if r["id"] == rule_id]
    assert found["status"] == "Enabled"
    return dict(found)


@pytest.mark.parametrize(
    "flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
)
def test_public_access_block_sets_flag(stack: Deployment, flag: str) -> None:
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs[flag] is True


def test_public_access_block_applies_to_the_upload_bucket(stack: Deployment) -> None:
    block = stack.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs["bucket"] == stack.one(BUCKET).state["bucket"]


def test_bucket_owner_enforced_disables_acls(stack: Deployment) -> None:
    ownership = stack.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_bucket_has_default_encryption(stack: Deployment) -> None:
    sse = stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_bucket_versioning_is_enabled(stack: Deployment) -> None:
    versioning = stack.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"


def test_bucket_is_kept_on_destroy_unless_configured(stack: Deployment) -> None:
    assert stack.one(BUCKET).inputs.get("forceDestroy") is False


def test_bucket_policy_denies_insecure_transport_on_bucket_and_objects(stack: Deployment) -> None:
    statement = _statement(stack, "DenyInsecureTransport")
    arn = _bucket_arn(stack)
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert sorted(statement["Resource"]) == sorted([arn, f"{arn}/*"])
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_quarantine_denies_reads_of_objects_not_tagged_stored(stack: Deployment) -> None:
    statement = _statement(stack, "QuarantineUnvalidatedObjects")
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert set(statement["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert statement["Resource"] == f"{_bucket_arn(stack)}/*"
    not_equals = statement["Condition"]["StringNotEquals"]
    assert not_equals[f"s3:ExistingObjectTag/{schema.TAG_KEY}"] == schema.TAG_STORED


def test_quarantine_exempts_only_the_function_role(stack: Deployment) -> None:
    statement = _statement(stack, "QuarantineUnvalidatedObjects")
    role_arn = stack.one("aws:iam/role:Role").state["arn"]
    assert statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"] == role_arn


def _denies(statement: dict[str, Any], context: dict[str, Any]) -> bool:
    """Whether a Deny statement's Condition matches a request context, by IAM's rules:
    operators and the keys within one are ANDed, a key's values ORed; condition key names
    are case-insensitive; a key absent from the request fails a positive operator and
    passes a negated one; `Null: "false"` means "present"; ForAnyValue takes a list.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    """
    request = {key.lower(): value for key, value in context.items()}
    for operator, keys in statement["Condition"].items():
        for key, expected in keys.items():
            values = expected if isinstance(expected, list) else [expected]
            actual = request.get(key.lower())
            if operator == "Null":
                matched = (actual is None) == (values[0] == "true")
            elif operator == "StringNotEquals":
                matched = actual is None or actual not in values
            elif operator == "ForAnyValue:StringEquals":
                matched = any(a in values for a in actual or [])
            elif operator == "ForAnyValue:StringEqualsIgnoreCase":
                lowered = {v.lower() for v in values}
                matched = any(a.lower() in lowered for a in actual or [])
            else:
                raise AssertionError(f"operator {operator} is not modelled")
            if not matched:
                return False
    return True


@pytest.mark.parametrize(
    ("reader", "tag", "denied"),
    [
        ("function", None, False),
        ("function", schema.TAG_REJECTED, False),
        ("operator", None, True),
        ("operator", schema.TAG_REJECTED, True),
        ("operator", schema.TAG_STORED, False),
    ],
)
def test_quarantine_lets_only_the_function_read_unvalidated_objects(
    stack: Deployment, reader: str, tag: str | None, denied: bool
) -> None:
    statement = _statement(stack, "QuarantineUnvalidatedObjects")
    principals = {
        "function": stack.one("aws:iam/role:Role").state["arn"],
        "operator": "arn:aws:iam::123456789012:role/Admin",
    }
    context = {"aws:PrincipalArn": principals[reader]}
    if tag is not None:
        context[f"s3:ExistingObjectTag/{schema.TAG_KEY}"] = tag
    assert _denies(statement, context) is denied


def test_only_the_function_may_set_the_outcome_tag(stack: Deployment) -> None:
    statement = _statement(stack, "OnlyTheFunctionSetsTheOutcomeTag")
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert set(statement["Action"]) == {
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    }


UPLOADER = "arn:aws:iam::123456789012:role/Uploader"


@pytest.mark.parametrize(
    ("principal", "tag_keys", "denied"),
    [
        ("uploader", [schema.TAG_KEY], True),
        ("uploader", ["Filetrail-Status"], True),  # tag keys are case-sensitive, IAM keys not
        ("uploader", ["FILETRAIL-STATUS", "team"], True),
        ("uploader", ["team"], False),
        ("uploader", None, False),
        ("function", [schema.TAG_KEY], False),
    ],
)
def test_no_spelling_of_the_outcome_tag_is_left_to_uploaders(
    stack: Deployment, principal: str, tag_keys: list[str] | None, denied: bool
) -> None:
    statement = _statement(stack, "OnlyTheFunctionSetsTheOutcomeTag")
    role = stack.one("aws:iam/role:Role").state["arn"]
    context: dict[str, Any] = {"aws:PrincipalArn": role if principal == "function" else UPLOADER}
    if tag_keys is not None:
        context["s3:RequestObjectTagKeys"] = tag_keys
    assert _denies(statement, context) is denied


@pytest.mark.parametrize(
    ("principal", "copy_source", "denied"),
    [
        ("uploader", "other-bucket/stored.pdf", True),
        ("uploader", None, False),
        ("function", "other-bucket/stored.pdf", False),
    ],
)
def test_copies_into_the_bucket_are_refused_to_all_but_the_function(
    stack: Deployment, principal: str, copy_source: str | None, denied: bool
) -> None:
    """CopyObject keeps the source's tags unless told otherwise, so a copy of an object
    tagged STORED in another bucket would be readable unvalidated:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html"""
    statement = _statement(stack, "NoCopiesIntoTheBucket")
    assert (statement["Effect"], statement["Action"]) == ("Deny", "s3:PutObject")
    role = stack.one("aws:iam/role:Role").state["arn"]
    context: dict[str, Any] = {"aws:PrincipalArn": role if principal == "function" else UPLOADER}
    if copy_source is not None:
        context["s3:x-amz-copy-source"] = copy_source
    assert _denies(statement, context) is denied


@pytest.mark.parametrize(
    ("headers", "denied"),
    [
        ({}, False),
        ({"s3:x-amz-server-side-encryption": "AES256"}, False),
        ({"s3:x-amz-server-side-encryption": "aws:kms"}, True),
        ({"s3:x-amz-server-side-encryption": "aws:kms:dsse"}, True),
        ({"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}, True),
    ],
)
def test_uploads_the_function_could_not_read_are_refused(
    stack: Deployment, headers: dict[str, str], denied: bool
) -> None:
    """SSE-KMS under a key the role cannot use, or SSE-C, would make a file unreadable to
    the function (condition keys from
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingServerSideEncryption.html)."""
    statements = [
        _statement(stack, "DenyOtherServerSideEncryption"),
        _statement(stack, "DenyCustomerProvidedKeys"),
    ]
    context = {"aws:PrincipalArn": UPLOADER, **headers}
    assert all(s["Action"] == "s3:PutObject" for s in statements)
    assert any(_denies(s, context) for s in statements) is denied


def test_quarantine_can_be_switched_off(deploy_with: Callable[..., Deployment]) -> None:
    stack = deploy_with(quarantine=False)
    policy = stack.policy_json("aws:s3/bucketPolicy:BucketPolicy")
    assert [s["Sid"] for s in policy["Statement"]] == [
        "DenyInsecureTransport",
        "DenyOtherServerSideEncryption",
        "DenyCustomerProvidedKeys",
    ]


def test_lifecycle_aborts_incomplete_multipart_uploads(stack: Deployment) -> None:
    rule = _lifecycle_rule(stack, "abort-incomplete-multipart-uploads")
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_lifecycle_expires_noncurrent_versions(deploy_with: Callable[..., Deployment]) -> None:
    rule = _lifecycle_rule(deploy_with(noncurrent_version_days=45), "expire-noncurrent-versions")
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 45}


def test_lifecycle_expires_objects_tagged_rejected(deploy_with: Callable[..., Deployment]) -> None:
    rule = _lifecycle_rule(deploy_with(rejected_retention_days=3), "expire-rejected-objects")
    assert rule["filter"] == {"tag": {"key": schema.TAG_KEY, "value": schema.TAG_REJECTED}}
    assert rule["expiration"] == {"days": 3}


def test_lifecycle_removes_expired_delete_markers(stack: Deployment) -> None:
    rule = _lifecycle_rule(stack, "remove-expired-delete-markers")
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}
    assert rule["filter"] == {"prefix": ""}


def test_exactly_one_notification_for_created_and_removed_objects(stack: Deployment) -> None:
    notification = stack.one(NOTIFICATION)
    (target,) = notification.inputs["lambdaFunctions"]
    assert target["events"] == [
        "s3:ObjectCreated:*",
        "s3:ObjectRemoved:*",
        "s3:LifecycleExpiration:*",
    ]
    assert target["lambdaFunctionArn"] == stack.one("aws:lambda/function:Function").state["arn"]
    assert "filterPrefix" not in target
    assert "filterSuffix" not in target


def test_notification_filters_come_from_config(deploy_with: Callable[..., Deployment]) -> None:
    stack = deploy_with(notification_prefix="incoming/", notification_suffix=".pdf")
    (target,) = stack.one(NOTIFICATION).inputs["lambdaFunctions"]
    assert (target["filterPrefix"], target["filterSuffix"]) == ("incoming/", ".pdf")


def test_notification_waits_for_the_invoke_permission(stack: Deployment) -> None:
    permission = stack.one("aws:lambda/permission:Permission")
    assert permission.urn in stack.one(NOTIFICATION).dependencies


def test_bucket_settings_are_applied_one_at_a_time(stack: Deployment) -> None:
    chain = [
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ]
    for earlier, later in itertools.pairwise(chain):
        assert stack.one(earlier).urn in stack.one(later).dependencies, later


def test_table_keys_come_from_the_schema(stack: Deployment) -> None:
    table = stack.one(TABLE).inputs
    assert (table["hashKey"], table["rangeKey"]) == (schema.PARTITION_KEY, schema.SORT_KEY)


def test_table_declares_only_key_attributes_as_strings(stack: Deployment) -> None:
    attributes = {a["name"]: a["type"] for a in stack.one(TABLE).inputs["attributes"]}
    assert attributes == {
        schema.PARTITION_KEY: "S",
        schema.SORT_KEY: "S",
        schema.STATUS_INDEX_PARTITION_KEY: "S",
        schema.STATUS_INDEX_SORT_KEY: "S",
    }


def test_table_has_the_sparse_status_index(stack: Deployment) -> None:
    (index,) = stack.one(TABLE).inputs["globalSecondaryIndexes"]
    assert index["name"] == schema.STATUS_INDEX
    assert index["projectionType"] == "ALL"
    assert index["keySchemas"] == [
        {"attributeName": schema.STATUS_INDEX_PARTITION_KEY, "keyType": "HASH"},
        {"attributeName": schema.STATUS_INDEX_SORT_KEY, "keyType": "RANGE"},
    ]


def test_table_is_billed_on_demand(stack: Deployment) -> None:
    assert stack.one(TABLE).inputs["billingMode"] == "PAY_PER_REQUEST"


def test_table_has_point_in_time_recovery(stack: Deployment) -> None:
    assert stack.one(TABLE).inputs["pointInTimeRecovery"]["enabled"] is True


def test_table_has_server_side_encryption(stack: Deployment) -> None:
    assert stack.one(TABLE).inputs["serverSideEncryption"]["enabled"] is True


@pytest.mark.parametrize("enabled", [True, False])
def test_table_deletion_protection_follows_config(
    deploy_with: Callable[..., Deployment], enabled: bool
) -> None:
    table = deploy_with(deletion_protection=enabled).one(TABLE)
    assert table.inputs["deletionProtectionEnabled"] is enabled


def test_table_matches_the_local_create_table_request(stack: Deployment) -> None:
    """Local mode and tests create the table from schema; the stack must build the same one."""
    table = stack.one(TABLE).inputs
    deployed = {
        "BillingMode": table["billingMode"],
        "AttributeDefinitions": sorted(
            ({"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]),
            key=lambda a: a["AttributeName"],
        ),
        "KeySchema": [
            {"AttributeName": table["hashKey"], "KeyType": "HASH"},
            {"AttributeName": table["rangeKey"], "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": k["attributeName"], "KeyType": k["keyType"]}
                    for k in index["keySchemas"]
                ],
                "Projection": {"ProjectionType": index["projectionType"]},
            }
            for index in table["globalSecondaryIndexes"]
        ],
    }
    local: dict[str, Any] = schema.create_table_request("audit")
    del local["TableName"]
    local["AttributeDefinitions"] = sorted(
        local["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert deployed == local


@pytest.fixture
def scanning(deploy_with: Callable[..., Deployment]) -> Deployment:
    return deploy_with(malware_scan="guardduty")


def _principals(stack: Deployment) -> dict[str, str]:
    return {
        "function": stack.named("filetrail-function-role").state["arn"],
        "scanner": stack.named("filetrail-malware-scanner-role").state["arn"],
        "operator": "arn:aws:iam::123456789012:role/Admin",
        "uploader": UPLOADER,
    }


@pytest.mark.parametrize(
    ("reader", "tag", "denied"),
    [
        ("scanner", None, False),
        ("scanner", schema.TAG_PENDING, False),
        ("function", None, False),
        ("operator", None, True),
        ("operator", schema.TAG_PENDING, True),
        ("operator", schema.TAG_STORED, False),
    ],
)
def test_quarantine_lets_guardduty_read_what_it_must_scan(
    scanning: Deployment, reader: str, tag: str | None, denied: bool
) -> None:
    """GuardDuty reads an object with the plan's role to scan it, before any verdict; denied,
    it reports ACCESS_DENIED
    (https://docs.aws.amazon.com/guardduty/latest/ug/monitoring-malware-protection-s3-scans-gdu.html)."""
    statement = _statement(scanning, "QuarantineUnvalidatedObjects")
    context = {"aws:PrincipalArn": _principals(scanning)[reader]}
    if tag is not None:
        context[f"s3:ExistingObjectTag/{schema.TAG_KEY}"] = tag
    assert _denies(statement, context) is denied


@pytest.mark.parametrize(
    ("principal", "tag_keys", "denied"),
    [
        ("uploader", [schema.GUARDDUTY_TAG_KEY], True),
        ("uploader", ["guarddutymalwarescanstatus"], True),
        ("uploader", ["team", "GUARDDUTYMALWARESCANSTATUS"], True),
        ("uploader", ["team"], False),
        ("uploader", None, False),
        ("operator", [schema.GUARDDUTY_TAG_KEY], True),
        ("scanner", [schema.GUARDDUTY_TAG_KEY], False),
        ("function", [schema.TAG_KEY, schema.GUARDDUTY_TAG_KEY], False),
    ],
)
def test_only_guardduty_and_the_function_set_the_scan_tag(
    scanning: Deployment, principal: str, tag_keys: list[str] | None, denied: bool
) -> None:
    """GuardDuty's guide asks that no one else may set its tag when access depends on it
    (https://docs.aws.amazon.com/guardduty/latest/ug/tag-based-access-s3-malware-protection.html);
    the function keeps it when it writes the outcome tag."""
    statement = _statement(scanning, "OnlyTheScannerSetsTheScanTag")
    assert (statement["Effect"], statement["Principal"]) == ("Deny", "*")
    assert set(statement["Action"]) == {
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionTagging",
    }
    context: dict[str, Any] = {"aws:PrincipalArn": _principals(scanning)[principal]}
    if tag_keys is not None:
        context["s3:RequestObjectTagKeys"] = tag_keys
    assert _denies(statement, context) is denied


@pytest.mark.parametrize(
    ("principal", "denied"), [("scanner", False), ("function", False), ("uploader", True)]
)
def test_guardduty_may_rewrite_the_outcome_tag_it_finds_on_an_object(
    scanning: Deployment, principal: str, denied: bool
) -> None:
    """PutObjectTagging replaces an object's whole tag set, so GuardDuty adding its tag to an
    object the function already tagged sends the outcome tag back as it found it
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html)."""
    statement = _statement(scanning, "OnlyTheFunctionSetsTheOutcomeTag")
    context: dict[str, Any] = {
        "aws:PrincipalArn": _principals(scanning)[principal],
        "s3:RequestObjectTagKeys": [schema.TAG_KEY, schema.GUARDDUTY_TAG_KEY],
    }
    assert _denies(statement, context) is denied


def test_without_scanning_no_one_but_the_function_is_exempt(stack: Deployment) -> None:
    role = stack.one("aws:iam/role:Role").state["arn"]
    for sid in ("QuarantineUnvalidatedObjects", "OnlyTheFunctionSetsTheOutcomeTag"):
        assert _statement(stack, sid)["Condition"]["StringNotEquals"]["aws:PrincipalArn"] == role


def test_scanning_lets_guardduty_write_its_validation_object(scanning: Deployment) -> None:
    """GuardDuty writes `malware-protection-resource-validation-object` when the plan is
    created; no deny of the bucket policy may meet that PutObject (no tags, no copy, no
    encryption header)."""
    context = {"aws:PrincipalArn": _principals(scanning)["scanner"]}
    put_object_denies = [
        s
        for s in scanning.policy_json("aws:s3/bucketPolicy:BucketPolicy")["Statement"]
        if s["Effect"] == "Deny"
        and "s3:PutObject" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert put_object_denies
    assert not any(_denies(s, context) for s in put_object_denies)
