from __future__ import annotations

from handlers import schema
from handlers.store import AuditStore


def _tamper(stack, key: str) -> None:
    stack.session.client("dynamodb").update_item(
        TableName=stack.table,
        Key={
            schema.PARTITION_KEY: {"S": schema.document_id(stack.bucket, key)},
            schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
        },
        UpdateExpression="SET fileSize = :size",
        ExpressionAttributeValues={":size": {"N": "12345"}},
    )


def test_verify_file_passes_when_replay_matches(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("verify", stack.uri("a.txt"), "--json")

    assert result.code == 0, result.err
    assert result.json() == {"ok": True, "checked": 1, "drift": []}


def test_verify_all_checks_every_file(stack, cli):
    stack.upload("a.txt", b"hello")
    stack.upload("b.txt", b"")

    result = cli("verify", "--all")

    assert result.code == 0, result.err
    assert "ok: 2 stream(s)" in result.out


def test_verify_reports_drift_and_exits_3(stack, cli):
    stack.upload("a.txt", b"hello")
    stack.upload("b.txt", b"hello")
    _tamper(stack, "b.txt")

    result = cli("verify", "--all", "--json")

    assert result.code == 3
    report = result.json()
    assert report["ok"] is False
    assert report["checked"] == 2
    [drift] = report["drift"]
    assert drift["file"] == stack.uri("b.txt")
    assert drift["differences"]["fileSize"] == {"stored": 12345, "replayed": 5}


def test_verify_drift_table_names_the_field(stack, cli):
    stack.upload("b.txt", b"hello")
    _tamper(stack, "b.txt")

    result = cli("verify", stack.uri("b.txt"))

    assert result.code == 3
    assert "DRIFT" in result.out
    assert "fileSize" in result.out


def test_verify_needs_a_file_or_all(stack, cli):
    result = cli("verify")

    assert result.code == 2
    assert "either FILE or --all" in result.err


def test_verify_of_an_unknown_file_fails(stack, cli):
    result = cli("verify", stack.uri("missing.txt"))

    assert result.code == 1
    assert "no audit trail" in result.err


def test_an_append_between_the_reads_is_not_drift(stack, cli, monkeypatch):
    stack.upload("busy.txt", b"first")
    real = AuditStore.iter_events
    appended = []

    def with_a_writer_in_between(self, document_id):
        if not appended:
            appended.append(True)
            stack.upload("busy.txt", b"second")  # lands after the status item was read
        return real(self, document_id)

    monkeypatch.setattr(AuditStore, "iter_events", with_a_writer_in_between)

    result = cli("verify", stack.uri("busy.txt"), "--json")

    assert result.code == 0, result.out
    assert appended
