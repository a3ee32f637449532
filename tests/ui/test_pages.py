"""The dashboard's pages over a moto-backed stack, through Flask's test client."""

from __future__ import annotations

import re

from filetrail.ui.app import create_app
from tests.cli.test_trace import TRACE_ID, _seed_trace
from tests.ui.conftest import HOSTILE_KEY, ui_context

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24


def _document_id(client, key_fragment: str) -> str:
    html = client.get("/files").get_data(as_text=True)
    for document_id, label in re.findall(r'href="/file/(doc-[0-9a-f]+)">([^<]*)</a>', html):
        if key_fragment in label:
            return document_id
    raise AssertionError(f"{key_fragment} not listed")


def test_overview_counts_files_by_status_in_the_window(stack, client):
    stack.upload("a.txt", b"hello")
    stack.upload("b.txt", b"")

    html = client.get("/?since=1h").get_data(as_text=True)

    assert re.search(r'data-status="SUCCESS">1<', html)
    assert re.search(r'data-status="FAILED">1<', html)


def test_overview_lists_rejections_by_reason(stack, client):
    stack.upload("empty.txt", b"")

    html = client.get("/").get_data(as_text=True)

    assert '<td>EMPTY_FILE</td><td class="num">1</td>' in html


def test_overview_draws_files_per_hour_as_svg_bars(stack, client):
    stack.upload("a.txt", b"hello")
    stack.upload("b.txt", b"hello")

    html = client.get("/?since=2h").get_data(as_text=True)

    assert re.search(r'<rect x="\d+" y="0" width="10" height="100"><title>[^<]*: 2</title>', html)


def test_overview_shows_the_dead_letter_count_when_a_queue_is_configured(stack, monkeypatch):
    sqs = stack.session.client("sqs")
    dlq = sqs.create_queue(QueueName=f"dlq-{stack.table}")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="{}")
    monkeypatch.setenv("FILETRAIL_DLQ_URL", dlq)
    client = create_app(ui_context(stack)).test_client()

    html = client.get("/").get_data(as_text=True)

    assert '<span class="count" id="dead-letters">1</span>' in html


def _mark_processing(stack, document_id: str) -> None:
    """Rewrite a status item as a handler that stopped after RECEIVED would have left it."""
    from dataclasses import replace  # noqa: PLC0415

    from handlers.schema import EventType, Status  # noqa: PLC0415
    from handlers.store import AuditStore, to_attributes  # noqa: PLC0415

    client = stack.session.client("dynamodb")
    item = AuditStore(client, stack.table).get_status(document_id)
    stuck = replace(item, status=Status.PROCESSING, stage=EventType.RECEIVED)
    client.put_item(TableName=stack.table, Item=to_attributes(stuck.to_item(index_shards=1)))


def test_overview_lists_files_waiting_in_processing(stack, client):
    stack.upload("stuck.txt", b"hello")
    _mark_processing(stack, _document_id(client, "stuck.txt"))

    html = client.get("/").get_data(as_text=True)

    assert ">stuck.txt</a>" in html.split("Waiting longest")[1]


def test_files_lists_newest_first_with_a_status_filter(stack, client):
    stack.upload("old.txt", b"hello")
    stack.upload("new.txt", b"hello")
    stack.upload("bad.txt", b"")

    html = client.get("/files?status=SUCCESS").get_data(as_text=True)

    assert html.index("new.txt") < html.index("old.txt")
    assert "bad.txt" not in html


def test_files_filters_by_key_prefix(stack, client):
    stack.upload("in/a.txt", b"hello")
    stack.upload("out/b.txt", b"hello")

    html = client.get("/files?prefix=in/").get_data(as_text=True)

    assert "in/a.txt" in html
    assert "out/b.txt" not in html


def test_files_pages_with_the_listing_cursor(stack, client, monkeypatch):
    monkeypatch.setattr("filetrail.ui.app.PAGE_SIZE", 2)
    for name in ("a", "b", "c"):
        stack.upload(f"{name}.txt", b"hello")

    first = client.get("/files").get_data(as_text=True)
    next_url = re.search(r'<a class="more" href="([^"]+)"', first).group(1)
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)

    assert ("c.txt" in first, "b.txt" in first, "a.txt" in first) == (True, True, False)
    assert ("a.txt" in second, "c.txt" in second) == (True, False)


def test_files_refuses_an_unknown_status(client):
    response = client.get("/files?status=NOPE")

    assert response.status_code == 400


