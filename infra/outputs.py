"""Stack outputs that are derived for the operator rather than read off one resource."""

from __future__ import annotations

import shlex

import pulumi

# AWS_REGION is honoured by every AWS SDK; the table is the CLI's only required setting.
_COMMAND = "AWS_REGION={region} filetrail --table {table} list"


def filetrail_command_line(region: str, table: str) -> str:
    return _COMMAND.format(region=shlex.quote(region), table=shlex.quote(table))


def filetrail_command(region: pulumi.Input[str], table: pulumi.Input[str]) -> pulumi.Output[str]:
    """A ready-to-run `filetrail` invocation against the deployed stack."""
    return pulumi.Output.all(region, table).apply(
        lambda values: filetrail_command_line(values[0], values[1])
    )
