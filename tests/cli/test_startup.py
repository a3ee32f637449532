"""What starting the command loads: `--help`, completion and usage errors stay clear of
boto3, rich and moto (the figures are in bench/cli_startup.py, not in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("boto3", "botocore", "rich", "moto", "flask")
_PROBE = """
import json, sys
from filetrail.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _loaded(argv: list[str]) -> list[str]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", _PROBE.format(argv=argv, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return list(json.loads(completed.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["list", "--help"],
        ["ui", "--help"],
        ["completion", "bash"],
        ["list", "--limit", "0"],
    ],
    ids=["help", "command-help", "ui-help", "completion", "usage-error"],
)
def test_starting_without_aws_work_loads_no_heavy_module(argv):
    assert _loaded(argv) == []
