from __future__ import annotations

import base64
import json

from handlers import schema

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_list_by_status_returns_only_that_status(stack, cli):
    stack.upload("ok.png", PNG, "image/png")
    stack.upload("empty.txt", b"")

    result = cli("list", "--status", "FAILED", "--json")

    assert result.code == 0, result.err
    assert [i["key"] for i in result.json()["items"]] == ["empty.txt"]


def test_list_without_status_returns_every_file_newest_first(stack, cli):
    for key in ("first.txt", "second.txt", "third.txt"):
        stack.upload(key, b"hello")

    items = cli("list", "--json").json()["items"]

    assert [i["key"] for i in items] == ["third.txt", "second.txt", "first.txt"]


def test_list_pages_with_a_cursor_until_exhausted(stack, cli):
    keys = [f"file-{n}.txt" for n in range(5)]
    for key in keys:
        stack.upload(key, b"hello")
    stack.upload("bad.txt", b"")

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        argv = ["list", "--limit", "2", "--json"] + (["--cursor", cursor] if cursor else [])
        page = cli(*argv).json()
        assert len(page["items"]) <= 2
        seen += [i["key"] for i in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break

    assert sorted(seen) == sorted([*keys, "bad.txt"])
    assert len(seen) == len(set(seen))


def test_list_since_the_future_is_empty(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("list", "--since", "2999-01-01T00:00:00Z", "--json")

    assert result.json() == {"items": [], "cursor": None}


def test_list_since_a_relative_duration_includes_recent_files(stack, cli):
    stack.upload("a.txt", b"hello")

    items = cli("list", "--since", "1h", "--json").json()["items"]

    assert [i["key"] for i in items] == ["a.txt"]


def test_list_table_shows_the_files(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("list")

    assert result.code == 0, result.err
    assert "a.txt" in result.out
    assert "SUCCESS" in result.out


def test_list_rejects_an_unknown_status(stack, cli):
    result = cli("list", "--status", "MAYBE")

    assert result.code == 2
    assert "invalid choice" in result.err


def test_list_rejects_a_malformed_since(stack, cli):
    result = cli("list", "--since", "yesterday")

    assert result.code == 2
    assert "--since" in result.err


def test_list_rejects_a_forged_cursor(stack, cli):
    result = cli("list", "--cursor", "not-a-cursor")

    assert result.code == 2
    assert "--cursor" in result.err


def test_list_pages_across_shards_in_the_order_of_a_single_page(stack, cli):
    keys = [f"spread-{n}.txt" for n in range(7)]
    for key in keys:
        stack.upload(key, b"hello")
    shards = {schema.status_shard(schema.document_id(stack.bucket, k), 8) for k in keys}
    assert len(shards) > 1  # the files really are spread over several index partitions

    whole = [i["key"] for i in cli("list", "--status", "SUCCESS", "--json").json()["items"]]
    paged: list[str] = []
    cursor = None
    for _ in range(10):
        argv = ["list", "--status", "SUCCESS", "--limit", "2", "--json"]
        page = cli(*argv, *(["--cursor", cursor] if cursor else [])).json()
        paged += [i["key"] for i in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break

    assert sorted(whole) == sorted(keys)
    assert paged == whole


def test_list_rejects_a_well_formed_cursor_of_another_kind_without_a_traceback(stack, cli):
    foreign = base64.urlsafe_b64encode(json.dumps({"SUCCESS": {"done": False}}).encode())

    result = cli("list", "--cursor", foreign.decode())

    assert (result.code, result.out) == (2, "")
    assert "--cursor" in result.err
    assert "Traceback" not in result.err


def test_list_queries_only_the_shards_the_environment_names(stack, cli, monkeypatch):
    # A file the handler (8 shards) put beyond shard 1: two shards cannot see it.
    key = next(
        k
        for k in (f"far-{n}.txt" for n in range(100))
        if schema.status_shard(schema.document_id(stack.bucket, k), 8) >= 2
    )
    stack.upload(key, b"hello")
    monkeypatch.setenv("FILETRAIL_STATUS_INDEX_SHARDS", "2")

    assert cli("list", "--json").json()["items"] == []


def test_list_refuses_an_index_shard_count_out_of_range(stack, cli):
    result = cli("list", "--index-shards", "0")

    assert result.code == 2
    assert "--index-shards" in result.err
