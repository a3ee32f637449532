"""Where the stack lives: flags, then FILETRAIL_* environment variables, then the Pulumi
stack's outputs (`pulumi stack output --json`), consulted only when something is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from filetrail.errors import StackNotFoundError
from handlers import schema

ENV_TABLE = "FILETRAIL_TABLE"
ENV_BUCKET = "FILETRAIL_BUCKET"
ENV_FUNCTION = "FILETRAIL_FUNCTION"
ENV_QUEUE_URL = "FILETRAIL_QUEUE_URL"
ENV_STACK = "FILETRAIL_STACK"
ENV_INDEX_SHARDS = "FILETRAIL_STATUS_INDEX_SHARDS"
ENV_DLQ_URL = "FILETRAIL_DLQ_URL"

# Output names exported by the Pulumi program (__main__.py).
OUTPUT_TABLE = "table_name"
OUTPUT_BUCKET = "bucket_name"
OUTPUT_FUNCTION = "function_name"
OUTPUT_INDEX_SHARDS = "status_index_shards"
OUTPUT_DLQ_URL = "dlq_url"

PULUMI_TIMEOUT_SECONDS = 60

Runner = Callable[[list[str]], str]


@dataclass(frozen=True)
class StackFlags:
    table: str | None = None
    bucket: str | None = None
    function: str | None = None
    queue_url: str | None = None
    stack: str | None = None
    index_shards: int | None = None
    dlq_url: str | None = None


def parse_index_shards(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not 1 <= value <= schema.MAX_STATUS_INDEX_SHARDS:
        raise ValueError(f"must be between 1 and {schema.MAX_STATUS_INDEX_SHARDS}")
    return value


def run_pulumi(argv: list[str]) -> str:
    completed = subprocess.run(  # noqa: S603 - argv is built here, never from a shell string
        argv, capture_output=True, text=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False
    )
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()
        raise StackNotFoundError(
            "pulumi stack output failed: "
            + (detail[-1] if detail else f"exit {completed.returncode}")
        )
    return completed.stdout


class StackResolver:
    """Resolves each setting on first use; runs Pulumi at most once."""

    def __init__(
        self,
        flags: StackFlags,
        environ: Mapping[str, str],
        *,
        runner: Runner = run_pulumi,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self._flags = flags
        self._environ = environ
        self._runner = runner
        self._which = which
        self._outputs: dict[str, Any] | None = None

    def table(self) -> str:
        return self._require(self._flags.table, ENV_TABLE, OUTPUT_TABLE, "--table", "table")

    def bucket(self) -> str:
        return self._require(self._flags.bucket, ENV_BUCKET, OUTPUT_BUCKET, "--bucket", "bucket")

    def function(self) -> str:
        return self._require(
            self._flags.function, ENV_FUNCTION, OUTPUT_FUNCTION, "--function", "function"
        )

    def dlq_url(self) -> str:
        return self._require(
            self._flags.dlq_url, ENV_DLQ_URL, OUTPUT_DLQ_URL, "--dlq-url", "dead-letter queue"
        )

    def queue_url(self) -> str | None:
        """Set only for local mode: reprocess feeds the dispatcher's queue instead of Lambda."""
        return self._flags.queue_url or self._environ.get(ENV_QUEUE_URL) or None

    def index_shards(self) -> int:
        """How many status index shards a listing queries.

        Read from the stack's outputs only when the table is too: a table named by flag or
        environment may belong to another stack than Pulumi's current one. Unknown (a
        stack deployed before sharding, or nothing to ask), every shard the handler can
        write: complete whatever the stack's count, at that many queries per status.
        """
        if self._flags.index_shards is not None:
            return self._flags.index_shards
        raw = self._environ.get(ENV_INDEX_SHARDS)
        if not raw and not (self._flags.table or self._environ.get(ENV_TABLE)):
            raw = self._pulumi_output(OUTPUT_INDEX_SHARDS)
        if not raw:
            return schema.MAX_STATUS_INDEX_SHARDS
        try:
            return parse_index_shards(raw)
        except ValueError as error:
            raise StackNotFoundError(f"status index shards {raw!r}: {error}") from None

    def _require(self, flag: str | None, env: str, output: str, option: str, what: str) -> str:
        value = flag or self._environ.get(env) or self._pulumi_output(output)
        if not value:
            raise StackNotFoundError(
                f"no {what} configured: pass {option}, set {env}, "
                "or run where `pulumi stack output` works (with --stack)"
            )
        return value

    def _pulumi_output(self, name: str) -> str | None:
        if self._outputs is None:
            self._outputs = self._load_outputs()
        value = self._outputs.get(name)
        return str(value) if value else None

    def _load_outputs(self) -> dict[str, Any]:
        pulumi = self._which("pulumi")
        if pulumi is None:
            return {}
        argv = [pulumi, "stack", "output", "--json"]
        stack = self._flags.stack or self._environ.get(ENV_STACK)
        if stack:
            argv += ["--stack", stack]
        try:
            outputs = json.loads(self._runner(argv) or "{}")
        except (OSError, subprocess.SubprocessError) as error:
            raise StackNotFoundError(f"could not run pulumi: {error}") from error
        except ValueError as error:
            raise StackNotFoundError(f"pulumi stack output is not JSON: {error}") from error
        return outputs if isinstance(outputs, dict) else {}
