"""IAM and resource policy documents, as pure functions of real ARNs.

Kept free of Pulumi types so the same documents can be checked by parliament and by the
test suite's evaluator; the pipeline feeds them resolved ARNs through `Output.all`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers import schema

PolicyDocument = dict[str, Any]
VERSION = "2012-10-17"

# Exactly the calls the handler makes (see handlers/ AWS adapters); nothing broader.
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
)
# With ListBucket, S3 answers a read of a missing key or version 404 instead of 403, so the
# handler can tell "gone" (a verdict) from "denied" (a fault to retry). It lists nothing.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
BUCKET_ACTIONS = ("s3:ListBucket",)
# TransactWriteItems is authorised per contained item; filetrail's hold Put items only.
TABLE_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:PutItem")
DLQ_ACTIONS = ("sqs:SendMessage",)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# X-Ray has no resource-level permissions; "*" is the only resource it accepts.
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


def _log_and_trace_statements(log_group_arn: str) -> list[dict[str, Any]]:
    """What every filetrail function needs: its own log group, and X-Ray."""
    return [
        {
            "Sid": "WriteOwnLogGroup",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": f"{log_group_arn}:*",
        },
        {
            "Sid": "WriteTraces",
            "Effect": "Allow",
            "Action": list(XRAY_ACTIONS),
            "Resource": "*",
        },
    ]


def lambda_assume_role_policy() -> PolicyDocument:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def function_policy(
    *, bucket_arn: str, table_arn: str, dlq_arn: str, log_group_arn: str
) -> PolicyDocument:
    """The function role's inline policy: each action scoped to the one resource it touches."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadAndTagUploads",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{bucket_arn}/*",
            },
            {
                "Sid": "TellMissingFromDenied",
                "Effect": "Allow",
                "Action": list(BUCKET_ACTIONS),
                "Resource": bucket_arn,
            },
            {
                "Sid": "AppendAuditTrail",
                "Effect": "Allow",
                "Action": list(TABLE_ACTIONS),
                "Resource": table_arn,
            },
            {
                "Sid": "SendToDeadLetterQueue",
                "Effect": "Allow",
                "Action": list(DLQ_ACTIONS),
                "Resource": dlq_arn,
            },
            *_log_and_trace_statements(log_group_arn),
        ],
    }


def _deny_insecure_transport(actions: str, resources: list[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(
    *,
    bucket_arn: str,
    function_role_arn: str,
    quarantine: bool,
    scanner_role_arn: str | None = None,
) -> PolicyDocument:
    """`scanner_role_arn`: the malware protection plan's role, when scanning is on."""
    objects = f"{bucket_arn}/*"
    # GuardDuty must read an object before anyone may (that is the point), and tags it by
    # rewriting its whole tag set, the outcome tag included.
    exempt: str | list[str] = (
        function_role_arn if scanner_role_arn is None else [function_role_arn, scanner_role_arn]
    )
    statements = [
        _deny_insecure_transport("s3:*", [bucket_arn, objects]),
        # The bucket encrypts with SSE-S3. An upload under a KMS key the function cannot use,
        # or under a customer-provided key (SSE-C), could never be read, so never validated.
        {
            "Sid": "DenyOtherServerSideEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"},
                "Null": {"s3:x-amz-server-side-encryption": "false"},
            },
        },
        {
            "Sid": "DenyCustomerProvidedKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
        },
    ]
    if quarantine:
        # Both keys must differ for the deny to apply (keys in one operator are ANDed):
        # only the function (and the scanner) may read an object until it is tagged stored.
        statements.append(
            {
                "Sid": "QuarantineUnvalidatedObjects",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": objects,
                "Condition": {
                    "StringNotEquals": {
                        f"s3:ExistingObjectTag/{schema.TAG_KEY}": schema.TAG_STORED,
                        "aws:PrincipalArn": exempt,
                    }
                },
            }
        )
        # Otherwise an uploader could set the outcome tag itself, at upload or after, and
        # make an unvalidated object readable before (or whatever) the verdict. Condition
        # key names are case-insensitive while tag keys are not, so any spelling of the
        # tag key is refused.
        statements.append(
            {
                "Sid": "OnlyTheFunctionSetsTheOutcomeTag",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
                "Resource": objects,
                "Condition": {
                    "ForAnyValue:StringEqualsIgnoreCase": {
                        "s3:RequestObjectTagKeys": [schema.TAG_KEY]
                    },
                    "StringNotEquals": {"aws:PrincipalArn": exempt},
                },
            }
        )
        if scanner_role_arn is not None:
            # The scanner's own verdict tag, forged by an uploader, would tell whoever reads
            # tags that an unscanned file is clean. The function keeps it when it retags.
            statements.append(
                {
                    "Sid": "OnlyTheScannerSetsTheScanTag",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": [
                        "s3:PutObject",
                        "s3:PutObjectTagging",
                        "s3:PutObjectVersionTagging",
                    ],
                    "Resource": objects,
                    "Condition": {
                        "ForAnyValue:StringEqualsIgnoreCase": {
                            "s3:RequestObjectTagKeys": [schema.GUARDDUTY_TAG_KEY]
                        },
                        "StringNotEquals": {"aws:PrincipalArn": exempt},
                    },
                }
            )
        # A copy keeps the source's tags by default (x-amz-tagging-directive COPY), which no
        # request-tag condition sees: a copy of an object tagged STORED elsewhere would be
        # readable unvalidated. CopyObject and UploadPartCopy both carry the copy source.
        statements.append(
            {
                "Sid": "NoCopiesIntoTheBucket",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {"s3:x-amz-copy-source": "false"},
                    "StringNotEquals": {"aws:PrincipalArn": function_role_arn},
                },
            }
        )
    return {"Version": VERSION, "Statement": statements}


