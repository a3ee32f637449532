"""What `filetrail local` says on stderr when Ctrl-C stops it (no --json)."""

from __future__ import annotations

import pytest

from filetrail.local.serve import _report
from filetrail.local.stack import Leftover


def test_stop_says_how_many_notifications_it_left(capsys: pytest.CaptureFixture[str]) -> None:
    _report(Leftover(unprocessed=37, interrupted=1), as_json=False)

    assert capsys.readouterr().err == (
        "filetrail local stopped; 37 notification(s) left unprocessed in the queue "
        "(1 cut off mid-invocation)\n"
    )


def test_stop_with_nothing_left_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    _report(Leftover(unprocessed=0, interrupted=0), as_json=False)

    assert capsys.readouterr().err == "filetrail local stopped; every notification was processed\n"


def test_stop_says_how_many_scan_results_it_never_delivered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _report(Leftover(unprocessed=0, interrupted=0, unscanned=2), as_json=False)

    assert capsys.readouterr().err == (
        "filetrail local stopped; every notification was processed; "
        "2 scan result(s) never delivered\n"
    )
