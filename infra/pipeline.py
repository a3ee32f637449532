"""`FilePipeline`: the whole filetrail deployment as one component."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from handlers import schema
from infra import malware, metrics, notifications, storage
from infra.config import PipelineConfig
from infra.function import processing_function, s3_invoke_permission
from infra.observability import ObservedResources, observability
from infra.packaging import BuiltArchive

COMPONENT_TYPE = "filetrail:index:FilePipeline"


@dataclass(frozen=True)
class FilePipelineArgs:
    config: PipelineConfig
    # Built by the caller so tests can inject an archive without downloading dependencies.
    archive: BuiltArchive


class FilePipeline(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    function_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    dlq_url: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    region: pulumi.Output[str]
    events_topic_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: FilePipelineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        cfg = args.config
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke_opts).account_id
        partition = aws.get_partition_output(opts=invoke_opts).partition
        region = aws.get_region_output(opts=invoke_opts).region

        namespace = metrics.metric_namespace(pulumi.get_stack())
        uploads = storage.upload_bucket(name, cfg, self)
        table = storage.audit_table(name, cfg, self)
        scanner = (
            malware.scanner(
                name,
                cfg=cfg,
                uploads=uploads,
                account_id=account_id,
                partition=partition,
                region=region,
                parent=self,
            )
            if cfg.malware_scan == schema.MALWARE_SCAN_GUARDDUTY
            else None
        )
        fn = processing_function(
            name,
            cfg=cfg,
            archive=args.archive,
            bucket=uploads.bucket,
            table=table,
            parent=self,
            dlq_event_rule_arns=[scanner.rule.arn] if scanner else (),
        )
        policy = storage.bucket_policy(
            name,
            uploads,
            fn.role.arn,
            cfg,
            self,
            scanner_role_arn=scanner.role.arn if scanner else None,
        )
        permission = s3_invoke_permission(name, fn.function, uploads.bucket, account_id, self)
        # Notification last: S3 sends a test event and checks its permission to invoke.
        notification = storage.bucket_notification(
            name,
            uploads=uploads,
            function_arn=fn.function.arn,
            cfg=cfg,
            after=[permission, policy],
            parent=self,
        )
        if scanner is not None:
            malware.malware_scanning(
                name,
                cfg=cfg,
                archive=args.archive,
                scanner=scanner,
                uploads=uploads,
                table=table,
                processing=fn,
                namespace=namespace,
                after=[policy, notification],
                parent=self,
            )
        stage = (
            notifications.notifications(
                name,
                cfg=cfg,
                archive=args.archive,
                table=table,
                account_id=account_id,
                partition=partition,
                parent=self,
            )
            if cfg.notifications
            else None
        )
        observed = ObservedResources(
            log_group_name=fn.log_group.name,
            function_name=fn.function.name,
            dlq_name=fn.dlq.name,
            account_id=account_id,
            partition=partition,
            region=region,
            namespace=namespace,
            notifier_function_name=stage.function.name if stage else None,
            malware_scan=scanner is not None,
        )
        obs = observability(name, cfg, observed, self)
        if stage is not None:
            notifications.alarms(name, cfg, stage, obs.topic, self)
        if scanner is not None:
            malware.alarms(name, cfg, namespace, obs.topic, self)

        self.bucket_name = uploads.bucket.bucket
        self.table_name = table.name
        self.function_name = fn.function.name
        self.log_group_name = fn.log_group.name
        self.dlq_url = fn.dlq.url
        self.alarm_topic_arn = obs.topic.arn
        self.region = region
        self.events_topic_arn = stage.topic.arn if stage else None
        self.dashboard_url = pulumi.Output.concat(
            "https://",
            region,
            ".console.aws.amazon.com/cloudwatch/home?region=",
            region,
            "#dashboards:name=",
            obs.dashboard.dashboard_name,
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "table_name": self.table_name,
                "function_name": self.function_name,
                "log_group_name": self.log_group_name,
                "dlq_url": self.dlq_url,
                "alarm_topic_arn": self.alarm_topic_arn,
                "dashboard_url": self.dashboard_url,
                "events_topic_arn": self.events_topic_arn,
            }
        )
