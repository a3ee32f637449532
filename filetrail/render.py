"""Terminal rendering with rich: tables for people, colour only on a terminal.

Object keys, reasons and messages come from whoever uploads a file. Every such string
reaches the terminal through `inert` inside a rich `Text` (never parsed as markup), so a
key cannot clear the screen, retitle the terminal, reverse what is shown, or restyle the
table. `--json` output stays exact.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from filetrail.deadletters import DeadLetter
from filetrail.inert import inert
from filetrail.trace import Timeline
from filetrail.verify import Report
from handlers.model import AuditEvent, StatusItem
from handlers.schema import Status

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
    "SCANNED": "cyan",
}
# What a PROCESSING file waits for, in words (the status item's `awaiting`).
_AWAITING = {"SCAN": "the malware scan's result", "VALIDATION": "its validation"}


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


def upload_identity(upload: Mapping[str, Any]) -> Text:
    """Which upload an event is about, in words, one per line: S3's version id and
    sequencer (or the ETag when the bucket has neither), and the reprocess run that
    re-submitted it."""
    parts = []
    if upload.get("versionId"):
        parts.append(f"version {short(str(upload['versionId']))}")
    if upload.get("sequencer"):
        parts.append(f"sequencer {short(str(upload['sequencer']), 12)}")
    if not parts and upload.get("eTag"):
        parts.append(f"etag {short(str(upload['eTag']))}")
    if upload.get("reprocessId"):
        parts.append(f"reprocess {short(str(upload['reprocessId']))}")
    return Text("\n").join(text(part) for part in parts)


def event_details(details: Mapping[str, Any]) -> str:
    """An event's details in a line. Threat names come from the scanner, which read them
    from an uploaded file: the caller inerts the line as it does keys."""
    parts = [str(details[name]) for name in ("reason", "fileType") if details.get(name) is not None]
    if details.get("size") is not None:
        parts.append(f"{details['size']} B")
    if details.get("result") is not None:
        parts.append(f"scan {details['result']}")
    threats = details.get("threats")
    if isinstance(threats, list | tuple) and threats:
        parts.append("threats: " + ", ".join(str(name) for name in threats))
    if details.get("scanner"):
        parts.append(f"by {details['scanner']}")
    if details.get("awaiting"):
        parts.append(f"awaiting {details['awaiting']}")
    if details.get("message"):
        parts.append(str(details["message"]))
    return " · ".join(parts)


def history(out: Console, title: str, events: Iterable[AuditEvent]) -> None:
    rows = [
        [
            text(event.seq),
            text(event.at),
            styled(str(event.type)),
            upload_identity(event.upload),
            text(event_details(event.details)),
            text(event.trace_id or ""),
        ]
        for event in events
    ]
    out.print(fitted_table(out.width, _HISTORY_COLUMNS, rows, title=text(title)))


def status(out: Console, item: StatusItem) -> None:
    table = Table(
        title=text(f"s3://{item.bucket}/{item.key}"), title_justify="left", show_header=False
    )
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in item.to_json().items():
        if value is None:
            cell = text("-")
        elif name in ("status", "stage"):
            cell = styled(str(value))
        elif name == "awaiting":
            cell = text(f"{value} ({_AWAITING.get(str(value), 'a verdict')})", "blue")
        elif name == "scanResult":
            cell = text(value, "red" if value != "NO_THREATS_FOUND" else "green")
        else:
            cell = text(value)
        table.add_row(text(name), cell)
    out.print(table)


def awaiting(item: StatusItem) -> str | None:
    """What a PROCESSING file waits for, if the stack scans for malware."""
    value = item.to_json().get("awaiting")
    return None if value is None else str(value)


def why(item: StatusItem) -> str:
    """The reason of a verdict, or what a file still waits for."""
    if item.reason:
        return item.reason
    waiting = awaiting(item)
    return f"awaiting {waiting}" if waiting else ""


def size(value: int | None) -> str:
    """Bytes as people read them: 512 B, 1.2 KiB, 3.4 MiB."""
    if value is None:
        return ""
    if value < 1024:
        return f"{value} B"
    amount = value / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def when(instant: str) -> str:
    """`2026-11-28T18:01:43.660Z` as `2026-11-28 18:01:43` (the header says UTC)."""
    return instant[:19].replace("T", " ")


def file_label(item: StatusItem, bucket: str | None) -> str:
    """The bare key when the file is in the stack's bucket (what FILE accepts back)."""
    return item.key if item.bucket == bucket else f"s3://{item.bucket}/{item.key}"


