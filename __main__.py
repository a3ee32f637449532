"""filetrail's Pulumi program: read the stack's settings, deploy one pipeline, export it."""

from pathlib import Path

import pulumi

from infra.config import load_config
from infra.outputs import filetrail_command
from infra.packaging import build_archive
from infra.pipeline import FilePipeline, FilePipelineArgs

config = load_config()
archive = build_archive(Path(__file__).resolve().parent, config.architecture)
pipeline = FilePipeline("filetrail", FilePipelineArgs(config=config, archive=archive))

pulumi.export("bucket_name", pipeline.bucket_name)
pulumi.export("table_name", pipeline.table_name)
pulumi.export("function_name", pipeline.function_name)
pulumi.export("log_group_name", pipeline.log_group_name)
pulumi.export("dlq_url", pipeline.dlq_url)
pulumi.export("alarm_topic_arn", pipeline.alarm_topic_arn)
pulumi.export("dashboard_url", pipeline.dashboard_url)
if pipeline.events_topic_arn is not None:
    pulumi.export("events_topic_arn", pipeline.events_topic_arn)
# The CLI reads it to query every shard of the status index the function writes.
pulumi.export("status_index_shards", config.status_index_shards)
pulumi.export(
    "filetrail",
    filetrail_command(
        region=pipeline.region,
        table=pipeline.table_name,
        bucket=pipeline.bucket_name,
        index_shards=config.status_index_shards,
    ),
)
