"""`filetrail ui`: stack resolution as the other commands, loopback, and where it listens."""

from __future__ import annotations

import socket
import urllib.request

from werkzeug.serving import BaseWSGIServer

from filetrail.ui.serve import running, url_of
from tests.cli.conftest import cli  # noqa: F401 - fixture
from tests.ui.conftest import ui_context


def _interrupted(self):
    raise KeyboardInterrupt


def test_ui_binds_to_loopback_and_serves_the_overview(stack):
    # The cookie the tokened address sets opens the page it redirects to.
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with running(ui_context(stack)) as server, browser.open(url_of(server), timeout=10) as response:
        status, body = response.status, response.read().decode()

    assert server.host == "127.0.0.1"
    assert status == 200
    assert "<h1>Overview</h1>" in body


def test_ui_says_where_it_listens(stack, cli, monkeypatch):  # noqa: F811
    monkeypatch.setattr(BaseWSGIServer, "serve_forever", _interrupted)

    result = cli("ui", "--port", "0")

    assert result.code == 0, result.err
    assert result.out.startswith("filetrail ui: serving http://127.0.0.1:")


def test_ui_json_prints_one_document_with_the_address(stack, cli, monkeypatch):  # noqa: F811
    monkeypatch.setattr(BaseWSGIServer, "serve_forever", _interrupted)

    result = cli("ui", "--port", "0", "--json")

    assert result.code == 0, result.err
    assert result.json()["url"].startswith("http://127.0.0.1:")


def test_ui_open_hands_the_address_to_the_browser(stack, cli, monkeypatch):  # noqa: F811
    opened: list[str] = []
    monkeypatch.setattr(BaseWSGIServer, "serve_forever", _interrupted)
    monkeypatch.setattr("webbrowser.open", opened.append)

    result = cli("ui", "--port", "0", "--open")

    assert result.code == 0, result.err
    assert opened == [result.out.split()[3]]


def test_ui_without_a_table_fails_before_listening(emulated_aws, cli, monkeypatch):  # noqa: F811
    monkeypatch.delenv("FILETRAIL_TABLE", raising=False)

    result = cli("ui", "--port", "0")

    assert result.code == 1
    assert "table" in result.err


def test_ui_on_a_port_in_use_fails_with_one_line(stack, cli):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = cli("ui", "--port", str(port))

    assert result.code == 1
    assert result.err.startswith(f"filetrail: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.err
