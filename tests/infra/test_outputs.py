import runpy
import shlex
from pathlib import Path
from typing import Any

import pulumi
import pytest

from filetrail.cli import build_parser
from handlers import schema
from infra import packaging
from infra.outputs import filetrail_command_line
from tests.infra.harness import REGION, REPO_ROOT, Deployment, RecordingMocks, RecordingMonitor

EXPORTS = (
    "bucket_name",
    "table_name",
    "function_name",
    "log_group_name",
    "dlq_url",
    "alarm_topic_arn",
    "dashboard_url",
    "status_index_shards",
    "filetrail",
    "events_topic_arn",  # notifications on, as in Pulumi.yaml's defaults
)


def test_component_outputs_name_the_deployed_resources(stack: Deployment) -> None:
    outputs = stack.outputs
    assert outputs["bucket_name"] == stack.one("aws:s3/bucket:Bucket").state["bucket"]
    assert outputs["table_name"] == stack.one("aws:dynamodb/table:Table").state["name"]
    assert outputs["function_name"] == stack.one("aws:lambda/function:Function").state["name"]
    assert outputs["log_group_name"] == stack.one("aws:cloudwatch/logGroup:LogGroup").state["name"]
    assert outputs["dlq_url"] == stack.one("aws:sqs/queue:Queue").state["url"]
    assert outputs["alarm_topic_arn"] == stack.one("aws:sns/topic:Topic").state["arn"]


def test_dashboard_url_opens_the_dashboard_in_its_region(stack: Deployment) -> None:
    name = stack.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardName"]
    assert stack.outputs["dashboard_url"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        f"#dashboards:name={name}"
    )


def test_filetrail_command_parses_with_the_cli() -> None:
    line = filetrail_command_line(
        region="eu-west-1", table="audit-1", bucket="uploads 1", index_shards=16
    )
    argv = shlex.split(line)
    assert argv[0] == "filetrail"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.region, args.table, args.bucket, args.index_shards) == (
        "list",
        "eu-west-1",
        "audit-1",
        "uploads 1",
        16,
    )


@pytest.fixture
def program_exports(
    mocks: tuple[RecordingMocks, RecordingMonitor], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    """Run __main__.py itself (code-only archive) and capture what it exports."""
    exported: dict[str, Any] = {}
    real_build = packaging.build_archive

    def code_only(root: Path, architecture: Any, **_: Any) -> packaging.BuiltArchive:
        return real_build(root, architecture, cache_dir=tmp_path, installer=None)

    monkeypatch.setattr(packaging, "build_archive", code_only)
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(REPO_ROOT / "__main__.py"))
        return pulumi.Output.all(**exported).apply(exported.update)

    program()
    return exported


def test_program_exports_every_output_in_snake_case(program_exports: dict[str, Any]) -> None:
    assert sorted(program_exports) == sorted(EXPORTS)


def test_program_exports_a_ready_to_run_command(program_exports: dict[str, Any]) -> None:
    command = program_exports["filetrail"]
    assert command.startswith("filetrail list --region ")
    assert f"--table {program_exports['table_name']}" in command
    assert f"--bucket {program_exports['bucket_name']}" in command


def test_program_exports_the_status_index_shards_the_function_writes(
    program_exports: dict[str, Any],
) -> None:
    assert program_exports["status_index_shards"] == schema.DEFAULT_STATUS_INDEX_SHARDS
    assert f"--index-shards {schema.DEFAULT_STATUS_INDEX_SHARDS}" in program_exports["filetrail"]
