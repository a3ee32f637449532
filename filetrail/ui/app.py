"""The dashboard as a Flask application over a CLI `Context`: the same store, stack and
clients as the commands, so a page shows exactly what `filetrail list/history/trace` print.

GET never changes anything. The two actions are POSTs that carry a per-process token from a
hidden form field and come from the dashboard's own origin; every response carries a Content
Security Policy that allows no inline script or style, so an object key that reaches a page
(always autoescaped by Jinja) could not run even if escaping failed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response as BaseResponse

from filetrail.commands import _submit, _submitter
from filetrail.context import Context
from filetrail.errors import StackNotFoundError, UnknownFileError, UsageError
from filetrail.listing import list_files, parse_since
from filetrail.reprocess import reprocess_id_of, synthetic_notification
from filetrail.trace import Timeline, fetch_timeline
from filetrail.ui.access import require_token
from filetrail.ui.summary import Summary, summarize
from filetrail.verify import Report, verify_all
from handlers.errors import FiletrailError
from handlers.model import AuditEvent, StatusItem
from handlers.schema import Status
from handlers.store import AuditStore

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: under it a browser sends `Origin: null` with the page's own forms.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
DEFAULT_WINDOW = "24h"
PAGE_SIZE = 50
# A key-prefix filter reads the index page by page; this bounds the pages one request reads.
PREFIX_PAGES = 20
WATERFALL_WIDTH = 600


@dataclass(frozen=True)
class Settings:
    # How often an open page's event stream re-reads what the page shows: a file's page
    # costs one GetItem, the overview the window's status items (as rendering it does).
    poll_seconds: float = 1.5
    overview_poll_seconds: float = 5.0
    # Host names a request may name: a DNS-rebinding page names its own.
    hosts: frozenset[str] = LOOPBACK_NAMES
    # Required of every request when set (filetrail.ui.access); `filetrail ui` always sets one.
    access_token: str | None = None


def create_app(ctx: Context, settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__)
    token = secrets.token_urlsafe(32)
    stopping = threading.Event()
    app.extensions["filetrail.stop"] = stopping
    store = ctx.store

    _guard(app, settings)
    if settings.access_token is not None:
        require_token(app, settings.access_token)

    @app.context_processor
    def shared() -> dict[str, Any]:
        return {"csrf_token": token, "statuses": [str(s) for s in Status]}

    def window() -> tuple[str, str]:
        text = request.args.get("since") or DEFAULT_WINDOW
        return text, parse_since(text)

    @app.get("/")
    def overview() -> str:
        text, since = window()
        summary = summarize(store, since, datetime.now(UTC))
        return render_template(
            "overview.html",
            since_text=text,
            summary=summary,
            dead_letters=_dead_letters(ctx),
            live_url=url_for("events", since=text, seen=_digest(_overview_state(summary))),
            refresh_url=url_for("overview", since=text),
        )

    @app.get("/files")
    def files() -> str:
        status = (request.args.get("status") or "").upper()
        if status and status not in Status.__members__:
            raise UsageError(f"unknown status {status!r}")
        since_text = request.args.get("since") or ""
        prefix = request.args.get("prefix") or ""
        statuses = (Status(status),) if status else tuple(Status)
        since = parse_since(since_text) if since_text else None
        cursor = request.args.get("cursor") or None
        items, cursor = _listing(store, statuses, since, prefix, cursor)
        return render_template(
            "files.html",
            items=items,
            status=status,
            since_text=since_text,
            prefix=prefix,
            next_url=url_for("files", status=status, since=since_text, prefix=prefix, cursor=cursor)
            if cursor
            else None,
        )

    def file_page(document_id: str, **result: Any) -> str:
        item = store.get_status(document_id)
        events = list(store.iter_events(document_id))
        if item is None and not events:
            raise UnknownFileError(f"no audit trail for {document_id}")
        chosen, timeline, trace_error = _trace(ctx, events, request.args.get("trace"))
        # A live update keeps the trace shown; after a POST it shows the plain page.
        refresh_url = (
            request.full_path
            if request.method == "GET"
            else url_for("file", document_id=document_id)
        )
        return render_template(
            "file.html",
            document_id=document_id,
            item=item,
            events=events,
            chosen=chosen,
            timeline=timeline,
            bars=_waterfall(timeline) if timeline else [],
            trace_error=trace_error,
            live_url=url_for("events", doc=document_id, seen=_digest(_file_state(item))),
            refresh_url=refresh_url,
            **result,
        )

    @app.get("/file/<document_id>")
    def file(document_id: str) -> str:
        return file_page(document_id, reprocessed=request.args.get("reprocessed"))

    @app.post("/file/<document_id>/reprocess")
    def reprocess(document_id: str) -> BaseResponse:
        _check_post(token)
        item = store.get_status(document_id)
        if item is None:
            raise UnknownFileError(f"no status for {document_id}")
        notification = synthetic_notification(item, ctx.clients.region)
        _, _, submit = _submitter(ctx)
        _submit(submit, notification, f"submit {document_id} for reprocessing")
        # Post/Redirect/Get: reloading the page that shows the result submits nothing.
        return redirect(
            url_for("file", document_id=document_id, reprocessed=reprocess_id_of(notification)),
            code=303,
        )

    @app.post("/file/<document_id>/verify")
    def verify(document_id: str) -> str:
        _check_post(token)
        report: Report = verify_all(store, [document_id])
        return file_page(document_id, verified=report)

    @app.get("/events")
    def events() -> Response:
        document_id = request.args.get("doc")
        read = _reader(store, document_id, None if document_id else window()[1])
        every = settings.poll_seconds if document_id else settings.overview_poll_seconds
        stream = _changes(read, request.args.get("seen"), every, stopping)
        return Response(stream, mimetype="text/event-stream", headers={"X-Accel-Buffering": "no"})

    return app


def _check_post(token: str) -> None:
    """Refuse a cross-site POST: a forged form carries no token, and a browser names
    the page's origin and whether it is this site."""
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent.encode(), token.encode()):
        abort(403, "missing or wrong form token; reload the page and try again")
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        abort(403, "cross-origin request refused")
    # Only a page of this dashboard can POST: "none" is a navigation the user typed.
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        abort(403, "cross-site request refused")


