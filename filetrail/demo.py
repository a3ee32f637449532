"""`filetrail demo`: the whole pipeline on the local stack, in one command.

Uploads generated files that take every path through the handler, waits (with a deadline)
until each outcome is recorded, then shows the outcomes, one history and one trace.
Malware scanning is on, with local mode's scanner (no delay): the EICAR test file passes
validation and is rejected by the scan.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from filetrail import render
from filetrail.commands import TERMINAL_TYPES
from filetrail.errors import EXIT_OK, CliError
from filetrail.local.scanner import EICAR, EICAR_THREAT
from filetrail.local.stack import BUCKET, TABLE, LocalStack, MalwareScan
from filetrail.trace import fetch_timeline
from handlers import schema
from handlers.model import AuditEvent, StatusItem
from handlers.schema import EventType, Status
from handlers.store import AuditStore

MAX_FILE_BYTES = 256 * 1024
DEADLINE_SECONDS = 40.0
POLL_SECONDS = 0.1
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@dataclass(frozen=True)
class Sample:
    key: str
    body: bytes
    content_type: str
    shows: str


SAMPLES = (
    Sample("photos/sunset.png", PNG + b"\x00" * 200, "image/png", "a valid image"),
    Sample("docs/report.pdf", PDF, "application/pdf", "a PDF"),
    Sample("notes/hello.txt", b"hello from filetrail\n", "text/plain", "a text file"),
    Sample("scans/huge.png", PNG + b"\x00" * MAX_FILE_BYTES, "image/png", "an oversized file"),
    Sample("photos/invoice.jpg", EXE, "image/jpeg", "an executable named .jpg"),
    Sample("notes/empty.txt", b"", "text/plain", "an empty file"),
    Sample(
        "inbox/Q3 plan + résumé ✓.txt",
        b"spaces, plus and non-ASCII in the key\n",
        "text/plain",
        "a key with spaces, + and non-ASCII",
    ),
    Sample("photos/twice.png", PNG + b"\x01" * 64, "image/png", "one file uploaded twice"),
    Sample("tmp/delete-me.txt", b"short-lived\n", "text/plain", "one deleted"),
    Sample("inbox/eicar.txt", EICAR + b"\n", "text/plain", "the EICAR anti-virus test file"),
)
EICAR_KEY = "inbox/eicar.txt"
TWICE = "photos/twice.png"
DELETED = "tmp/delete-me.txt"
TRACED = "photos/sunset.png"
SECOND_UPLOAD = PNG + b"\x02" * 96


def run_demo(*, ui_port: int | None = None, open_browser: bool = False) -> int:
    """The demo; with `ui_port`, then the dashboard on its files until Ctrl-C, the local
    stack still running behind it."""
    out = render.console()
    started = time.monotonic()
    out.print(
        Text.assemble(
            ("filetrail demo", "bold"), ": the pipeline on an embedded AWS emulator (moto)"
        )
    )
    settings = {schema.ENV_MAX_FILE_BYTES: str(MAX_FILE_BYTES)}
    with LocalStack(
        handler_settings=settings,
        log_handler=logging.NullHandler(),
        malware_scan=MalwareScan(),
    ) as stack:
        s3 = stack.client("s3")
        store = AuditStore(stack.client("dynamodb"), TABLE)
        deadline = time.monotonic() + DEADLINE_SECONDS
        endpoint = stack.endpoints.endpoint_url if stack.endpoints else "?"
        out.print(render.text(f"local stack on {endpoint}, malware scanning on (local-eicar)"))
        consumer = _subscribe(stack)
        for sample in SAMPLES:
            s3.put_object(
                Bucket=BUCKET, Key=sample.key, Body=sample.body, ContentType=sample.content_type
            )
        _wait(out, "first uploads", [_outcomes(store, s.key, 1) for s in SAMPLES], deadline)
        s3.put_object(Bucket=BUCKET, Key=TWICE, Body=SECOND_UPLOAD, ContentType="image/png")
        s3.delete_object(Bucket=BUCKET, Key=DELETED)  # a delete marker, as `aws s3 rm` makes
        _wait(
            out,
            "second upload and delete",
            [_outcomes(store, TWICE, 2), _deleted(store, DELETED)],
            deadline,
        )
        _summary(out, store)
        _malware(out, store)
        _notifications(out, consumer, store, deadline)
        events = list(store.iter_events(schema.document_id(BUCKET, TWICE)))
        render.history(out, f"history of s3://{BUCKET}/{TWICE}", events)
        _trace(out, stack.client("xray"), store, deadline)
        out.print(render.text(f"done in {time.monotonic() - started:.1f}s"))
        if ui_port is not None:
            return _dashboard(stack, ui_port, open_browser)
    print_next_steps(out)
    return EXIT_OK


def _dashboard(stack: LocalStack, port: int, open_browser: bool) -> int:
    from filetrail.aws import Clients  # noqa: PLC0415 - only the dashboard needs these
    from filetrail.context import Context  # noqa: PLC0415
    from filetrail.stack import StackFlags, StackResolver  # noqa: PLC0415
    from filetrail.ui.serve import serve  # noqa: PLC0415 - flask loads slowly

    endpoints = stack.endpoints
    if endpoints is None or stack.session is None:
        raise CliError("the local stack is not running")
    flags = StackFlags(
        table=endpoints.table,
        bucket=endpoints.bucket,
        queue_url=endpoints.queue_url,
        index_shards=endpoints.status_index_shards,
        dlq_url=endpoints.dlq_url,
    )
    ctx = Context(
        stack=StackResolver(flags, {}),
        clients=Clients(session=stack.session, endpoint_url=endpoints.endpoint_url),
        json=False,
        stdout=sys.stdout,
    )
    return serve(ctx, port=port, open_browser=open_browser)


def print_next_steps(out: Console) -> None:
    hint = path_hint(shutil.which, Path(sys.executable).with_name("filetrail"), Path.cwd())
    for line in (NEXT_STEPS + (hint or "")).splitlines():
        out.print(render.text(line))


NEXT_STEPS = (
    "next: `filetrail local` keeps a stack running and prints the variables to export\n"
    "(`filetrail local --malware-scan` scans as this demo did); upload with the AWS CLI\n"
    "or boto3, then `filetrail list`, `filetrail history FILE`.\n"
    "`filetrail demo --ui` (or `make demo-ui`) ends in the dashboard on the demo's files.\n"
)


def path_hint(which: Callable[[str], str | None], script: Path, cwd: Path) -> str | None:
    """How to run `filetrail` by name when the shell would not find this one (make demo
    installs it into the project's venv, which is not on PATH until activated)."""
    found = which("filetrail")
    if found and Path(found).resolve() == script.resolve():
        return None
    try:
        bin_dir = script.parent.relative_to(cwd)
    except ValueError:
        bin_dir = script.parent
    return (
        f"`filetrail` is not on your PATH: run `source {bin_dir}/activate`\n"
        f'(or `export PATH="{script.parent}:$PATH"`), or call {bin_dir}/filetrail directly.'
    )


Check = Callable[[], bool]


def _outcomes(store: AuditStore, key: str, count: int) -> Check:
    document_id = schema.document_id(BUCKET, key)

    def check() -> bool:
        events = store.iter_events(document_id)
        return sum(1 for e in events if e.type in TERMINAL_TYPES) >= count

    return check


def _deleted(store: AuditStore, key: str) -> Check:
    document_id = schema.document_id(BUCKET, key)

    def check() -> bool:
        item = store.get_status(document_id)
        return item is not None and item.status == Status.DELETED

    return check


@dataclass(frozen=True)
class Consumer:
    sqs: Any
    queue_url: str


def _subscribe(stack: LocalStack) -> Consumer:
    """A consumer's own queue on the file-events topic, as an application would have."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName="filetrail-demo-consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = stack.endpoints.events_topic_arn if stack.endpoints else ""
    stack.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return Consumer(sqs, url)


def _notifications(out: Console, consumer: Consumer, store: AuditStore, deadline: float) -> None:
    """Every announced event of the demo's files, as the consumer's queue received it."""
    announced = {
        f"{e.document_id}/{e.seq}"
        for sample in SAMPLES
        for e in store.iter_events(schema.document_id(BUCKET, sample.key))
        if str(e.type) in schema.ANNOUNCED_EVENT_TYPES
    }
    received: dict[str, dict[str, Any]] = {}

    def all_received() -> bool:
        batch = consumer.sqs.receive_message(QueueUrl=consumer.queue_url, MaxNumberOfMessages=10)
        for message in batch.get("Messages", []):
            body = json.loads(message["Body"])
            received[body["id"]] = body
            consumer.sqs.delete_message(
                QueueUrl=consumer.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        return announced <= set(received)

    _wait(out, "file-event notifications", [all_received], deadline)
    table = Table(title="notifications published (file-events topic)", title_justify="left")
    for name in ("type", "file", "id"):
        table.add_column(name)
    for body in sorted(received.values(), key=lambda b: (b["subject"], b["data"]["seq"])):
        table.add_row(*(render.text(body[field]) for field in ("type", "subject", "id")))
    out.print(table)


def _wait(out: Console, what: str, checks: list[Check], deadline: float) -> None:
    pending = list(checks)
    with Progress(console=out, transient=False) as progress:
        task = progress.add_task(f"waiting for {what}", total=len(checks))
        while pending:
            pending = [check for check in pending if not check()]
            progress.update(task, completed=len(checks) - len(pending))
            if not pending:
                break
            if time.monotonic() > deadline:
                raise CliError(f"the demo timed out waiting for {what}")
            time.sleep(POLL_SECONDS)  # polling interval of a deadline-bounded wait


def _summary(out: Console, store: AuditStore) -> None:
    table = Table(title="outcomes", title_justify="left")
    for name in ("file", "shows", "status", "reason", "type", "size", "scan", "events"):
        table.add_column(name, justify="right" if name in ("size", "events") else "left")
    for sample in SAMPLES:
        item = store.get_status(schema.document_id(BUCKET, sample.key))
        if item is None:
            raise CliError(f"no status for {sample.key}")
        table.add_row(
            render.text(sample.key),
            render.text(sample.shows),
            render.styled(str(item.status)),
            render.text(item.reason or ""),
            render.text(item.file_type or ""),
            render.text(render.size(item.file_size)),
            render.text(_scan(item)),
            render.text(item.version),
        )
    out.print(table)


def _scan(item: StatusItem) -> str:
    """The scan result, short enough for the table: `clean` for NO_THREATS_FOUND."""
    result = item.to_json().get("scanResult")
    if result is None:
        return ""
    return "clean" if result == "NO_THREATS_FOUND" else str(result)


MALWARE_WALKTHROUGH = (
    "Malware scanning: local mode's scanner stands in for GuardDuty Malware Protection for "
    "S3. It reads every new object version, finds the EICAR anti-virus test file (and "
    "nothing else), tags the object GuardDutyMalwareScanStatus and sends the function the "
    "scan-result event GuardDuty would; some results arrive before the file's validation, "
    "some after. A file is STORED (and tagged "
    "readable) only once it is both validated and scanned clean; until then it stays "
    "PROCESSING and its status says what it awaits. "
    f"{EICAR_KEY} is a valid text file, so validation accepted it, but the scan found "
    f"{EICAR_THREAT}: it ends FAILED with reason MALWARE, whichever verdict came first, and "
    "is never tagged readable. Its history:"
)


def _malware(out: Console, store: AuditStore) -> None:
    out.print(render.text(MALWARE_WALKTHROUGH))
    events = list(store.iter_events(schema.document_id(BUCKET, EICAR_KEY)))
    render.history(out, f"history of s3://{BUCKET}/{EICAR_KEY}", events)


def _trace(out: Console, xray: Any, store: AuditStore, deadline: float) -> None:
    events = list(store.iter_events(schema.document_id(BUCKET, TRACED)))
    # The validation's own invocation: with scanning on, STORED may be the scan result's.
    validated = [e for e in events if e.type == EventType.VALIDATED and e.trace_id]
    if not validated:
        out.print(render.text("no traced event to show"))
        return
    event = validated[-1]
    line = _wait_for_trace(xray, event, deadline)
    out.print(render.text(f"trace of s3://{BUCKET}/{TRACED}, event {event.seq} {event.type}"))
    render.timeline(out, line, None)


def _wait_for_trace(xray: Any, event: AuditEvent, deadline: float) -> Any:
    """The relay forwards the segment just after the invocation returns."""
    while True:
        try:
            line = fetch_timeline(xray, str(event.trace_id))
            if any(span.name == "process" for span in line.spans):
                return line
        except CliError:
            pass
        if time.monotonic() > deadline:
            raise CliError(f"trace {event.trace_id} did not reach the emulator in time")
        time.sleep(POLL_SECONDS)  # polling interval of a deadline-bounded wait


__all__ = ["SAMPLES", "StatusItem", "run_demo"]
