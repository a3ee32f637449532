"""The audit-trail invariants, checked after every stress scenario.

A scenario keeps a `Ledger` of what it sent: every upload notification (by its
idempotency key) and every piece of garbage. `check` then reads back only the streams
the ledger names (by documentId: never a Scan), the sparse status index and the
dead-letter queue, and returns every violation it finds as a sentence:

1. every upload has exactly one terminal outcome: one STORED / REJECTED / DELETED /
   IGNORED event in its stream, or one dead-letter entry (never both, never neither);
2. no event is lost or duplicated: each upload's events appear at most once per type,
   RECEIVED precedes its outcome, and no stream holds an event for an upload nobody sent;
3. each stream's seq is contiguous from 1;
4. every status item equals the replay of its stream, and shows the newest recorded upload;
5. every dead-letter entry carries a reason, and each delivery of garbage is there once;
6. nothing was written for garbage: no status item exists outside the ledger's streams;
7. once deliveries stop, each file's status item describes the version S3 itself serves
   for its key (asked with HEAD, the independent oracle), or DELETED where it serves none
   (files with a dead-lettered upload excepted: the pipeline gave them up, visibly).
   Events the handler recorded to reconcile the two (a version made current again, a key
   found empty) derive from a sent upload and appear once.

With malware scanning, the ledger also holds every scan result sent: each is recorded at
most once (a SCANNED event under its own identity), a file whose scan was dead-lettered is
excepted from 7 like one whose upload was, and `check_quarantine` adds:

8. no object version S3 holds is tagged readable (STORED) unless its stream records both
   its validation and a clean scan of that very version.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.events import Scan, Upload, parse_s3_record, parse_scan_event
from handlers.model import AuditEvent, StatusItem, replay
from handlers.ordering import compare_uploads
from handlers.schema import EventType, Status
from handlers.store import AuditStore

# What the handler records, under a derived identity, to reconcile the status with S3.
RECONCILED_PREFIXES = ("restored-by-", "gone-after-")


class ServedVersion(Protocol):
    def __call__(self, bucket: str, key: str) -> tuple[bool, str | None]:
        """(serves anything, its version id) for a key, as S3 answers a HEAD."""
        ...


TERMINAL = frozenset({EventType.STORED, EventType.REJECTED, EventType.DELETED, EventType.IGNORED})
ON_FAILURE_CONDITION = "RetriesExhausted"


@dataclass
class Ledger:
    uploads: dict[str, Upload] = field(default_factory=dict)
    garbage: list[Any] = field(default_factory=list)
    scans: dict[str, Scan] = field(default_factory=dict)

    def scan(self, event: dict[str, Any]) -> Scan:
        scan = parse_scan_event(event)
        self.scans[scan.upload_key] = scan
        return scan

    def upload(self, record: dict[str, Any]) -> Upload:
        upload = parse_s3_record(record)
        self.uploads[upload.upload_key] = upload
        return upload

    def add_garbage(self, raw: Any) -> None:
        """One delivery of an unparseable record: each delivery is dead-lettered once."""
        self.garbage.append(raw)

    @property
    def document_ids(self) -> set[str]:
        return {upload.document_id for upload in self.uploads.values()}


@dataclass(frozen=True)
class DeadLetter:
    """One dead-letter message, whichever path put it there."""

    reason: str
    error: str
    records: tuple[Any, ...]
    raw_body: str

    @classmethod
    def parse(cls, body: str) -> DeadLetter:
        document = json.loads(body)
        if "requestContext" in document:  # Lambda's on-failure destination record
            payload = document.get("requestPayload") or {}
            response = document.get("responsePayload") or {}
            error = f"{response.get('errorType', '')}: {response.get('errorMessage', '')}"
            # An EventBridge event (a scan result) is the payload itself, not a Records list.
            records = (payload,) if "detail-type" in payload else payload.get("Records", [])
            return cls(
                str(document["requestContext"].get("condition", "")),
                error,
                tuple(records),
                body,
            )
        record = document.get("record")
        if isinstance(record, dict) and isinstance(record.get("Records"), list):
            records: tuple[Any, ...] = tuple(record["Records"])  # dispatcher: an SQS body
        elif "record" in document:
            records = (record,)
        else:
            records = (document.get("recordTruncated"),)
        reason, error = str(document.get("reason") or ""), str(document.get("error") or "")
        return cls(reason, error, records, body)

    def upload_keys(self) -> set[str]:
        keys = set()
        for record in self.records:
            try:
                if isinstance(record, dict) and "detail-type" in record:
                    keys.add(parse_scan_event(record).upload_key)
                else:
                    keys.add(parse_s3_record(record).upload_key)
            except Exception:  # noqa: BLE001, S112 - garbage has no upload key
                continue
        return keys


@dataclass
class Report:
    violations: list[str]
    streams: int
    events: int
    dead_letters: int
    outcomes: Counter[str]

    def __bool__(self) -> bool:
        return not self.violations


def _all_status_items(store: AuditStore) -> Iterator[StatusItem]:
    for status in Status:
        cursor = None
        while True:
            page = store.list_by_status(str(status), limit=100, cursor=cursor)
            yield from page.items
            if page.cursor is None:
                break
            cursor = page.cursor


def check(
    store: AuditStore,
    ledger: Ledger,
    dead_letter_bodies: Iterable[str],
    served: ServedVersion | None = None,
) -> Report:
    violations: list[str] = []
    letters = [DeadLetter.parse(body) for body in dead_letter_bodies]
    dead_by_upload: Counter[str] = Counter()
    for letter in letters:
        if not letter.reason:
            violations.append(f"dead letter without a reason: {letter.raw_body[:200]}")
        for upload_key in letter.upload_keys():
            dead_by_upload[upload_key] += 1
    deliveries = Counter(json.dumps(g, sort_keys=True, default=repr) for g in ledger.garbage)
    for text, delivered in deliveries.items():
        garbage = json.loads(text)
        found = sum(1 for letter in letters if garbage in letter.records)
        if found != delivered:
            violations.append(
                f"garbage delivered {delivered} times dead-lettered {found} times: {text:.200}"
            )
    unknown = set(dead_by_upload) - set(ledger.uploads) - set(ledger.scans)
    if unknown:
        violations.append(f"dead letters for {len(unknown)} uploads nobody sent")

    by_document: dict[str, list[Upload]] = {}
    for upload in ledger.uploads.values():
        by_document.setdefault(upload.document_id, []).append(upload)
    scans_by_document: dict[str, list[Scan]] = {}
    for scan in ledger.scans.values():
        scans_by_document.setdefault(scan.document_id, []).append(scan)
    terminal_by_upload: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    total_events = 0
    for document_id, uploads in sorted(by_document.items()):
        events = list(store.iter_events(document_id))
        total_events += len(events)
        scans = scans_by_document.get(document_id, [])
        violations.extend(_check_stream(store, document_id, uploads, events, scans))
        gave_up = any(dead_by_upload[u.upload_key] for u in uploads) or any(
            dead_by_upload[s.upload_key] for s in scans
        )
        if served is not None and not gave_up:
            violations.extend(_check_served(store, document_id, uploads[0], served))
        for event in events:
            if event.type in TERMINAL:
                terminal_by_upload[event.upload_key] += 1
                outcomes[str(event.type)] += 1
    for upload_key, upload in ledger.uploads.items():
        terminal = terminal_by_upload[upload_key]
        dead = dead_by_upload[upload_key]
        if terminal + dead != 1:
            violations.append(
                f"upload {upload.key!r} ({upload_key}) has {terminal} terminal events and "
                f"{dead} dead letters; expected exactly one outcome"
            )
    outcomes["DEAD_LETTERED"] = sum(1 for k in ledger.uploads if dead_by_upload[k])

    known = ledger.document_ids
    strays = [s.document_id for s in _all_status_items(store) if s.document_id not in known]
    if strays:
        violations.append(f"{len(strays)} status items for streams nobody created: {strays[:3]}")
    return Report(violations, len(by_document), total_events, len(letters), outcomes)


def _check_stream(
    store: AuditStore,
    document_id: str,
    uploads: list[Upload],
    events: list[AuditEvent],
    scans: Sequence[Scan] = (),
) -> list[str]:
    problems: list[str] = []
    seqs = [event.seq for event in events]
    if seqs != list(range(1, len(events) + 1)):
        problems.append(f"stream {document_id} seqs are not contiguous from 1: {seqs[:20]}")
    sent = {upload.upload_key: upload for upload in uploads}
    scanned = {scan.upload_key: scan for scan in scans}
    per_upload: dict[str, list[EventType]] = {}
    for event in events:
        if event.type == EventType.SCANNED:
            scan = scanned.get(event.upload_key)
            if scan is None:
                problems.append(f"stream {document_id} seq {event.seq} is a scan nobody sent")
            elif (event.bucket, event.key) != (scan.bucket, scan.key):
                problems.append(f"stream {document_id} seq {event.seq} names another object")
            per_upload.setdefault(event.upload_key, []).append(event.type)
            continue
        upload = sent.get(event.upload_key)
        if upload is None and _reconciles_a_sent_upload(event, sent):
            per_upload.setdefault(event.upload_key, []).append(event.type)
            continue
        if upload is None:
            problems.append(f"stream {document_id} seq {event.seq} is for an upload nobody sent")
            continue
        if (event.bucket, event.key) != (upload.bucket, upload.key):
            problems.append(f"stream {document_id} seq {event.seq} names another object")
        per_upload.setdefault(event.upload_key, []).append(event.type)
    for upload_key, types in per_upload.items():
        duplicated = [t for t, n in Counter(types).items() if n > 1]
        if duplicated:
            problems.append(f"upload {upload_key} in {document_id} duplicated {duplicated}")
        if EventType.RECEIVED in types and types[0] != EventType.RECEIVED:
            problems.append(f"upload {upload_key} in {document_id} has RECEIVED after {types[0]}")
    stored = store.get_status(document_id)
    try:
        rebuilt = replay(events)
    except ValueError as error:
        return [*problems, str(error)]
    if stored != rebuilt:
        problems.append(f"status of {document_id} differs from its replay: {stored} != {rebuilt}")
    if stored is not None and stored.upload_key in sent:
        newest = sent[stored.upload_key]
        for upload_key in per_upload:
            # A version delete moves the status only when it removes the version shown.
            if upload_key not in sent or sent[upload_key].is_version_delete:
                continue
            if _after(sent[upload_key], newest):
                newest = sent[upload_key]
        if newest.upload_key != stored.upload_key:
            problems.append(f"status of {document_id} shows an older upload than one recorded")
    return problems


def _reconciles_a_sent_upload(event: AuditEvent, sent: dict[str, Upload]) -> bool:
    reprocess_id = str(event.upload.get("reprocessId", ""))
    for prefix in RECONCILED_PREFIXES:
        if reprocess_id.startswith(prefix) and reprocess_id[len(prefix) :] in sent:
            return True
    return False


def _check_served(
    store: AuditStore, document_id: str, any_upload: Upload, served: ServedVersion
) -> list[str]:
    status = store.get_status(document_id)
    serves, version_id = served(any_upload.bucket, any_upload.key)
    where = f"{document_id} ({any_upload.key!r})"
    if status is None:
        return [f"{where} has no status item"] if serves else []
    if not serves:
        if status.status != Status.DELETED:
            return [f"{where} is {status.status} but S3 serves nothing for the key"]
        return []
    if status.status in (Status.DELETED, Status.PROCESSING):
        return [f"{where} is {status.status} but S3 serves version {version_id}"]
    if status.reason == "SUPERSEDED":
        # Superseded means a newer upload took the key: that one's verdict must show.
        return [f"{where} shows an upload superseded, yet S3 serves version {version_id}"]
    if status.version_id != version_id:
        return [f"{where} describes version {status.version_id}; S3 serves {version_id}"]
    return []


def _after(a: Upload, b: Upload) -> bool:
    """True when upload `a` of a key happened strictly after upload `b`."""
    return compare_uploads(a.sequencer, a.event_time, b.sequencer, b.event_time) > 0


def check_quarantine(s3: Any, bucket: str, store: AuditStore, keys: Iterable[str]) -> list[str]:
    """Invariant 8: a version tagged readable has its validation and a clean scan recorded.

    Judged by what S3 holds (every version's tags, read with a clean client), against the
    stream's own record of both verdicts for that version id.
    """
    from handlers.schema import TAG_KEY, TAG_STORED, ScanResult, document_id  # noqa: PLC0415

    problems: list[str] = []
    for key in sorted(set(keys)):
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        events = list(store.iter_events(document_id(bucket, key)))
        validated = {
            e.details.get("objectVersionId") for e in events if e.type == EventType.VALIDATED
        }
        clean = {
            e.upload.get("versionId")
            for e in events
            if e.type == EventType.SCANNED
            and e.details.get("result") == ScanResult.NO_THREATS_FOUND
        }
        for version in versions:
            if version["Key"] != key:
                continue
            version_id = version["VersionId"]
            tags = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)["TagSet"]
            if {"Key": TAG_KEY, "Value": TAG_STORED} not in tags:
                continue
            if version_id not in validated or version_id not in clean:
                problems.append(
                    f"{key!r} version {version_id} is readable without "
                    f"{'validation' if version_id not in validated else 'a clean scan'}"
                )
    return problems
