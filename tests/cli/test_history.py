from __future__ import annotations

from handlers import schema

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_history_json_lists_every_event_in_order(stack, cli):
    stack.upload("photos/cat.png", PNG, "image/png")

    result = cli("history", stack.uri("photos/cat.png"), "--json")

    assert result.code == 0, result.err
    document = result.json()
    assert document["documentId"] == schema.document_id(stack.bucket, "photos/cat.png")
    assert [e["type"] for e in document["events"]] == ["RECEIVED", "VALIDATED", "STORED"]
    assert [e["seq"] for e in document["events"]] == [1, 2, 3]
    assert {"documentId", "seq", "type", "at", "traceId", "details"} <= set(document["events"][0])


def test_history_json_carries_the_rejection_reason(stack, cli):
    stack.upload("empty.txt", b"")

    events = cli("history", stack.uri("empty.txt"), "--json").json()["events"]

    assert events[-1]["type"] == "REJECTED"
    assert events[-1]["details"]["reason"] == "EMPTY_FILE"


def test_history_table_shows_types_and_reason(stack, cli):
    stack.upload("empty.txt", b"")

    result = cli("history", stack.uri("empty.txt"))

    assert result.code == 0, result.err
    assert "RECEIVED" in result.out
    assert "REJECTED" in result.out
    assert "EMPTY_FILE" in result.out
    assert "\x1b[" not in result.out  # no colour when stdout is not a terminal


def test_history_accepts_a_bare_key_in_the_stack_bucket(stack, cli):
    stack.upload("notes/a b+ü.txt", b"hello")

    result = cli("history", "notes/a b+ü.txt", "--json")

    assert result.code == 0, result.err
    assert result.json()["events"][0]["key"] == "notes/a b+ü.txt"


def test_history_accepts_a_document_id(stack, cli):
    stack.upload("notes/x.txt", b"hello")
    document_id = schema.document_id(stack.bucket, "notes/x.txt")

    result = cli("history", document_id, "--json")

    assert result.code == 0, result.err
    assert result.json()["documentId"] == document_id


def test_history_of_an_unknown_file_fails_with_one_line(stack, cli):
    result = cli("history", stack.uri("never/uploaded.txt"))

    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "no audit trail for" in result.err
    assert "Traceback" not in result.err
