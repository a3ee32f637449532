from __future__ import annotations

import json

import pytest

from filetrail.errors import StackNotFoundError
from filetrail.stack import StackFlags, StackResolver
from handlers import schema

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


def test_index_shards_come_from_the_stack_output():
    pulumi = FakePulumi({**OUTPUTS, "status_index_shards": 16})

    assert _resolver(pulumi=pulumi).index_shards() == 16


def test_index_shards_environment_wins_over_pulumi():
    pulumi = FakePulumi({**OUTPUTS, "status_index_shards": 16})
    resolver = _resolver(environ={"FILETRAIL_STATUS_INDEX_SHARDS": "4"}, pulumi=pulumi)

    assert resolver.index_shards() == 4
    assert pulumi.calls == []


def test_index_shards_flag_wins_over_the_environment():
    resolver = _resolver(StackFlags(index_shards=2), {"FILETRAIL_STATUS_INDEX_SHARDS": "4"})

    assert resolver.index_shards() == 2


def test_unknown_index_shards_read_every_shard_the_handler_can_write():
    # A stack deployed before sharding exports no count; its items sit in shard 0.
    assert _resolver().index_shards() == schema.MAX_STATUS_INDEX_SHARDS


@pytest.mark.parametrize("raw", ["0", "33", "many"])
def test_index_shards_out_of_range_are_an_error(raw):
    resolver = _resolver(environ={"FILETRAIL_STATUS_INDEX_SHARDS": raw})

    with pytest.raises(StackNotFoundError, match="status index shards"):
        resolver.index_shards()


def test_index_shards_are_not_taken_from_pulumi_for_a_table_named_elsewhere():
    pulumi = FakePulumi({**OUTPUTS, "status_index_shards": 2})
    resolver = _resolver(environ={"FILETRAIL_TABLE": "t-env"}, pulumi=pulumi)

    assert resolver.index_shards() == schema.MAX_STATUS_INDEX_SHARDS
    assert pulumi.calls == []
