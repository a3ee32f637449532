"""Expected failures: one line on stderr, a non-zero exit, nothing on stdout."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def _one_clean_line(result) -> None:
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("filetrail: error: ")
    assert "Traceback" not in result.err


class _Throttling(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Rate of requests exceeds the allowed throughput.",
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def throttling_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_missing_table_is_one_clear_line(stack, cli):
    result = cli("history", stack.uri("a.txt"), "--table", "no-such-table")

    assert result.code == 1
    _one_clean_line(result)
    assert "table not found" in result.err


def test_missing_credentials_is_one_clear_line(stack, cli, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    result = cli("status", stack.uri("a.txt"), "--json")

    assert result.code == 1
    _one_clean_line(result)
    assert "no AWS credentials" in result.err


def test_throttling_is_one_clear_line(stack, cli, throttling_endpoint):
    result = cli("status", stack.uri("a.txt"), "--endpoint-url", throttling_endpoint)

    assert result.code == 1
    _one_clean_line(result)
    assert "throttling" in result.err


def test_unconfigured_table_names_every_way_to_set_it(stack, cli, monkeypatch):
    monkeypatch.delenv("FILETRAIL_TABLE")

    result = cli("list")

    assert result.code == 1
    _one_clean_line(result)
    assert "--table" in result.err
    assert "FILETRAIL_TABLE" in result.err


def test_bare_key_without_a_bucket_names_every_way_to_set_it(stack, cli, monkeypatch):
    monkeypatch.delenv("FILETRAIL_BUCKET")

    result = cli("history", "a.txt")

    assert result.code == 1
    _one_clean_line(result)
    assert "FILETRAIL_BUCKET" in result.err


def test_unknown_command_is_a_usage_error(cli):
    result = cli("frobnicate")

    assert result.code == 2
    _one_clean_line(result)


def test_missing_file_argument_is_a_usage_error(cli):
    result = cli("history")

    assert result.code == 2
    _one_clean_line(result)
    assert "FILE" in result.err


def test_malformed_s3_uri_is_a_usage_error(stack, cli):
    result = cli("status", "s3://bucket-only")

    assert result.code == 2
    _one_clean_line(result)


def test_non_numeric_limit_is_a_usage_error(cli):
    result = cli("list", "--limit", "many")

    assert result.code == 2
    _one_clean_line(result)


def test_malformed_endpoint_url_is_a_usage_error(stack, cli):
    result = cli("history", stack.uri("a.txt"), "--endpoint-url", "notaurl")

    assert result.code == 2
    _one_clean_line(result)
    assert "endpoint" in result.err


def test_since_before_the_year_one_is_a_usage_error(cli):
    result = cli("list", "--since", "99999999d")

    assert result.code == 2
    _one_clean_line(result)


@pytest.mark.parametrize("timeout", ["nan", "inf", "-1"])
def test_timeout_must_be_positive_and_finite(stack, cli, timeout):
    result = cli("reprocess", stack.uri("a.txt"), "--wait", "--timeout", timeout)

    assert result.code == 2
    assert "Traceback" not in result.err


def test_multi_line_error_text_is_folded_into_one_line(stack, cli, throttling_endpoint):
    result = cli("history", stack.uri("a.txt"), "--endpoint-url", throttling_endpoint)

    _one_clean_line(result)


def test_aws_region_variable_is_honoured(stack, cli, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    stack.upload("a.txt", b"hello")

    result = cli("status", stack.uri("a.txt"), "--json")

    assert result.code == 0, result.err
    assert result.json()["status"] == "SUCCESS"


@pytest.fixture
def closed_port() -> int:
    """A port that was just free: nothing listens on it."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def test_unreachable_endpoint_says_it_cannot_connect_to_it(stack, cli, closed_port):
    endpoint = f"http://127.0.0.1:{closed_port}"

    result = cli("list", "--endpoint-url", endpoint)

    assert result.code == 1
    _one_clean_line(result)
    assert f"cannot connect to the endpoint {endpoint}" in result.err
    assert "throttling" not in result.err
    assert "PROCESSING" not in result.err


def test_unreachable_loopback_endpoint_hints_at_local_mode(stack, cli, closed_port):
    result = cli("status", "a.txt", "--endpoint-url", f"http://localhost:{closed_port}")

    assert result.code == 1
    _one_clean_line(result)
    assert "`filetrail local`" in result.err
