"""The two POST actions: nothing changes without the page's token from the page's origin,
and GET never changes anything."""

from __future__ import annotations

import json
import re

from tests.ui.conftest import csrf_token


def _file(stack, client) -> tuple[str, str]:
    stack.upload("a.txt", b"hello")
    html = client.get("/files").get_data(as_text=True)
    document_id = re.search(r'href="/file/(doc-[0-9a-f]+)"', html).group(1)
    return document_id, csrf_token(client.get(f"/file/{document_id}").get_data(as_text=True))


def _queued(stack) -> list[dict]:
    response = stack.session.client("sqs").receive_message(
        QueueUrl=stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in response.get("Messages", [])]


def test_reprocess_with_the_page_token_submits_the_upload(stack, client):
    document_id, token = _file(stack, client)

    response = client.post(
        f"/file/{document_id}/reprocess", data={"csrf_token": token}, follow_redirects=True
    )

    assert response.status_code == 200
    [notification] = _queued(stack)
    reprocess_id = notification["Records"][0]["filetrail"]["reprocessId"]
    assert reprocess_id in response.get_data(as_text=True)


def test_reprocess_without_a_token_is_refused_and_submits_nothing(stack, client):
    document_id, _ = _file(stack, client)

    response = client.post(f"/file/{document_id}/reprocess")

    assert response.status_code == 403
    assert _queued(stack) == []


def test_reprocess_with_a_wrong_token_is_refused(stack, client):
    document_id, _ = _file(stack, client)

    response = client.post(f"/file/{document_id}/reprocess", data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert _queued(stack) == []


def test_a_post_from_another_origin_is_refused_even_with_the_token(stack, client):
    document_id, token = _file(stack, client)

    response = client.post(
        f"/file/{document_id}/reprocess",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert _queued(stack) == []


def test_reprocess_answers_with_a_redirect_so_a_reload_submits_nothing(stack, client):
    document_id, token = _file(stack, client)

    response = client.post(f"/file/{document_id}/reprocess", data={"csrf_token": token})
    client.get(response.headers["Location"])

    assert response.status_code == 303
    assert len(_queued(stack)) == 1


def test_a_post_the_browser_marks_cross_site_is_refused(stack, client):
    """Fetch metadata: https://developer.mozilla.org/docs/Web/HTTP/Headers/Sec-Fetch-Site"""
    document_id, token = _file(stack, client)

    response = client.post(
        f"/file/{document_id}/verify",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 403


def test_a_post_from_a_typed_navigation_is_refused(stack, client):
    """Sec-Fetch-Site `none` is a user-initiated navigation, never a form of this page."""
    document_id, token = _file(stack, client)

    response = client.post(
        f"/file/{document_id}/reprocess",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "none"},
    )

    assert response.status_code == 403
    assert _queued(stack) == []


def test_a_post_from_the_dashboard_origin_is_accepted(stack, client):
    document_id, token = _file(stack, client)

    response = client.post(
        f"/file/{document_id}/verify",
        data={"csrf_token": token},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )

    assert response.status_code == 200


def test_verify_reports_a_stream_that_replays_to_its_status(stack, client):
    document_id, token = _file(stack, client)

    html = client.post(f"/file/{document_id}/verify", data={"csrf_token": token}).get_data(
        as_text=True
    )

    assert "Verified: the stream replays to the stored status item." in html


def test_get_on_an_action_changes_nothing(stack, client):
    document_id, _ = _file(stack, client)

    response = client.get(f"/file/{document_id}/reprocess")

    assert response.status_code == 405
    assert _queued(stack) == []


def test_browsing_every_page_changes_nothing(stack, client):
    document_id, _ = _file(stack, client)
    before = stack.session.client("dynamodb").scan(TableName=stack.table)["Items"]

    for url in ("/", "/files", f"/file/{document_id}", f"/file/{document_id}?trace=1"):
        client.get(url)

    assert stack.session.client("dynamodb").scan(TableName=stack.table)["Items"] == before
    assert _queued(stack) == []
