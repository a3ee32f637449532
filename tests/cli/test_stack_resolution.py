from __future__ import annotations

import json

import pytest

from filetrail.errors import StackNotFoundError
from filetrail.stack import StackFlags, StackResolver

OUTPUTS = {"table_name": "t-pulumi", "bucket_name": "b-pulumi", "function_name": "f-pulumi"}


class FakePulumi:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str]) -> str:
        self.calls.append(argv)
        return json.dumps(self.outputs)


def _resolver(flags=None, environ=None, pulumi=None):
    runner = pulumi or FakePulumi(OUTPUTS)
    return StackResolver(
        flags or StackFlags(),
        environ or {},
        runner=runner,
        which=lambda _: "/opt/pulumi/bin/pulumi",
    )


def test_flag_wins_over_environment_and_pulumi():
    pulumi = FakePulumi(OUTPUTS)
    resolver = _resolver(StackFlags(table="t-flag"), {"FILETRAIL_TABLE": "t-env"}, pulumi)

    assert resolver.table() == "t-flag"
    assert pulumi.calls == []


def test_environment_wins_over_pulumi():
    assert _resolver(environ={"FILETRAIL_TABLE": "t-env"}).table() == "t-env"


def test_pulumi_outputs_fill_in_and_run_once_for_the_named_stack():
    pulumi = FakePulumi(OUTPUTS)
    resolver = _resolver(StackFlags(stack="prod"), pulumi=pulumi)

    assert (resolver.table(), resolver.bucket(), resolver.function()) == (
        "t-pulumi",
        "b-pulumi",
        "f-pulumi",
    )
    assert pulumi.calls == [
        ["/opt/pulumi/bin/pulumi", "stack", "output", "--json", "--stack", "prod"]
    ]


def test_without_pulumi_on_path_a_missing_setting_is_an_error():
    resolver = StackResolver(StackFlags(), {}, runner=FakePulumi(OUTPUTS), which=lambda _: None)

    with pytest.raises(StackNotFoundError, match="--table"):
        resolver.table()