def test_file_page_shows_every_event_with_its_details(stack, client):
    stack.upload("empty.txt", b"")
    document_id = _document_id(client, "empty.txt")

    html = client.get(f"/file/{document_id}").get_data(as_text=True)

    assert re.findall(r"type-(\w+)", html) == ["received", "rejected"]
    assert "reason=EMPTY_FILE" in html


def test_file_page_of_an_unknown_document_is_404(client):
    assert client.get("/file/doc-0000").status_code == 404


def test_file_page_draws_the_trace_of_an_event_as_a_waterfall(stack, client):
    stack.upload("a.txt", b"hello")
    document_id = _document_id(client, "a.txt")
    _seed_trace(stack)
    # Events are immutable in the product; here the test gives the last one the seeded trace.
    stack.session.client("dynamodb").update_item(
        TableName=stack.table,
        Key=_event_key(document_id, 3),
        UpdateExpression="SET traceId = :t",
        ExpressionAttributeValues={":t": {"S": TRACE_ID}},
    )

    html = client.get(f"/file/{document_id}?trace=3").get_data(as_text=True)

    assert TRACE_ID in html
    assert "dynamodb TransactWriteItems" in html
    assert re.search(r'<rect x="\d+" y="0" width="\d+" height="10"', html)


def _event_key(document_id: str, seq: int) -> dict:
    from handlers import schema  # noqa: PLC0415

    return {
        schema.PARTITION_KEY: {"S": document_id},
        schema.SORT_KEY: {"S": schema.event_sort_key(seq)},
    }


def test_hostile_key_renders_as_text_on_every_page(stack, client):
    stack.upload(HOSTILE_KEY, PNG, "image/png")
    document_id = _document_id(client, "alert(1)")

    pages = [client.get(url).get_data(as_text=True) for url in ("/", "/files")]
    pages.append(client.get(f"/file/{document_id}").get_data(as_text=True))

    for html in pages:
        assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in pages[2]


def test_every_response_carries_the_security_headers(stack, client):
    for url in ("/", "/files", "/static/live.js", "/nope"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_or_style(stack, client):
    stack.upload("a.txt", b"hello")
    document_id = _document_id(client, "a.txt")

    for url in ("/", "/files", f"/file/{document_id}"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "<style" not in html
        assert " style=" not in html


def test_a_request_naming_another_host_is_refused(client):
    """A DNS-rebinding page reaches 127.0.0.1 under its own host name."""
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 400


def test_static_files_ship_with_the_package(client):
    with client.get("/static/live.js") as script, client.get("/static/style.css") as style:
        assert "EventSource" in script.get_data(as_text=True)
        assert style.status_code == 200


def test_event_stream_announces_a_change_to_the_file(stack, client):
    stack.upload("a.txt", b"hello")
    document_id = _document_id(client, "a.txt")
    response = client.get(f"/events?doc={document_id}", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")

    stack.upload("a.txt", b"hello again")

    seen = _until_change(chunks)
    response.close()
    assert seen[-1].startswith(b"event: change")
    assert response.mimetype == "text/event-stream"


def _until_change(chunks, polls: int = 200) -> list[bytes]:
    """Chunks up to the first change, or `polls` quiet ones (a deadline in polls)."""
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        if chunk.startswith(b"event: change") or len(seen) > polls:
            break
    return seen


def test_event_stream_of_the_overview_announces_a_new_file(stack, client):
    response = client.get("/events", buffered=False)
    chunks = iter(response.response)
    next(chunks)

    stack.upload("a.txt", b"hello")

    seen = _until_change(chunks)
    response.close()
    assert seen[-1].startswith(b"event: change")


def test_event_stream_stays_quiet_without_changes(stack, client):
    stack.upload("a.txt", b"hello")
    response = client.get("/events", buffered=False)
    chunks = iter(response.response)
    next(chunks)

    seen = [next(chunks) for _ in range(3)]
    response.close()

    assert all(chunk.startswith(b":") for chunk in seen)


def test_event_stream_announces_a_change_made_before_it_connected(stack, client):
    """The page names the state it shows; a change between rendering and connecting counts."""
    stack.upload("a.txt", b"hello")
    document_id = _document_id(client, "a.txt")
    html = client.get(f"/file/{document_id}").get_data(as_text=True)
    live_url = re.search(r'data-live="([^"]+)"', html).group(1).replace("&amp;", "&")
    stack.upload("a.txt", b"hello again")

    response = client.get(live_url, buffered=False)
    chunks = iter(response.response)
    next(chunks)
    seen = _until_change(chunks)
    response.close()

    assert seen[-1].startswith(b"event: change")
