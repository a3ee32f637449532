from __future__ import annotations

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
