"""Only whoever opened the printed address (it carries a token) may use the dashboard."""

from __future__ import annotations

import pytest

from filetrail.ui.app import Settings, create_app
from tests.ui.conftest import ui_context

TOKEN = "s3cret-token"


@pytest.fixture
def guarded(stack):
    return create_app(ui_context(stack), Settings(access_token=TOKEN)).test_client()


def test_a_request_without_the_token_is_refused(guarded):
    for url in ("/", "/files", "/events", "/static/live.js"):
        assert guarded.get(url).status_code == 403, url


def test_a_wrong_token_is_refused(guarded):
    assert guarded.get("/files?token=guess").status_code == 403


def test_the_token_is_exchanged_for_a_strict_httponly_cookie(guarded):
    response = guarded.get(f"/files?status=FAILED&token={TOKEN}")

    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 303
    assert response.headers["Location"] == "/files?status=FAILED"
    assert f"filetrail_ui={TOKEN}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_the_cookie_opens_every_page_after(guarded):
    guarded.get(f"/?token={TOKEN}")

    assert guarded.get("/files").status_code == 200
    assert guarded.get("/").status_code == 200


def test_the_cookie_is_named_for_the_port_the_dashboard_serves(guarded):
    guarded.set_cookie("filetrail_ui_8765", TOKEN, domain="localhost")

    assert guarded.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_the_cookie_of_a_dashboard_on_another_port_is_not_accepted(guarded):
    guarded.set_cookie("filetrail_ui_9999", TOKEN, domain="localhost")

    assert guarded.get("/", headers={"Host": "localhost:8765"}).status_code == 403
