"""`list` for people at any width, and `--csv` on list and history for spreadsheets."""

from __future__ import annotations

import csv
import io

import pytest
from rich.cells import cell_len

from filetrail.render import size

LONG_KEY = "incoming/2026/quarterly-reports/finance/q3-consolidated-statement.txt"


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("COLUMNS", "80")
    return 80


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1_258_291, "1.2 MiB"), (5 << 30, "5.0 GiB")],
)
def test_size_reads_in_binary_units(value, shown):
    assert size(value) == shown


def test_list_at_80_columns_never_cuts_a_status(stack, cli, narrow):
    stack.upload(LONG_KEY, b"hello")
    stack.upload("empty.txt", b"")

    result = cli("list")

    assert result.code == 0, result.err
    assert "SUCCESS" in result.out
    assert "FAILED" in result.out
    assert "SUCCE…" not in result.out
    assert max(cell_len(line) for line in result.out.splitlines()) <= narrow


def test_list_at_80_columns_shows_the_whole_key_folded(stack, cli, narrow):
    stack.upload(LONG_KEY, b"hello")

    result = cli("list")

    assert "…" not in result.out
    folded = "".join(
        line.split("│")[2].strip() for line in result.out.splitlines() if line.count("│") > 2
    )
    assert LONG_KEY in folded


def test_list_shows_a_bare_key_in_the_stack_bucket(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("list")

    assert "a.txt" in result.out
    assert "s3://" not in result.out


def test_list_shows_the_bucket_of_a_file_in_another_bucket(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("list", "--bucket", "some-other-bucket")

    assert f"s3://{stack.bucket}/a.txt" in result.out


def test_list_shows_readable_sizes(stack, cli, narrow):
    stack.upload("big.txt", b"x" * 2048)

    result = cli("list")

    assert "2.0 KiB" in result.out


def test_list_csv_has_a_header_and_every_field_of_each_item(stack, cli):
    stack.upload("a.txt", b"hello")
    stack.upload("empty.txt", b"")
    items = cli("list", "--json").json()["items"]

    result = cli("list", "--csv")

    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [row["key"] for row in rows] == [item["key"] for item in items]
    assert list(rows[0]) == list(items[0])
    assert {row["key"]: row["reason"] for row in rows} == {"empty.txt": "EMPTY_FILE", "a.txt": ""}


def test_list_csv_puts_the_next_cursor_on_stderr(stack, cli):
    stack.upload("a.txt", b"hello")
    stack.upload("b.txt", b"hello")

    result = cli("list", "--csv", "--limit", "1")

    assert len(list(csv.DictReader(io.StringIO(result.out)))) == 1
    assert "--cursor" in result.err


def test_history_csv_has_one_row_per_event_with_nested_fields(stack, cli):
    stack.upload("empty.txt", b"")

    result = cli("history", stack.uri("empty.txt"), "--csv")

    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [row["type"] for row in rows] == ["RECEIVED", "REJECTED"]
    assert rows[-1]["details.reason"] == "EMPTY_FILE"
    assert rows[0]["upload.versionId"]


def test_csv_with_json_is_a_usage_error(stack, cli):
    result = cli("list", "--csv", "--json")

    assert result.code == 2
    assert "--csv" in result.err


def test_history_at_80_columns_keeps_seq_type_and_time_whole(stack, cli, narrow):
    stack.upload("empty.txt", b"")

    result = cli("history", stack.uri("empty.txt"))

    assert result.code == 0, result.err
    assert "REJECTED" in result.out
    assert "RECEIVED" in result.out
    assert "EMPTY_FILE" in result.out
    assert "…" not in result.out
    assert max(cell_len(line) for line in result.out.splitlines()) <= narrow
