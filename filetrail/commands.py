"""The operator commands. Each returns an exit code and prints either one JSON document
(`--json`) or tables for people."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from botocore.exceptions import ClientError

from filetrail import render
from filetrail.context import Context
from filetrail.deadletters import DeadLetter, held
from filetrail.errors import (
    EXIT_DRIFT,
    EXIT_OK,
    CliError,
    StackNotFoundError,
    UnknownFileError,
    UsageError,
)
from filetrail.files import FileRef, parse_file
from filetrail.follow import Follower, follow, human_line, json_line
from filetrail.listing import list_files, parse_since
from filetrail.reprocess import (
    Submission,
    reprocess_id_of,
    submit_to_lambda,
    submit_to_queue,
    synthetic_notification,
)
from filetrail.trace import console_url, fetch_timeline
from filetrail.verify import every_document, verify_all
from handlers.aws_errors import error_code, translate
from handlers.errors import FiletrailError
from handlers.model import AuditEvent, StatusItem
from handlers.schema import EventType, Status

TERMINAL_TYPES = frozenset({EventType.STORED, EventType.REJECTED, EventType.IGNORED})


def _file(ctx: Context, text: str) -> FileRef:
    return parse_file(text, ctx.stack.bucket)


def _events(ctx: Context, ref: FileRef) -> list[AuditEvent]:
    events = list(ctx.store.iter_events(ref.document_id))
    if not events:
        raise UnknownFileError(
            f"no audit trail for {ref.label} ({ref.document_id}) in table {ctx.store.table_name}"
        )
    return events


def _status(ctx: Context, ref: FileRef) -> StatusItem:
    item = ctx.store.get_status(ref.document_id)
    if item is None:
        raise UnknownFileError(
            f"no status for {ref.label} ({ref.document_id}) in table {ctx.store.table_name}"
        )
    return item


def history(ctx: Context, args: argparse.Namespace) -> int:
    ref = _file(ctx, args.file)
    events = _events(ctx, ref)
    if ctx.json:
        render.print_json(
            {"documentId": ref.document_id, "events": [e.to_json() for e in events]}, ctx.stdout
        )
    elif args.csv:
        render.print_csv((e.to_json() for e in events), ctx.stdout)
    else:
        first = events[0]
        render.history(ctx.out, f"s3://{first.bucket}/{first.key}  ({ref.document_id})", events)
    return EXIT_OK


def status(ctx: Context, args: argparse.Namespace) -> int:
    item = _status(ctx, _file(ctx, args.file))
    if ctx.json:
        render.print_json(item.to_json(), ctx.stdout)
    else:
        render.status(ctx.out, item)
    return EXIT_OK


def _stack_bucket(ctx: Context) -> str | None:
    """The stack's bucket if one is configured: listing shows its keys bare."""
    try:
        return ctx.stack.bucket()
    except StackNotFoundError:
        return None


def list_(ctx: Context, args: argparse.Namespace) -> int:
    statuses = (Status(args.status),) if args.status else tuple(Status)
    since = parse_since(args.since) if args.since else None
    before = parse_since(args.older_than, option="--older-than") if args.older_than else None
    if args.follow:
        if before is not None:
            raise UsageError("--follow shows new outcomes; it takes no --older-than")
        return _follow(ctx, args, statuses, since)
    listing = list_files(
        ctx.store, statuses, since=since, limit=args.limit, cursor=args.cursor, before=before
    )
    if ctx.json:
        render.print_json(
            {"items": [i.to_json() for i in listing.items], "cursor": listing.cursor},
            ctx.stdout,
        )
    elif args.csv:
        render.print_csv((i.to_json() for i in listing.items), ctx.stdout)
        if listing.cursor:
            # stdout stays one table for the spreadsheet; the next page is for the person.
            print(f"more: --cursor {listing.cursor}", file=sys.stderr)
    else:
        render.status_list(ctx.out, listing.items, listing.cursor, _stack_bucket(ctx))
    return EXIT_OK


