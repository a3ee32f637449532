from __future__ import annotations

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_status_json_has_the_seed_fields_and_stage(stack, cli):
    stack.upload("photos/cat.png", PNG, "image/png")

    result = cli("status", stack.uri("photos/cat.png"), "--json")

    assert result.code == 0, result.err
    item = result.json()
    assert item["fileName"] == "cat.png"
    assert item["fileType"] == "image/png"
    assert item["fileSize"] == len(PNG)
    assert item["status"] == "SUCCESS"
    assert item["stage"] == "STORED"
    assert item["uploadedAt"]
    assert item["version"] == 3


def test_status_table_shows_status_and_reason(stack, cli):
    stack.upload("big.txt", b"x" * 2000)

    result = cli("status", stack.uri("big.txt"))

    assert result.code == 0, result.err
    assert "FAILED" in result.out
    assert "TOO_LARGE" in result.out


def test_status_of_an_unknown_file_fails(stack, cli):
    result = cli("status", stack.uri("missing.txt"), "--json")

    assert result.code == 1
    assert result.out == ""
    assert "no status for" in result.err
