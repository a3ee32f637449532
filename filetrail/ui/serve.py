"""Serve the dashboard with werkzeug's threaded server on loopback until interrupted."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TextIO
from urllib.parse import urlencode

from werkzeug.serving import BaseWSGIServer, make_server

from filetrail.context import Context
from filetrail.errors import EXIT_OK, CliError
from filetrail.ui.access import PARAMETER
from filetrail.ui.app import Settings, create_app

DEFAULT_HOST = "127.0.0.1"
# The app config key under which the server keeps its access token.
TOKEN_CONFIG = "FILETRAIL_ACCESS_TOKEN"  # noqa: S105 - a key name, not a secret


def start(
    ctx: Context, *, host: str = DEFAULT_HOST, port: int = 0, settings: Settings | None = None
) -> BaseWSGIServer:
    """A bound server that does not serve yet: `server.port` is the port bound (0 picks a
    free one). Serve with `serve_forever`, in this thread or another."""
    # Resolve the table now: a stack that cannot be found fails before anything listens.
    ctx.store.table_name  # noqa: B018
    settings = settings or Settings()
    access_token = settings.access_token or secrets.token_urlsafe(24)
    app = create_app(
        ctx, replace(settings, hosts=settings.hosts | {host}, access_token=access_token)
    )
    app.config[TOKEN_CONFIG] = access_token
    # werkzeug logs every request on stderr in its own format; the dashboard's output is
    # the one line saying where it listens.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _check_free(host, port)
    return make_server(host, port, app, threaded=True)


def _check_free(host: str, port: int) -> None:
    """werkzeug prints its own advice and exits on a taken port; fail in one line instead."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the server will: a port left in TIME_WAIT by a stopped dashboard is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CliError(
                f"cannot listen on {host}:{port}: {error.strerror or error}; "
                "pick another --port (0: any free port)"
            ) from None


def base_url(server: BaseWSGIServer) -> str:
    return f"http://{server.host}:{server.port}/"


def url_of(server: BaseWSGIServer) -> str:
    """The address to open: it carries the access token."""
    token = server.app.config[TOKEN_CONFIG]  # type: ignore[attr-defined]
    return f"{base_url(server)}?{urlencode({PARAMETER: token})}"


def _stop_streams(server: BaseWSGIServer) -> None:
    """End the open event streams: each holds a request thread until it ends."""
    server.app.extensions["filetrail.stop"].set()  # type: ignore[attr-defined]


@contextmanager
def running(
    ctx: Context, *, port: int = 0, settings: Settings | None = None
) -> Iterator[BaseWSGIServer]:
    """The dashboard served from a background thread for the duration of the block."""
    server = start(ctx, port=port, settings=settings)
    thread = threading.Thread(target=server.serve_forever, name="filetrail-ui", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        _stop_streams(server)
        server.shutdown()
        thread.join()
        server.server_close()


def serve(
    ctx: Context,
    *,
    port: int,
    open_browser: bool,
    as_json: bool = False,
    out: TextIO | None = None,
    opener: Callable[[str], object] | None = None,
) -> int:
    out = out or sys.stdout
    server = start(ctx, port=port)
    url = url_of(server)
    if as_json:
        # One document, as every command's --json: a script learns the port it got.
        print(json.dumps({"url": url}), file=out, flush=True)
    else:
        print(f"filetrail ui: serving {url} (Ctrl-C to stop)", file=out, flush=True)
    if open_browser:
        # webbrowser starts the browser in the background and returns.
        (opener or webbrowser.open)(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        _stop_streams(server)
        server.server_close()
    return EXIT_OK
