"""`python -m bench.cli_startup`: how long the `filetrail` command takes to start, next to
its baselines, each sample a fresh process (wall clock, median of N, and the fastest).

- `filetrail --help` against a bare interpreter (`python -c pass`); goal: within 5x.
- `filetrail status KEY` (table and `--json`) against importing boto3 and making one
  DynamoDB client; goal: within 1.5x. The status reads one item from a local stack
  started here, so the figure includes that one request (the baseline makes none).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench/startup.txt"
BASELINE_CLIENT = "import boto3\nboto3.client('dynamodb')\n"
HELP_GOAL = 5.0
STATUS_GOAL = 1.5
READY_SECONDS = 30.0


def _filetrail() -> list[str]:
    """The installed console script, as a user runs it; else the module."""
    script = Path(sys.executable).with_name("filetrail")
    return [str(script)] if script.exists() else [sys.executable, "-m", "filetrail"]


def sample(argv: list[str], env: Mapping[str, str], repetitions: int) -> list[float]:
    seconds = []
    for _ in range(repetitions):
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - fixed argv, our own interpreter and command
            argv, check=True, capture_output=True, env=dict(env), cwd=ROOT
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def _row(name: str, seconds: list[float], baseline: list[float] | None, goal: float | None) -> str:
    median = statistics.median(seconds)
    ratio = f"{median / statistics.median(baseline):.2f}x" if baseline else ""
    verdict = ""
    if baseline and goal:
        verdict = "ok" if median <= goal * statistics.median(baseline) else "OVER"
    return (
        f"| {name} | {median * 1000:.0f} | {min(seconds) * 1000:.0f} | {ratio} | "
        f"{f'{goal:g}x' if goal else ''} | {verdict} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__)
    parser.add_argument("--repetitions", type=int, default=15, help="samples per figure")
    args = parser.parse_args(argv)
    from filetrail.local.stack import BUCKET, TABLE, LocalStack  # noqa: PLC0415
    from handlers import schema  # noqa: PLC0415
    from handlers.store import AuditStore  # noqa: PLC0415

    with LocalStack(log_handler=logging.NullHandler()) as stack:
        assert stack.endpoints is not None  # noqa: S101 - set by start()
        stack.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"hello\n")
        store = AuditStore(stack.client("dynamodb"), TABLE)
        deadline = time.monotonic() + READY_SECONDS
        while store.get_status(schema.document_id(BUCKET, KEY)) is None:
            if time.monotonic() > deadline:
                raise SystemExit("the local stack did not process the sample upload")
            time.sleep(0.1)  # polling interval of a deadline-bounded wait
        env = {**os.environ, **stack.endpoints.environment()}
        n = args.repetitions
        bare = sample([sys.executable, "-c", "pass"], env, n)
        client = sample([sys.executable, "-c", BASELINE_CLIENT], env, n)
        command = _filetrail()
        helped = sample([*command, "--help"], env, n)
        status = sample([*command, "status", KEY], env, n)
        status_json = sample([*command, "status", KEY, "--json"], env, n)
    print(f"`{' '.join(Path(a).name for a in command)}` startup, {n} fresh processes each\n")
    print("| command | median ms | fastest ms | vs baseline | goal | |")
    print("|---|---:|---:|---:|---:|---|")
    print(_row("python -c pass (baseline)", bare, None, None))
    print(_row("filetrail --help", helped, bare, HELP_GOAL))
    print(_row("import boto3 + one client (baseline)", client, None, None))
    print(_row("filetrail status KEY", status, client, STATUS_GOAL))
    print(_row("filetrail status KEY --json", status_json, client, STATUS_GOAL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