def _follow(
    ctx: Context, args: argparse.Namespace, statuses: tuple[Status, ...], since: str | None
) -> int:
    if args.cursor or args.csv:
        raise UsageError("--follow takes neither --cursor nor --csv")
    follower = Follower(ctx.store, statuses, since, args.limit)
    emit = (
        json_line(ctx.stdout) if ctx.json else human_line(ctx.out, ctx.stdout, _stack_bucket(ctx))
    )
    with suppress(KeyboardInterrupt):  # Ctrl-C is how following ends, not a failure
        follow(follower, emit)
    return EXIT_OK


def trace(ctx: Context, args: argparse.Namespace) -> int:
    ref = _file(ctx, args.file)
    events = _events(ctx, ref)
    if args.event is not None:
        chosen = [e for e in events if e.seq == args.event]
        if not chosen:
            raise UnknownFileError(f"{ref.label} has no event {args.event} (1..{len(events)})")
        event = chosen[0]
        if not event.trace_id:
            raise CliError(f"event {event.seq} of {ref.label} carries no trace id")
    else:
        traced = [e for e in events if e.trace_id]
        if not traced:
            raise CliError(f"no event of {ref.label} carries a trace id")
        event = traced[-1]
    trace_id = str(event.trace_id)
    xray = ctx.clients.client("xray")
    try:
        line = fetch_timeline(xray, trace_id)
    except CliError:
        raise
    except Exception as error:
        raise translate(error, f"read trace {trace_id}") from error
    url = None
    if not ctx.clients.is_emulated("xray", ctx.environ) and ctx.clients.region:
        url = console_url(ctx.clients.region, trace_id)
    if ctx.json:
        document = {"documentId": ref.document_id, "seq": event.seq, **line.to_json()}
        document["consoleUrl"] = url
        render.print_json(document, ctx.stdout)
    else:
        ctx.out.print(render.text(f"{ref.label}  event {event.seq} {event.type}  {event.at}"))
        render.timeline(ctx.out, line, url)
    return EXIT_OK


def verify(ctx: Context, args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.all):
        raise UsageError("verify takes either FILE or --all")
    if args.all:
        report = verify_all(ctx.store, every_document(ctx.store))
    else:
        ref = _file(ctx, args.file)
        if ctx.store.get_status(ref.document_id) is None and not _has_events(ctx, ref):
            raise UnknownFileError(f"no audit trail for {ref.label} ({ref.document_id})")
        report = verify_all(ctx.store, [ref.document_id])
    if ctx.json:
        render.print_json(report.to_json(), ctx.stdout)
    else:
        render.verify_report(ctx.out, report)
    return EXIT_OK if report.ok else EXIT_DRIFT


def _has_events(ctx: Context, ref: FileRef) -> bool:
    return next(iter(ctx.store.iter_events(ref.document_id)), None) is not None


Submit = Callable[[dict[str, Any]], None]


def _submitter(ctx: Context) -> tuple[str, str, Submit]:
    """Where an event goes back into processing: local mode's queue when one is configured
    (its dispatcher plays Lambda's event source), else an asynchronous invoke."""
    queue_url = ctx.stack.queue_url()
    if queue_url:
        sqs = ctx.clients.client("sqs")
        return "queue", queue_url, lambda event: submit_to_queue(sqs, queue_url, event)
    function = ctx.stack.function()
    client = ctx.clients.client("lambda")
    return "lambda", function, lambda event: submit_to_lambda(client, function, event)


def _submit(submit: Submit, event: dict[str, Any], action: str) -> None:
    try:
        submit(event)
    except CliError:
        raise
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise CliError(f"function not found: {error}; check --function") from error
        raise translate(error, action) from error
    except Exception as error:
        raise translate(error, action) from error