@dataclass(frozen=True)
class Column:
    """A table column: a narrow terminal drops the highest `priority` numbers first and
    never cuts a cell (SUCCESS stays SUCCESS); the folding column wraps, never dropped."""

    name: str
    priority: int
    right: bool = False
    folds: bool = False
    # The narrowest a folding column gets before other columns are dropped for it.
    fold_width: int = 24


_LIST_COLUMNS = (
    Column("status", 0),
    Column("file", 1, folds=True),
    Column("uploaded (UTC)", 2),
    Column("reason", 3),
    Column("size", 4, right=True),
    Column("type", 5),
    Column("stage", 6),
)
_HISTORY_COLUMNS = (
    Column("seq", 0, right=True),
    Column("at", 2),
    Column("type", 1),
    Column("upload", 4),
    Column("details", 3, folds=True, fold_width=16),
    Column("trace id", 5),
)
# rich's default box: one rule per column plus the closing one, one space of padding a side.
_COLUMN_CHROME = 3


def fitted_table(
    width: int, columns: Sequence[Column], rows: list[list[Text]], title: Text | None = None
) -> Table:
    """The columns that fit `width` by priority, each at its widest cell and never cut;
    the folding column wraps into what is left."""
    widths = [
        max(cell_len(column.name), *(_widest_line(row[i]) for row in rows))
        for i, column in enumerate(columns)
    ]
    shown = _columns_that_fit(columns, widths, width)
    table = Table(title=title, title_justify="left", expand=False)
    for i in shown:
        column = columns[i]
        table.add_column(
            column.name,
            justify="right" if column.right else "left",
            no_wrap=not column.folds,
            overflow="fold" if column.folds else "ellipsis",
            min_width=min(widths[i], column.fold_width) if column.folds else widths[i],
        )
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def _widest_line(cell: Text) -> int:
    return max(cell_len(line) for line in cell.plain.split("\n"))


def _columns_that_fit(columns: Sequence[Column], widths: list[int], total: int) -> list[int]:
    def need(i: int) -> int:
        column = columns[i]
        return _COLUMN_CHROME + (min(widths[i], column.fold_width) if column.folds else widths[i])

    shown = {i for i, column in enumerate(columns) if column.folds}
    used = 1 + sum(need(i) for i in shown)
    for i in sorted(set(range(len(columns))) - shown, key=lambda i: columns[i].priority):
        if used + need(i) > total:
            break  # every column after this one matters less
        used += need(i)
        shown.add(i)
    return sorted(shown)


def status_list(
    out: Console, items: Iterable[StatusItem], cursor: str | None, bucket: str | None = None
) -> None:
    rows = [
        [
            styled(str(item.status)),
            text(file_label(item, bucket)),
            text(when(item.uploaded_at)),
            text(why(item)),
            text(size(item.file_size)),
            text(item.file_type or ""),
            text(item.stage),
        ]
        for item in items
    ]
    if rows:
        out.print(fitted_table(out.width, _LIST_COLUMNS, rows))
    else:
        out.print(text("no files"))
    if cursor:
        out.print(text(f"more: --cursor {cursor}"))


def outcome_line(item: StatusItem, bucket: str | None) -> Text:
    """One file on one line, for `list --follow`: when, status, file, and why or how big."""
    status = str(item.status)
    extra = ", ".join(part for part in (why(item), size(item.file_size)) if part)
    return Text.assemble(
        text(when(item.updated_at)),
        "  ",
        styled(status),
        " " * (len(Status.PROCESSING) - len(status) + 2),
        text(file_label(item, bucket)),
        text(f"  ({extra})" if extra else ""),
    )


def print_csv(rows: Iterable[Mapping[str, Any]], stream: TextIO | None = None) -> None:
    """One CSV row per document, a header of every field seen; nested objects become
    `name.field` columns, so a spreadsheet gets every field the JSON output has."""
    flat = [_flatten(row) for row in rows]
    fields = list(dict.fromkeys(name for row in flat for name in row))
    writer = csv.DictWriter(stream or sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        elif isinstance(value, list | tuple):
            flat[prefix + name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[prefix + name] = "" if value is None else value
    return flat


def dead_letters(out: Console, queue_url: str, letters: Iterable[DeadLetter]) -> None:
    table = Table(title=text(queue_url), title_justify="left", expand=False)
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("reason", no_wrap=True)
    table.add_column("attempts", justify="right", no_wrap=True)
    table.add_column("file", overflow="fold")
    table.add_column("error", overflow="fold")
    count = 0
    for letter in letters:
        count += 1
        table.add_row(
            text(when(letter.at) if letter.at else "-"),
            text(letter.reason or letter.source),
            text(letter.attempts),
            text(", ".join(letter.files) or "-"),
            text(letter.error or ""),
        )
    if count:
        out.print(table)
    else:
        out.print(text(f"the dead-letter queue is empty ({queue_url})"))


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
