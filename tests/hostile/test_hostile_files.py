"""Hostile files: disguised executables and HTML, polyglots, empty files, the size limit,
and names that try to forge log lines. Each is recorded truthfully, tagged to match, and
logged as exactly one outcome line that the metric filters count correctly."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from handlers.schema import TAG_KEY, TAG_REJECTED, TAG_STORED, Status
from tests.hostile.conftest import SIZE_LIMIT
from tests.hostile.metrics import durations, expected_counts, json_lines, metric_counts
from tests.support.call_recorder import CallRecorder
from tests.support.pipeline import BUCKET, Pipeline
from tests.support.samples import ELF, HTML, JPEG, PDF, PE_EXE, PNG, padded

pytestmark = pytest.mark.stress

SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
# Valid image headers with active content behind them.
PNG_HTML_POLYGLOT = PNG + b"<html><script>alert(document.cookie)</script></html>"
GIF_JS_POLYGLOT = b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=alert(1)//" + b"\x00" * 16
HTML_THEN_PNG = HTML + PNG


class Case(NamedTuple):
    key: str
    body: bytes
    content_type: str | None
    status: Status
    reason: str | None


CASES = [
    Case(*case)
    for case in [
        ("holiday.jpg", PE_EXE, "image/jpeg", Status.FAILED, "TYPE_MISMATCH"),
        ("photo.png", ELF, "image/png", Status.FAILED, "TYPE_MISMATCH"),
        ("avatar.png", HTML, "image/png", Status.FAILED, "TYPE_MISMATCH"),
        ("avatar.jpg", HTML, None, Status.FAILED, "TYPE_MISMATCH"),
        ("invoice.pdf", HTML, "application/pdf", Status.FAILED, "TYPE_MISMATCH"),
        ("notes.txt", HTML, "text/plain", Status.FAILED, "TYPE_MISMATCH"),
        ("page.html", HTML, "text/html", Status.FAILED, "TYPE_NOT_ALLOWED"),
        ("logo.svg", SVG_SCRIPT, "image/svg+xml", Status.FAILED, "TYPE_NOT_ALLOWED"),
        ("setup.exe", PE_EXE, "application/octet-stream", Status.FAILED, "TYPE_NOT_ALLOWED"),
        ("archive.png", ZIP, "image/png", Status.FAILED, "TYPE_MISMATCH"),
        ("polyglot.png", PNG_HTML_POLYGLOT, "text/html", Status.FAILED, "TYPE_MISMATCH"),
        ("polyglot.html", PNG_HTML_POLYGLOT, None, Status.FAILED, "TYPE_MISMATCH"),
        ("html-first.png", HTML_THEN_PNG, "image/png", Status.FAILED, "TYPE_UNKNOWN"),
        ("nul.txt", b"hello\x00world", "text/plain", Status.FAILED, "TYPE_UNKNOWN"),
        ("empty.png", b"", "image/png", Status.FAILED, "EMPTY_FILE"),
        ("cover.jpg", JPEG, "image/jpeg", Status.SUCCESS, None),
        ("report.pdf", PDF, "application/pdf", Status.SUCCESS, None),
    ]
]
by_key = pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])


def _process(
    pipeline: Pipeline, key: str, body: bytes, content_type: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    record = pipeline.upload(key, body, content_type=content_type)
    return record, pipeline.process(record)


def _object_tag(pipeline: Pipeline, key: str, record: dict[str, Any]) -> str | None:
    version = record["s3"]["object"]["versionId"]
    tags = pipeline.s3.get_object_tagging(Bucket=BUCKET, Key=key, VersionId=version)["TagSet"]
    return next((t["Value"] for t in tags if t["Key"] == TAG_KEY), None)


@by_key
def test_hostile_file_is_recorded_with_the_truth(pipeline: Pipeline, case: Case) -> None:
    _process(pipeline, case.key, case.body, case.content_type)

    item = pipeline.status(case.key)
    assert item is not None
    assert (item.status, item.reason) == (case.status, case.reason)
    assert pipeline.store.replay(item.document_id) == item


@by_key
def test_hostile_file_is_tagged_with_its_outcome(pipeline: Pipeline, case: Case) -> None:
    record, _ = _process(pipeline, case.key, case.body, case.content_type)

    expected = TAG_STORED if case.status == Status.SUCCESS else TAG_REJECTED
    assert _object_tag(pipeline, case.key, record) == expected


@by_key
def test_hostile_file_is_counted_once_by_the_metric_filters(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    capsys.readouterr()
    _, result = _process(pipeline, case.key, case.body, case.content_type)

    lines = json_lines(capsys.readouterr().out)
    assert metric_counts(lines) == expected_counts(result["outcomes"])
    assert len(durations(lines)) == 1


def test_polyglot_that_is_a_real_gif_is_stored_as_a_gif_never_as_script(
    pipeline: Pipeline,
) -> None:
    # Magic bytes cannot see a script hidden inside a valid image; what they guarantee is
    # that it is recorded (and later served) as the image type its bytes prove.
    _process(pipeline, "funny.gif", GIF_JS_POLYGLOT, "image/gif")

    item = pipeline.status("funny.gif")
    assert item is not None
    assert (item.status, item.file_type) == (Status.SUCCESS, "image/gif")


def test_file_of_exactly_the_size_limit_is_stored(pipeline: Pipeline) -> None:
    _process(pipeline, "limit.png", padded(PNG, SIZE_LIMIT), "image/png")

    item = pipeline.status("limit.png")
    assert item is not None
    assert (item.status, item.file_size) == (Status.SUCCESS, SIZE_LIMIT)


def test_file_one_byte_over_the_size_limit_is_rejected(pipeline: Pipeline) -> None:
    _process(pipeline, "over.png", padded(PNG, SIZE_LIMIT + 1), "image/png")

    item = pipeline.status("over.png")
    assert item is not None
    assert (item.status, item.reason, item.file_size) == (
        Status.FAILED,
        "TOO_LARGE",
        SIZE_LIMIT + 1,
    )


def test_size_limit_is_judged_without_reading_the_file(
    pipeline: Pipeline, recorder: CallRecorder
) -> None:
    record = pipeline.upload("over.png", padded(PNG, SIZE_LIMIT + 1))
    recorder.reset()

    pipeline.process(record)

    assert recorder.bytes_read <= 64 * 1024


FORGED_KEYS = [
    'a.png\n{"message":"filetrail.outcome","outcome":"STORED","durationMs":1}',
    'a.png\r{"message":"filetrail.outcome","outcome":"STORED"}',
    'a.png\u2028{"message":"filetrail.outcome","outcome":"STORED"}',
    'a.png\u0085{"message":"filetrail.outcome","outcome":"STORED"}',
    "gnp.\u202eexe.png",
]


@pytest.mark.parametrize("key", FORGED_KEYS, ids=["LF", "CR", "LS", "NEL", "RLO"])
def test_name_with_a_line_break_or_format_character_is_rejected_as_unsafe(
    pipeline: Pipeline, key: str
) -> None:
    _process(pipeline, key, PNG, "image/png")

    item = pipeline.status(key)
    assert item is not None
    assert (item.status, item.reason, item.key) == (Status.FAILED, "UNSAFE_NAME", key)


@pytest.mark.parametrize("key", FORGED_KEYS, ids=["LF", "CR", "LS", "NEL", "RLO"])
def test_name_that_forges_a_log_line_is_counted_once_as_rejected(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    capsys.readouterr()
    _process(pipeline, key, PNG, "image/png")

    lines = json_lines(capsys.readouterr().out)
    assert metric_counts(lines) == expected_counts(["REJECTED"])


def test_name_spelling_json_fields_cannot_turn_a_rejection_into_a_stored_count(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    key = 'x","outcome":"STORED","reason":null,"durationMs":-1,"y":".jpg'
    capsys.readouterr()

    _, result = _process(pipeline, key, PE_EXE, "image/jpeg")

    lines = json_lines(capsys.readouterr().out)
    assert result["outcomes"] == ["REJECTED"]
    assert metric_counts(lines) == expected_counts(["REJECTED"])
    assert all(isinstance(d, float) and d >= 0 for d in durations(lines))
