"""Terminal rendering with rich: tables for people, colour only on a terminal.

Object keys, reasons and messages come from whoever uploads a file. Every such string
reaches the terminal through `inert` inside a rich `Text` (never parsed as markup), so a
key cannot clear the screen, retitle the terminal, reverse what is shown, or restyle the
table. `--json` output stays exact.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from filetrail.inert import inert
from filetrail.trace import Timeline
from filetrail.verify import Report
from handlers.model import AuditEvent, StatusItem

DEFAULT_WIDTH = 120
BAR_WIDTH = 20
_STYLES = {
    "STORED": "green",
    "SUCCESS": "green",
    "VALIDATED": "cyan",
    "RECEIVED": "blue",
    "PROCESSING": "blue",
    "REJECTED": "red",
    "FAILED": "red",
    "DELETED": "magenta",
    "IGNORED": "yellow",
}


def text(value: object, style: str = "") -> Text:
    """A user-controlled value as a table cell or line: escaped, never markup."""
    return Text(inert(value), style=style)


def console(file: TextIO | None = None) -> Console:
    stream = file or sys.stdout
    tty = stream.isatty()
    width = None if tty or os.environ.get("COLUMNS") else DEFAULT_WIDTH
    return Console(
        file=stream,
        width=width,
        highlight=False,
        # Belt and braces: our own strings are Text too, so markup and :emoji: codes in a
        # key are never interpreted even if a call site forgets.
        markup=False,
        emoji=False,
        no_color=not tty or bool(os.environ.get("NO_COLOR")),
        force_terminal=tty,
        soft_wrap=False,
    )


def print_json(document: Any, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def styled(value: str | None) -> Text:
    shown = value or "-"
    return text(shown, _STYLES.get(shown, ""))


def short(value: str | None, length: int = 8) -> str:
    if not value:
        return ""
    return value if len(value) <= length else value[:length] + "…"


def upload_identity(upload: Mapping[str, Any]) -> str:
    """Which upload an event is about, in words: S3's version id and sequencer (or the ETag
    when the bucket has neither), and the reprocess run that re-submitted it."""
    parts = []
    if upload.get("versionId"):
        parts.append(f"version {short(str(upload['versionId']))}")
    if upload.get("sequencer"):
        parts.append(f"sequencer {short(str(upload['sequencer']), 12)}")
    if not parts and upload.get("eTag"):
        parts.append(f"etag {short(str(upload['eTag']))}")
    if upload.get("reprocessId"):
        parts.append(f"reprocess {short(str(upload['reprocessId']))}")
    return ", ".join(parts)


def event_details(details: Mapping[str, Any]) -> str:
    parts = [str(details[name]) for name in ("reason", "fileType") if details.get(name) is not None]
    if details.get("size") is not None:
        parts.append(f"{details['size']} B")
    if details.get("message"):
        parts.append(str(details["message"]))
    return " · ".join(parts)


def history(out: Console, title: str, events: Iterable[AuditEvent]) -> None:
    table = Table(title=text(title), title_justify="left", expand=False)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("at", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("upload")
    table.add_column("details", overflow="fold")
    table.add_column("trace id", no_wrap=True)
    for event in events:
        table.add_row(
            text(event.seq),
            text(event.at),
            styled(str(event.type)),
            text(upload_identity(event.upload)),
            text(event_details(event.details)),
            text(event.trace_id or ""),
        )
    out.print(table)


def status(out: Console, item: StatusItem) -> None:
    table = Table(
        title=text(f"s3://{item.bucket}/{item.key}"), title_justify="left", show_header=False
    )
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in item.to_json().items():
        cell = styled(str(value)) if name in ("status", "stage") else text(value)
        table.add_row(text(name), cell if value is not None else text("-"))
    out.print(table)


def status_list(out: Console, items: Iterable[StatusItem], cursor: str | None) -> None:
    table = Table(expand=False)
    for name in ("uploaded at", "status", "stage", "reason", "type", "size", "file"):
        table.add_column(
            name, justify="right" if name == "size" else "left", no_wrap=name == "uploaded at"
        )
    count = 0
    for item in items:
        count += 1
        table.add_row(
            text(item.uploaded_at),
            styled(str(item.status)),
            text(item.stage),
            text(item.reason or ""),
            text(item.file_type or ""),
            text("" if item.file_size is None else item.file_size),
            text(f"s3://{item.bucket}/{item.key}"),
        )
    if count:
        out.print(table)
    else:
        out.print(text("no files"))
    if cursor:
        out.print(text(f"more: --cursor {cursor}"))


def verify_report(out: Console, report: Report) -> None:
    if report.ok:
        out.print(text(f"ok: {report.checked} stream(s) replay to their status item", "green"))
        return
    for drift in report.drift:
        out.print(text(f"DRIFT {drift.label or drift.document_id}: {drift.problem}", "red"))
        for name, values in drift.differences.items():
            out.print(
                text(f"  {name}: stored {values['stored']!r}, replayed {values['replayed']!r}")
            )
    out.print(text(f"{len(report.drift)} of {report.checked} stream(s) drifted"))


def timeline(out: Console, line: Timeline, url: str | None) -> None:
    total = max(line.end - line.start, 1e-9)
    table = Table(title=text(f"trace {line.trace_id}"), title_justify="left", expand=False)
    table.add_column("span", no_wrap=True)
    table.add_column("offset ms", justify="right")
    table.add_column("duration ms", justify="right")
    table.add_column("timeline", no_wrap=True)
    table.add_column("annotations", overflow="fold", min_width=24)
    for span in line.spans:
        begin = int((span.start - line.start) / total * BAR_WIDTH)
        end = (span.end or line.end) - line.start
        length = max(1, round(end / total * BAR_WIDTH) - begin)
        bar = " " * begin + "█" * min(length, BAR_WIDTH - begin)
        style = "red" if span.error or span.fault else ("dim" if span.namespace else "cyan")
        marks = " !" if span.error or span.fault else ""
        table.add_row(
            text("  " * span.depth + span.label + marks),
            text(f"{line.offset_ms(span):.1f}"),
            text("…" if span.duration_ms is None else f"{span.duration_ms:.1f}"),
            Text(bar.ljust(BAR_WIDTH), style=style),
            text(", ".join(f"{k}={v}" for k, v in span.annotations.items())),
        )
    out.print(table)
    if url:
        out.print(text(f"console: {url}"))
