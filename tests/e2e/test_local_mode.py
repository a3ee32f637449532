from __future__ import annotations

import json
import uuid

from filetrail.cli import main
from filetrail.local.stack import Endpoints
from tests.e2e.conftest import LocalProcess, poll

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128
EXE = b"MZ\x90\x00" + b"\x00" * 60


def _cli(capsys, *argv: str):
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _status(capsys, uri: str) -> dict | None:
    code, out, _ = _cli(capsys, "status", uri, "--json")
    if code != 0:
        return None
    item = json.loads(out)
    return item if item["status"] != "PROCESSING" else None


def _upload(local: LocalProcess, key: str, body: bytes, content_type: str) -> str:
    bucket = local.ready["bucket"]
    local.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return f"s3://{bucket}/{key}"


def test_ready_line_has_the_documented_keys_in_order(local):
    assert list(local.ready) == [
        "endpoint_url",
        "region",
        "bucket",
        "table",
        "queue_url",
        "dlq_url",
        "events_topic_arn",
        "malware_scan",
    ]
    assert local.ready["endpoint_url"].startswith("http://127.0.0.1:")


def test_ready_line_says_malware_scanning_is_off_by_default(local):
    assert local.ready["malware_scan"] == "off"


def test_upload_through_s3_ends_stored(local_env, capsys):
    uri = _upload(local_env, f"e2e/{uuid.uuid4().hex}.png", PNG, "image/png")

    item = poll(lambda: _status(capsys, uri), what=f"an outcome for {uri}")

    assert item["status"] == "SUCCESS"
    assert item["fileType"] == "image/png"


def test_executable_named_jpg_ends_rejected_with_its_reason(local_env, capsys):
    uri = _upload(local_env, f"e2e/{uuid.uuid4().hex}.jpg", EXE, "image/jpeg")

    item = poll(lambda: _status(capsys, uri), what=f"an outcome for {uri}")

    assert item["status"] == "FAILED"
    assert item["reason"] == "TYPE_MISMATCH"


def test_history_and_trace_follow_one_upload(local_env, capsys):
    uri = _upload(local_env, f"e2e/{uuid.uuid4().hex}.txt", b"hello\n", "text/plain")
    poll(lambda: _status(capsys, uri), what=f"an outcome for {uri}")

    code, out, err = _cli(capsys, "history", uri, "--json")
    assert code == 0, err
    events = json.loads(out)["events"]
    assert [e["type"] for e in events] == ["RECEIVED", "VALIDATED", "STORED"]
    trace_id = events[-1]["traceId"]
    assert trace_id

    def traced():
        code, out, _ = _cli(capsys, "trace", uri, "--json")
        return json.loads(out) if code == 0 else None

    trace = poll(traced, what=f"trace {trace_id} in the emulator")
    assert trace["traceId"] == trace_id
    names = [span["name"] for span in trace["spans"]]
    assert names[0] == "filetrail-local-handler"
    assert {"process", "load", "inspect", "validate", "record"} <= set(names)
    process = next(s for s in trace["spans"] if s["name"] == "process")
    assert process["annotations"]["outcome"] == "STORED"
    assert trace["consoleUrl"] is None


def test_reprocess_through_the_dispatcher_only_adds_events(local_env, capsys):
    uri = _upload(local_env, f"e2e/{uuid.uuid4().hex}.txt", b"again\n", "text/plain")
    poll(lambda: _status(capsys, uri), what=f"an outcome for {uri}")

    code, out, err = _cli(capsys, "reprocess", uri, "--wait", "--json")

    assert code == 0, err
    result = json.loads(out)
    assert result["via"] == "queue"
    assert result["outcome"]["type"] == "STORED"
    code, out, _ = _cli(capsys, "history", uri, "--json")
    events = json.loads(out)["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[3]["upload"]["reprocessId"] == result["reprocessId"]
    code, _, _ = _cli(capsys, "verify", uri)
    assert code == 0


def test_unparseable_message_is_dead_lettered_by_the_handler(local_env):
    sqs = local_env.client("sqs")
    marker = uuid.uuid4().hex
    sqs.send_message(QueueUrl=local_env.ready["queue_url"], MessageBody=f"not json {marker}")

    def dead_lettered():
        response = sqs.receive_message(
            QueueUrl=local_env.ready["dlq_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        bodies = [json.loads(m["Body"]) for m in response.get("Messages", [])]
        return next((b for b in bodies if marker in json.dumps(b)), None)

    body = poll(dead_lettered, what="the message in the dead-letter queue")
    assert body["reason"] == "INVALID_EVENT"


def test_sigterm_stops_local_mode_with_exit_0():
    process = LocalProcess()

    assert process.stop() == 0


def test_exported_variables_name_the_status_index_shards_the_handler_writes():
    endpoints = Endpoints("http://127.0.0.1:1", "us-east-1", "b", "t", "q", "d", 4)

    assert endpoints.environment()["FILETRAIL_STATUS_INDEX_SHARDS"] == "4"
    assert "status_index_shards" not in endpoints.to_json()


def test_local_mode_says_at_start_that_nothing_survives_a_stop(tmp_path):
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = LocalProcess(stderr=stderr)
        try:
            notices = poll(
                lambda: [
                    json.loads(line)
                    for line in log.read_text().splitlines()
                    if '"filetrail.local.ready"' in line
                ],
                what="the ready notice on stderr",
            )
        finally:
            process.stop()
    assert "gone when local mode stops" in notices[0]["notice"]