def reprocess(ctx: Context, args: argparse.Namespace) -> int:
    ref = _file(ctx, args.file)
    item = _status(ctx, ref)
    notification = synthetic_notification(item, ctx.clients.region)
    via, target, submit = _submitter(ctx)
    _submit(submit, notification, f"submit {ref.label} for reprocessing")
    submission = Submission(ref.document_id, reprocess_id_of(notification), via, target)
    outcome = None
    if args.wait:
        outcome = _wait_for_reprocess(ctx, submission, args.timeout)
    if ctx.json:
        document = submission.to_json()
        if args.wait:
            document["outcome"] = outcome.to_json() if outcome else None
        render.print_json(document, ctx.stdout)
    else:
        ctx.out.print(
            render.text(
                f"submitted {item.bucket}/{item.key} for reprocessing via {submission.via} "
                f"({submission.target}); reprocessId {submission.reprocess_id}"
            )
        )
        if outcome is not None:
            render.history(ctx.out, "new events", _events_of(ctx, submission))
    return EXIT_OK


def dlq_list(ctx: Context, args: argparse.Namespace) -> int:
    queue_url = ctx.stack.dlq_url()
    with held(ctx.clients.client("sqs"), queue_url, args.limit) as batch:
        letters = list(batch.letters)
    if ctx.json:
        document = {"queueUrl": queue_url, "messages": [letter.to_json() for letter in letters]}
        render.print_json(document, ctx.stdout)
    else:
        render.dead_letters(ctx.out, queue_url, letters)
    return EXIT_OK


def dlq_redrive(ctx: Context, args: argparse.Namespace) -> int:
    queue_url = ctx.stack.dlq_url()
    via, target, submit = _submitter(ctx)
    sent: list[DeadLetter] = []
    kept: list[DeadLetter] = []
    with held(ctx.clients.client("sqs"), queue_url, args.limit) as batch:
        for letter in batch.letters:
            if letter.payload is None:
                kept.append(letter)
                continue
            try:
                _submit(submit, letter.payload, f"redrive message {letter.message_id}")
            except FiletrailError as error:
                # What was sent is deleted already; the rest stays in the queue.
                raise CliError(f"redrive stopped after {len(sent)} message(s): {error}") from error
            batch.delete(letter)
            sent.append(letter)
    if ctx.json:
        render.print_json(
            {
                "queueUrl": queue_url,
                "via": via,
                "target": target,
                "redriven": [letter.to_json() for letter in sent],
                "kept": [letter.to_json() for letter in kept],
            },
            ctx.stdout,
        )
    else:
        ctx.out.print(render.text(f"redrove {len(sent)} message(s) via {via} ({target})"))
        for letter in sent:
            ctx.out.print(render.text(f"  {', '.join(letter.files) or letter.message_id}"))
        if kept:
            ctx.out.print(
                render.text(
                    f"kept {len(kept)} message(s) that carry no event to send back: "
                    + ", ".join(letter.message_id for letter in kept)
                )
            )
    return EXIT_OK


def _events_of(ctx: Context, submission: Submission) -> list[AuditEvent]:
    return [
        e
        for e in ctx.store.iter_events(submission.document_id)
        if e.upload.get("reprocessId") == submission.reprocess_id
    ]


def _wait_for_reprocess(ctx: Context, submission: Submission, timeout: float) -> AuditEvent:
    started = time.monotonic()
    deadline = started + timeout
    with _progress(ctx, f"waiting for the outcome of reprocess {submission.reprocess_id}") as show:
        while True:
            for event in _events_of(ctx, submission):
                if event.type in TERMINAL_TYPES:
                    return event
            if time.monotonic() >= deadline:
                raise CliError(
                    f"reprocessing {submission.reprocess_id} recorded no outcome "
                    f"within {timeout:g}s"
                )
            show(time.monotonic() - started)
            time.sleep(0.2)  # polling interval of a deadline-bounded wait, not a fixed delay


@contextmanager
def _progress(ctx: Context, what: str) -> Iterator[Callable[[float], None]]:
    """A spinner with the seconds waited, on stderr when it is a terminal; else silence."""
    if not ctx.stderr.isatty():
        yield lambda elapsed: None
        return
    with render.console(ctx.stderr).status(render.text(what)) as status:
        yield lambda elapsed: status.update(render.text(f"{what} ({elapsed:.0f}s)"))
