"""Runs the Pulumi program under mocks and records every resource it declares."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from infra.config import PipelineConfig
from infra.packaging import BuiltArchive, build_archive
from infra.pipeline import FilePipeline, FilePipelineArgs

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
PROJECT = "filetrail"
STACK = "test"
COMPONENT_NAME = "filetrail"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Recorded:
    type: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    # Parent URN and every URN it waits for (explicit depends_on and input dependencies).
    parent: str = ""
    dependencies: tuple[str, ...] = ()

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name, self.parent)


def urn_of(typ: str, name: str, parent: str) -> str:
    """The URN the mock monitor assigns (mirrors MockMonitor.make_urn)."""
    if parent:
        typ = parent.split("::")[2].rsplit("$", maxsplit=1)[-1] + "$" + typ
    return f"urn:pulumi:{STACK}::{PROJECT}::{typ}::{name}"


def _physical_name(resource_name: str) -> str:
    return f"{resource_name}-1a2b3c4"


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(id, computed state) the provider would return, shaped like the real thing."""
    physical = inputs.get("name") or _physical_name(name)
    at = f"{REGION}:{ACCOUNT_ID}"
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or physical
        return bucket, {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}
    if typ == "aws:dynamodb/table:Table":
        arn = f"arn:aws:dynamodb:{at}:table/{physical}"
        state = {"name": physical, "arn": arn}
        if inputs.get("streamEnabled"):
            state["streamArn"] = f"{arn}/stream/2026-12-01T00:00:00.000"
        return physical, state
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        return url, {"name": physical, "url": url, "arn": f"arn:aws:sqs:{at}:{physical}"}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return physical, {"name": physical, "arn": f"arn:aws:logs:{at}:log-group:{physical}"}
    if typ == "aws:iam/role:Role":
        return physical, {"name": physical, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"}
    if typ == "aws:lambda/function:Function":
        return physical, {"name": physical, "arn": f"arn:aws:lambda:{at}:function:{physical}"}
    if typ == "aws:sns/topic:Topic":
        return physical, {"name": physical, "arn": f"arn:aws:sns:{at}:{physical}"}
    if typ == "aws:kms/key:Key":
        key_id = f"0b5e1c7a-0000-4000-8000-{zlib.crc32(name.encode()):012d}"
        return key_id, {"keyId": key_id, "arn": f"arn:aws:kms:{at}:key/{key_id}"}
    if typ == "aws:cloudwatch/eventRule:EventRule":
        return physical, {"name": physical, "arn": f"arn:aws:events:{at}:rule/{physical}"}
    if typ == "aws:guardduty/malwareProtectionPlan:MalwareProtectionPlan":
        plan_id = f"b4c7{zlib.crc32(name.encode()):08x}"
        return plan_id, {"arn": f"arn:aws:guardduty:{at}:malware-protection-plan/{plan_id}"}
    return f"{name}-id", {}


class RecordingMonitor(MockMonitor):
    """Also keeps each registration's parent and dependencies, which mocks never see."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.options: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.options[(request.type, request.name)] = (
            request.parent,
            tuple(request.dependencies),
        )
        return super().RegisterResource(request)


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Recorded] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        resource_id, computed = _computed(args.typ, args.name, dict(args.inputs))
        state = {**args.inputs, **computed}
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs), state))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                "userId": "AIDAEXAMPLE",
                "id": ACCOUNT_ID,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": REGION, "name": REGION, "id": REGION, "endpoint": ""}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
        raise AssertionError(f"unexpected invoke {args.token}")


@dataclass
class Deployment:
    resources: list[Recorded]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Recorded:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Recorded:
        (found,) = [r for r in self.resources if r.name == name]
        return found

    def policy_json(self, typ: str, key: str = "policy") -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.one(typ).inputs[key])
        return document


def code_only_archive(tmp_dir: Path) -> BuiltArchive:
    """The handler package without its dependencies: no network needed."""
    return build_archive(REPO_ROOT, "arm64", cache_dir=tmp_dir, installer=None)


def deploy(
    mocks: RecordingMocks,
    monitor: RecordingMonitor,
    config: PipelineConfig,
    archive: BuiltArchive,
) -> Deployment:
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[None]:
        pipeline = FilePipeline(COMPONENT_NAME, FilePipelineArgs(config=config, archive=archive))
        return pulumi.Output.all(
            bucket_name=pipeline.bucket_name,
            table_name=pipeline.table_name,
            function_name=pipeline.function_name,
            log_group_name=pipeline.log_group_name,
            dlq_url=pipeline.dlq_url,
            alarm_topic_arn=pipeline.alarm_topic_arn,
            dashboard_url=pipeline.dashboard_url,
            region=pipeline.region,
        ).apply(captured.update)

    program()
    resources = []
    for r in mocks.resources:
        parent, dependencies = monitor.options.get((r.type, r.name), ("", ()))
        resources.append(replace(r, parent=parent, dependencies=dependencies))
    return Deployment(resources=resources, outputs=captured)
