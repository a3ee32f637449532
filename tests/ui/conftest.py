"""Dashboard tests: the Flask app over a CLI context on the shared moto server, with the
stack (a bucket and table per test, filled by the real handler) of the CLI tests."""

from __future__ import annotations

import io
import os
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from filetrail.aws import Clients
from filetrail.context import Context
from filetrail.stack import StackFlags, StackResolver
from filetrail.ui.app import Settings, create_app
from tests.cli.conftest import (  # noqa: F401 - fixtures
    Stack,
    emulated_aws,
    moto_server,
    processing,
    stack,
)

HOSTILE_KEY = "<script>alert(1)</script>.png"


def ui_context(test_stack: Stack) -> Context:
    flags = StackFlags(
        table=test_stack.table, bucket=test_stack.bucket, queue_url=test_stack.queue_url
    )
    return Context(
        stack=StackResolver(flags, dict(os.environ)),
        clients=Clients(),
        json=False,
        stdout=io.StringIO(),
    )


@pytest.fixture
def app(stack: Stack) -> Flask:  # noqa: F811
    return create_app(ui_context(stack), Settings(poll_seconds=0.05, overview_poll_seconds=0.05))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)
