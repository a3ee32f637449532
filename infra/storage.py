"""The upload bucket (locked down, versioned, quarantined) and the audit-trail table."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers import schema
from infra import iam
from infra.config import PipelineConfig

# Lifecycle expirations change what a key serves as much as a delete does.
NOTIFICATION_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*")


@dataclass(frozen=True)
class UploadBucket:
    bucket: aws.s3.Bucket
    # The last of the bucket's serialised sub-resources; later bucket writes wait for it.
    ready: pulumi.Resource


def upload_bucket(name: str, cfg: PipelineConfig, parent: pulumi.Resource) -> UploadBucket:
    """The bucket and the settings that must hold before anything else touches it.

    S3 answers `OperationAborted` to concurrent configuration writes on one bucket, so each
    sub-resource waits for the previous one.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(f"{name}-uploads", force_destroy=cfg.force_destroy, opts=opts)
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-uploads-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-uploads-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]),
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-uploads-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[ownership]),
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-uploads-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[encryption]),
    )
    lifecycle = aws.s3.BucketLifecycleConfiguration(
        f"{name}-uploads-lifecycle",
        bucket=bucket.id,
        rules=_lifecycle_rules(cfg),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
    )
    return UploadBucket(bucket=bucket, ready=lifecycle)


def _lifecycle_rules(cfg: PipelineConfig) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    whole_bucket = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    return [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads",
            status="Enabled",
            filter=whole_bucket,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=cfg.abort_multipart_days
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=whole_bucket,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=cfg.noncurrent_version_days
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-rejected-objects",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                tag=aws.s3.BucketLifecycleConfigurationRuleFilterTagArgs(
                    key=schema.TAG_KEY, value=schema.TAG_REJECTED
                )
            ),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=cfg.rejected_retention_days
            ),
        ),
        # Once its noncurrent versions expire, a delete marker is all that is left of a
        # file; S3 removes it only when asked to. (It cannot share a rule with `days` or
        # with a tag filter.)
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="remove-expired-delete-markers",
            status="Enabled",
            filter=whole_bucket,
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                expired_object_delete_marker=True
            ),
        ),
    ]


def bucket_policy(
    name: str,
    uploads: UploadBucket,
    function_role_arn: pulumi.Input[str],
    cfg: PipelineConfig,
    parent: pulumi.Resource,
    *,
    scanner_role_arn: pulumi.Input[str] | None = None,
) -> aws.s3.BucketPolicy:
    """`scanner_role_arn`: the malware protection plan's role, when scanning is on."""
    document = pulumi.Output.all(uploads.bucket.arn, function_role_arn, scanner_role_arn).apply(
        lambda arns: iam.bucket_policy(
            bucket_arn=arns[0],
            function_role_arn=arns[1],
            quarantine=cfg.quarantine,
            scanner_role_arn=arns[2],
        )
    )
    return aws.s3.BucketPolicy(
        f"{name}-uploads-policy",
        bucket=uploads.bucket.id,
        policy=pulumi.Output.json_dumps(document),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[uploads.ready]),
    )


def bucket_notification(
    name: str,
    *,
    uploads: UploadBucket,
    function_arn: pulumi.Input[str],
    cfg: PipelineConfig,
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> aws.s3.BucketNotification:
    """The bucket's only notification configuration (S3 keeps one per bucket)."""
    return aws.s3.BucketNotification(
        f"{name}-uploads-notification",
        bucket=uploads.bucket.id,
        lambda_functions=[
            aws.s3.BucketNotificationLambdaFunctionArgs(
                lambda_function_arn=function_arn,
                events=list(NOTIFICATION_EVENTS),
                filter_prefix=cfg.notification_prefix or None,
                filter_suffix=cfg.notification_suffix or None,
            )
        ],
        # GuardDuty turns EventBridge delivery on for the bucket it protects; this resource
        # owns the whole configuration, so it must say so too or an update would turn it off.
        eventbridge=True if cfg.malware_scan != schema.MALWARE_SCAN_NONE else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )


def audit_table(name: str, cfg: PipelineConfig, parent: pulumi.Resource) -> aws.dynamodb.Table:
    key_attributes = (
        schema.PARTITION_KEY,
        schema.SORT_KEY,
        schema.STATUS_INDEX_PARTITION_KEY,
        schema.STATUS_INDEX_SORT_KEY,
    )
    return aws.dynamodb.Table(
        f"{name}-audit",
        billing_mode="PAY_PER_REQUEST",
        hash_key=schema.PARTITION_KEY,
        range_key=schema.SORT_KEY,
        attributes=[aws.dynamodb.TableAttributeArgs(name=a, type="S") for a in key_attributes],
        global_secondary_indexes=[
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=schema.STATUS_INDEX,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=schema.STATUS_INDEX_PARTITION_KEY, key_type="HASH"
                    ),
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=schema.STATUS_INDEX_SORT_KEY, key_type="RANGE"
                    ),
                ],
                projection_type="ALL",
            )
        ],
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
        deletion_protection_enabled=cfg.deletion_protection,
        # The outbox of the notifications stage (new images: events are immutable).
        stream_enabled=cfg.notifications or None,
        stream_view_type="NEW_IMAGE" if cfg.notifications else None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
