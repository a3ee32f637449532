"""What `filetrail local` says on stderr when Ctrl-C stops it (no --json)."""

from __future__ import annotations

import pytest

from filetrail.local.serve import _report
from filetrail.local.stack import Leftover, Saved
from filetrail.local.state import Manifest


def test_stop_says_how_many_notifications_it_left(capsys: pytest.CaptureFixture[str]) -> None:
    _report(Leftover(unprocessed=37, interrupted=1), as_json=False)

    assert capsys.readouterr().err == (
        "filetrail local stopped; 37 notification(s) left unprocessed in the queue "
        "(1 cut off mid-invocation)\n"
    )


def test_stop_with_nothing_left_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    _report(Leftover(unprocessed=0, interrupted=0), as_json=False)

    assert capsys.readouterr().err == "filetrail local stopped; every notification was processed\n"


def test_stop_with_a_state_dir_says_where_it_saved_and_that_the_left_are_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    counts = {"objectVersions": 3, "deleteMarkers": 1, "items": 19, "messages": 2}
    saved = Saved("/tmp/state", Manifest("2026-12-01T12:00:00.000Z", "state-x", counts), 0.25)

    _report(Leftover(unprocessed=2, interrupted=0), as_json=False, saved=saved)

    assert capsys.readouterr().err == (
        "filetrail local stopped; 2 notification(s) left unprocessed in the queue; "
        "saved to /tmp/state in 0.25 s: 3 object version(s), 1 delete marker(s), "
        "19 table item(s), 2 queued message(s) "
        "(the unprocessed are processed at the next start with this --state-dir)\n"
    )


def test_stop_says_how_many_scan_results_it_never_delivered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _report(Leftover(unprocessed=0, interrupted=0, unscanned=2), as_json=False)

    assert capsys.readouterr().err == (
        "filetrail local stopped; every notification was processed; "
        "2 scan result(s) never delivered\n"
    )