def _listing(
    store: AuditStore,
    statuses: tuple[Status, ...],
    since: str | None,
    prefix: str,
    cursor: str | None,
) -> tuple[list[StatusItem], str | None]:
    """One page of the listing; with a key prefix, index pages until one is full (bounded)."""
    items: list[StatusItem] = []
    for _ in range(PREFIX_PAGES):
        listing = list_files(store, statuses, since=since, limit=PAGE_SIZE, cursor=cursor)
        items.extend(i for i in listing.items if i.key.startswith(prefix))
        cursor = listing.cursor
        if cursor is None or len(items) >= PAGE_SIZE or not prefix:
            break
    return items, cursor


def _guard(app: Flask, settings: Settings) -> None:
    """Host check, security headers and error pages for every request."""

    @app.before_request
    def known_host() -> None:
        host = urlparse(f"//{request.host}").hostname or ""
        if host not in settings.hosts and f"[{host}]" not in settings.hosts:
            abort(400, "unexpected Host header")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.errorhandler(FiletrailError)
    def failed(error: FiletrailError) -> tuple[str, int]:
        code = 404 if isinstance(error, UnknownFileError) else 400
        if not isinstance(error, UsageError | UnknownFileError):
            code = 502
        return render_template("error.html", message=str(error), code=code), code

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template("error.html", message=error.description, code=code), code


def _file_state(item: StatusItem | None) -> Hashable:
    """What a file's page shows, reduced to a value that changes when the page would."""
    return None if item is None else (item.version, str(item.status))


def _overview_state(summary: Summary) -> Hashable:
    counts = tuple(sorted(summary.counts.items()))
    return (counts, tuple((i.document_id, i.version) for i in summary.stuck))


def _digest(state: Hashable) -> str:
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def _reader(store: AuditStore, document_id: str | None, since: str | None) -> Callable[[], str]:
    """The digest of what a file's page (or the overview of a window) shows now."""

    def of_file() -> str:
        return _digest(_file_state(store.get_status(str(document_id))))

    def of_overview() -> str:
        return _digest(_overview_state(summarize(store, str(since), datetime.now(UTC))))

    return of_file if document_id else of_overview


def _changes(
    read: Callable[[], str],
    seen: str | None,
    poll_seconds: float,
    stopping: threading.Event,
) -> Iterator[str]:
    """Server-Sent Events: `change` when what the page shows changed. `seen` is the state
    the page was rendered from: a change between rendering and connecting is announced
    too. A comment on every quiet poll lets a closed tab fail the write and free its thread."""
    last = seen or read()
    yield "retry: 3000\n\n"
    while not stopping.wait(poll_seconds):
        now = read()
        if now != last:
            last = now
            yield "event: change\ndata: {}\n\n"
        else:
            yield ": quiet\n\n"


def _dead_letters(ctx: Context) -> int | str | None:
    """Messages in the dead-letter queue (approximate, as SQS counts), None when no queue
    is configured, or why it could not be read."""
    try:
        queue_url = ctx.stack.dlq_url()
    except StackNotFoundError:
        return None
    try:
        attributes = ctx.clients.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    except Exception as error:  # noqa: BLE001 - the overview shows the rest regardless
        return f"unavailable ({type(error).__name__})"
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def _trace(
    ctx: Context, events: list[AuditEvent], wanted: str | None
) -> tuple[AuditEvent | None, Timeline | None, str | None]:
    """The event whose trace to draw (?trace=SEQ), as `filetrail trace --event SEQ`."""
    if not wanted:
        return None, None, None
    chosen = next((e for e in events if str(e.seq) == wanted), None)
    if chosen is None:
        return None, None, f"no event {wanted}"
    if not chosen.trace_id:
        return chosen, None, f"event {chosen.seq} carries no trace id"
    try:
        return chosen, fetch_timeline(ctx.clients.client("xray"), chosen.trace_id), None
    except FiletrailError as error:
        return chosen, None, str(error)
    except Exception as error:  # noqa: BLE001 - the page shows the file regardless
        return chosen, None, f"could not read trace {chosen.trace_id}: {type(error).__name__}"


@dataclass(frozen=True)
class Row:
    label: str
    depth: int
    offset_ms: float
    duration_ms: float | None
    x: int
    width: int
    failed: bool


def _waterfall(timeline: Timeline) -> list[Row]:
    total = max((timeline.end - timeline.start) * 1000, 0.001)
    rows = []
    for span in timeline.spans:
        offset = timeline.offset_ms(span)
        duration = span.duration_ms
        x = round(WATERFALL_WIDTH * offset / total)
        width = max(1, round(WATERFALL_WIDTH * (duration or 0) / total))
        rows.append(
            Row(span.label, span.depth, offset, duration, x, width, span.error or span.fault)
        )
    return rows