def queue_policy(*, queue_arn: str, event_rule_arns: Sequence[str] = ()) -> PolicyDocument:
    """TLS only; `event_rule_arns`: EventBridge rules whose undeliverable events land here.

    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    """
    statements: list[dict[str, Any]] = [_deny_insecure_transport("sqs:*", [queue_arn])]
    if event_rule_arns:
        statements.append(
            {
                "Sid": "EventBridgeDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": list(event_rule_arns)}},
            }
        )
    return {"Version": VERSION, "Statement": statements}


def topic_policy(*, topic_arn: str, account_id: str) -> PolicyDocument:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowAlarmsToPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            _deny_insecure_transport("sns:Publish", [topic_arn]),
        ],
    }


def alarm_key_policy(*, account_id: str, partition: str) -> PolicyDocument:
    """Key policy for the alarm topic's CMK: the AWS-managed SNS key cannot admit CloudWatch."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AllowAlarmsToEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


# What the notifier needs of the stream (Lambda's event source mapping polls with the
# function's role): https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
# Lambda checks for it too, and it has no resource-level permissions: "*" is all it takes.
LIST_STREAMS_ACTIONS = ("dynamodb:ListStreams",)
PUBLISH_ACTIONS = ("sns:Publish",)
# A publisher to an encrypted topic needs both:
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
TOPIC_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# Administering a key, never using it: only the publishers named in its policy may encrypt.
KEY_ADMIN_ACTIONS = (
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
)  # fmt: skip


def notifier_policy(
    *,
    table_arn: str,
    topic_arn: str,
    key_arn: str,
    failures_arn: str,
    log_group_arn: str,
) -> PolicyDocument:
    """The notifier role's inline policy: its stream, its topic and key, its failure queue."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadAuditStream",
                "Effect": "Allow",
                "Action": list(STREAM_ACTIONS),
                # The stream's ARN ends in its creation time; this names the table's streams.
                "Resource": f"{table_arn}/stream/*",
            },
            {
                "Sid": "FindAuditStream",
                "Effect": "Allow",
                "Action": list(LIST_STREAMS_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "PublishFileEvents",
                "Effect": "Allow",
                "Action": list(PUBLISH_ACTIONS),
                "Resource": topic_arn,
            },
            {
                "Sid": "EncryptFileEvents",
                "Effect": "Allow",
                "Action": list(TOPIC_KEY_ACTIONS),
                "Resource": key_arn,
            },
            {
                "Sid": "SendUnpublishableRecords",
                "Effect": "Allow",
                "Action": list(DLQ_ACTIONS),
                "Resource": failures_arn,
            },
            *_log_and_trace_statements(log_group_arn),
        ],
    }


def events_key_policy(
    *, account_id: str, partition: str, publisher_role_arn: str
) -> PolicyDocument:
    """Key policy for the file-events topic: the account administers it, the notifier uses it."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministersKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "NotifierPublishes",
                "Effect": "Allow",
                "Principal": {"AWS": publisher_role_arn},
                "Action": list(TOPIC_KEY_ACTIONS),
                "Resource": "*",
            },
        ],
    }


def events_topic_policy(*, topic_arn: str, publisher_role_arn: str) -> PolicyDocument:
    """Only the notifier publishes file events, and only over TLS."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "OnlyTheNotifierPublishes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": publisher_role_arn}},
            },
            _deny_insecure_transport("sns:Publish", [topic_arn]),
        ],
    }


