"""Stack outputs that are derived for the operator rather than read off one resource."""

from __future__ import annotations

import shlex

import pulumi


def filetrail_command_line(*, region: str, table: str, bucket: str, index_shards: int) -> str:
    """The CLI's flags (filetrail/cli.py) pinned to this stack, whatever the shell's env.
    `list` takes no --function (only `reprocess` submits to the function)."""
    flags = {
        "--region": region,
        "--table": table,
        "--bucket": bucket,
        "--index-shards": str(index_shards),
    }
    return "filetrail list " + " ".join(f"{k} {shlex.quote(v)}" for k, v in flags.items())


def filetrail_command(
    *,
    region: pulumi.Input[str],
    table: pulumi.Input[str],
    bucket: pulumi.Input[str],
    index_shards: int,
) -> pulumi.Output[str]:
    """A ready-to-run `filetrail` invocation against the deployed stack."""
    return pulumi.Output.all(region, table, bucket).apply(
        lambda v: filetrail_command_line(
            region=v[0], table=v[1], bucket=v[2], index_shards=index_shards
        )
    )
