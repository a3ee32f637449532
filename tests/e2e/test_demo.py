from __future__ import annotations

import subprocess

from tests.e2e.conftest import child_environment, filetrail_command

OUTCOMES = (
    "SUCCESS",
    "FAILED",
    "DELETED",
    "TOO_LARGE",
    "TYPE_MISMATCH",
    "EMPTY_FILE",
    "MALWARE",
)


def test_demo_exits_0_and_prints_every_outcome():
    completed = subprocess.run(  # noqa: S603 - our own command
        filetrail_command("demo"),
        capture_output=True,
        text=True,
        timeout=60,
        env=child_environment(),
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    for outcome in OUTCOMES:
        assert outcome in completed.stdout, outcome
    assert "history of s3://" in completed.stdout
    assert "history of s3://filetrail-local-uploads/inbox/eicar.txt" in completed.stdout
    assert "threats: EICAR-Test-File" in completed.stdout
    assert "trace 1-" in completed.stdout
    assert "inspect" in completed.stdout