# GuardDuty Malware Protection for S3: the plan's role, as AWS documents it in
# https://docs.aws.amazon.com/guardduty/latest/ug/malware-protection-s3-iam-policy-prerequisite.html
SCANNER_SERVICE = "malware-protection-plan.guardduty.amazonaws.com"
# GuardDuty names the EventBridge rule it manages for the bucket's S3 events with this prefix.
SCANNER_MANAGED_RULE_PREFIX = "DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3"
# GuardDuty writes this object to prove it may use the bucket when the plan is created.
SCANNER_VALIDATION_OBJECT = schema.GUARDDUTY_VALIDATION_OBJECT
SCANNER_RULE_ACTIONS = (
    "events:PutRule",
    "events:DeleteRule",
    "events:PutTargets",
    "events:RemoveTargets",
)
SCANNER_RULE_READ_ACTIONS = ("events:DescribeRule", "events:ListTargetsByRule")
SCANNER_TAG_ACTIONS = (
    "s3:PutObjectTagging",
    "s3:GetObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:GetObjectVersionTagging",
)
SCANNER_NOTIFICATION_ACTIONS = ("s3:PutBucketNotification", "s3:GetBucketNotification")
SCANNER_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")


def malware_scanner_trust_policy(*, account_id: str, partition: str, region: str) -> PolicyDocument:
    """Only GuardDuty, acting for a malware protection plan of this account, assumes it.

    The plan's ARN is not known before the plan exists (it needs this role), so the source is
    any plan of this account and region: the confused-deputy guard AWS recommends.
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": SCANNER_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{partition}:guardduty:{region}:{account_id}"
                            ":malware-protection-plan/*"
                        )
                    },
                },
            }
        ],
    }


def malware_scanner_policy(
    *, bucket_arn: str, account_id: str, partition: str, region: str
) -> PolicyDocument:
    """The permissions AWS documents for the plan's role, for this one bucket.

    The bucket encrypts with SSE-S3 and refuses other keys (bucket_policy), so the KMS
    statement AWS adds for SSE-KMS buckets is left out.
    """
    managed_rules = (
        f"arn:{partition}:events:{region}:{account_id}:rule/{SCANNER_MANAGED_RULE_PREFIX}*"
    )
    objects = f"{bucket_arn}/*"
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowManagedRuleToSendS3EventsToGuardDuty",
                "Effect": "Allow",
                "Action": list(SCANNER_RULE_ACTIONS),
                "Resource": managed_rules,
                "Condition": {"StringLike": {"events:ManagedBy": SCANNER_SERVICE}},
            },
            {
                "Sid": "AllowGuardDutyToMonitorEventBridgeManagedRule",
                "Effect": "Allow",
                "Action": list(SCANNER_RULE_READ_ACTIONS),
                "Resource": managed_rules,
            },
            {
                "Sid": "AllowPostScanTag",
                "Effect": "Allow",
                "Action": list(SCANNER_TAG_ACTIONS),
                "Resource": objects,
            },
            {
                "Sid": "AllowEnableS3EventBridgeEvents",
                "Effect": "Allow",
                "Action": list(SCANNER_NOTIFICATION_ACTIONS),
                "Resource": bucket_arn,
            },
            {
                "Sid": "AllowPutValidationObject",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{SCANNER_VALIDATION_OBJECT}",
            },
            {
                "Sid": "AllowCheckBucketOwnership",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
            },
            {
                "Sid": "AllowMalwareScan",
                "Effect": "Allow",
                "Action": list(SCANNER_READ_ACTIONS),
                "Resource": objects,
            },
        ],
    }


WATCHDOG_ACTIONS = ("dynamodb:Query",)


def watchdog_policy(*, index_arn: str, failures_arn: str, log_group_arn: str) -> PolicyDocument:
    """The watchdog reads the status index only (one Query per shard, never the table); Lambda
    parks a failed run in its failure queue with this role."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "QueryStatusIndex",
                "Effect": "Allow",
                "Action": list(WATCHDOG_ACTIONS),
                "Resource": index_arn,
            },
            {
                "Sid": "KeepFailedRuns",
                "Effect": "Allow",
                "Action": list(DLQ_ACTIONS),
                "Resource": failures_arn,
            },
            *_log_and_trace_statements(log_group_arn),
        ],
    }
