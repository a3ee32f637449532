"""Process one upload: inspect, validate, tag, and record each step exactly once.

Two appends per upload on the success path: RECEIVED as soon as the notification is
seen, then the outcome (VALIDATED + STORED, or REJECTED). Each is idempotent on its
own, so a crash between them is repaired by the retry: RECEIVED is found, the outcome
is appended, and nothing is written twice.

With malware scanning on, STORED is a join of two verdicts that arrive in any order: the
validation and the scan result of the same object version. Whichever is recorded second
appends the verdict, decided on the stream as it stands when its write lands (both writes
are conditional on the status item's version, so neither can miss the other).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from handlers import schema
from handlers.errors import (
    ObjectArchivedError,
    ObjectEncryptedError,
    ObjectGoneError,
    ObjectSupersededError,
)
from handlers.events import SCAN_EVENT_NAME, Scan, Upload, scan_subject, scan_upload_key
from handlers.logs import log_outcome
from handlers.model import (
    AuditEvent,
    StatusItem,
    describes_version,
    is_stale,
    moves_status,
    new_event,
    same_version,
)
from handlers.objects import ObjectStore
from handlers.schema import EventType, Outcome, Reason, ScanResult
from handlers.store import PHASE_OUTCOME, PHASE_RECEIVED, PHASE_SCAN, AuditStore, StreamState
from handlers.tracing import subsegment
from handlers.validation import Policy, check_name, validate

# Not S3 event names: what reconciliation records when the status item does not describe
# what the key serves. A version made current again by a delete is validated afresh; a key
# that serves nothing any more is recorded deleted.
RESTORED_EVENT = "ObjectCreated:RestoredByDelete"
GONE_EVENT = "ObjectRemoved:NothingServed"

# What a scan result other than a clean one means for the file: it is never trusted.
SCAN_REASONS = {
    ScanResult.THREATS_FOUND: Reason.MALWARE,
    ScanResult.UNSUPPORTED: Reason.SCAN_UNSUPPORTED,
    ScanResult.ACCESS_DENIED: Reason.SCAN_FAILED,
    ScanResult.FAILED: Reason.SCAN_FAILED,
}
SCAN_MESSAGES = {
    Reason.MALWARE: "the malware scan found threats",
    Reason.SCAN_UNSUPPORTED: "the malware scanner cannot scan this object",
    Reason.SCAN_FAILED: "the malware scan failed; the file was never scanned clean",
}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Invocation:
    request_id: str | None
    trace_id: str | None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    document_id: str
    reason: Reason | None = None
    size: int | None = None
    file_type: str | None = None
    stale: bool = False
    # The status item may not describe what the key serves: compare with S3.
    reconcile: bool = False
    scan_result: str | None = None


EventSpecs = tuple[tuple[EventType, dict[str, Any]], ...]


@dataclass(frozen=True)
class Accepted:
    """A file validation accepted, whose verdict waits on its malware scan."""

    validated: dict[str, Any]
    etag: str | None
    tag_count: int | None
    subject: str


@dataclass(frozen=True)
class Planned:
    """The outcome events to append, and what to report once they are recorded."""

    event_types: EventSpecs
    outcome: Outcome
    reason: Reason | None = None
    size: int | None = None
    file_type: str | None = None
    # Set when the verdict is a join with the scan result, decided at append time.
    accepted: Accepted | None = None


class Processor:
    def __init__(
        self,
        store: AuditStore,
        objects: ObjectStore,
        policy: Policy,
        *,
        tag_objects: bool,
        logger: logging.Logger,
        clock: Callable[[], str] = utc_now,
        scan_required: bool = False,
    ) -> None:
        self._store = store
        self._objects = objects
        self._policy = policy
        self._tag = tag_objects
        self._scan_required = scan_required
        self._logger = logger
        self._clock = clock

    def process(self, upload: Upload, invocation: Invocation) -> Result:
        result = self._process_logged(upload, invocation)
        if upload.version_id is not None and (upload.is_removal or result.reconcile):
            reconciling = self._reconciliation(upload)
            if reconciling is not None:
                self._process_logged(reconciling, invocation, reconciled=True)
        return result

    def _reconciliation(self, trigger: Upload) -> Upload | None:
        """What to record so the status describes the version the key serves, if anything.

        S3 delivers out of order, so after a version went away (a delete, a delete marker,
        an expiry, or a version found missing) the status item may describe a version S3
        no longer serves, or none while S3 serves one. HEAD says what the key serves now,
        which is at least as new as every notification processed so far. The record made
        borrows the status item's own sequencer (and upload time), so it applies now and
        yields to any later notification. A retry finds the status reconciled, or the
        record made under the same identity: nothing is appended twice.
        """
        status = self._store.load(trigger.document_id, trigger.upload_key).status
        if status is None:
            return None
        with subsegment("current"):
            served = self._objects.current_version(trigger)
        settled = status.status not in (schema.Status.DELETED, schema.Status.PROCESSING)
        if served is None:
            if status.status == schema.Status.DELETED:
                return None
            event_name, version_id, etag, size = GONE_EVENT, status.version_id, None, None
            reprocess_id = f"gone-after-{trigger.upload_key}"
        else:
            if settled and status.version_id == served.version_id:
                return None
            event_name, version_id, etag, size = (
                RESTORED_EVENT,
                served.version_id,
                served.etag,
                served.size,
            )
            reprocess_id = f"restored-by-{trigger.upload_key}"
        record = Upload(
            bucket=trigger.bucket,
            key=trigger.key,
            event_name=event_name,
            event_time=status.uploaded_at,
            size=size,
            etag=etag,
            version_id=version_id,
            sequencer=status.sequencer,
            reprocess_id=reprocess_id,
        )
        if status.status == schema.Status.PROCESSING and record.upload_key != status.upload_key:
            # Another upload is in flight and will reach its own verdict (and reconcile if
            # it must); only our own reconciliation, cut short by a crash, is resumed.
            return None
        return record

    def _process_logged(
        self, upload: Upload, invocation: Invocation, *, reconciled: bool = False
    ) -> Result:
        return self._logged(
            upload,
            invocation,
            lambda: self._process(upload, invocation),
            {schema.LOG_RECONCILED: reconciled},
        )

    def process_scan(self, scan: Scan, invocation: Invocation) -> Result:
        """Record a malware scan result once; decide the file's verdict if validation is in."""
        return self._logged(scan, invocation, lambda: self._process_scan(scan, invocation), {})

    def _logged(
        self,
        subject: Upload | Scan,
        invocation: Invocation,
        run: Callable[[], Result],
        fields: dict[str, Any],
    ) -> Result:
        """Run one record's processing in its own span, then write its one outcome line."""
        started = time.perf_counter()
        scan = isinstance(subject, Scan)
        with subsegment("process") as span:
            span.annotate(documentId=subject.document_id)
            if isinstance(subject, Scan):
                span.annotate(scanResult=str(subject.result))
            result = run()
            span.annotate(outcome=str(result.outcome), reason=result.reason and str(result.reason))
        log_outcome(
            self._logger,
            result.outcome,
            **{
                schema.LOG_REASON: result.reason and str(result.reason),
                schema.LOG_DOCUMENT_ID: subject.document_id,
                schema.LOG_BUCKET: subject.bucket,
                schema.LOG_KEY: subject.key,
                schema.LOG_SIZE: None if scan else result.size,
                schema.LOG_FILE_TYPE: result.file_type,
                schema.LOG_DURATION_MS: round((time.perf_counter() - started) * 1000, 3),
                schema.LOG_TRACE_ID: invocation.trace_id,
                **(
                    {schema.LOG_SCAN_RESULT: result.scan_result}
                    if scan
                    else {schema.LOG_STALE: result.stale}
                ),
                **fields,
            },
        )
        return result

    def _process_scan(self, scan: Scan, invocation: Invocation) -> Result:
        phases = (PHASE_SCAN,)
        with subsegment("load"):
            state = self._store.load(scan.document_id, scan.upload_key, phases=phases)
        if PHASE_SCAN in state.phases_done:
            self._retag_after_scan(scan, state.status)
            return Result(Outcome.DUPLICATE, scan.document_id)
        at = self._clock()
        decided: list[tuple[Outcome, Reason | None, str | None, Upload | None]] = []
        details: dict[str, Any] = {
            "result": str(scan.result),
            "scanStatus": scan.scan_status,
            "scanner": scan.scanner,
            "threats": list(scan.threats) or None,
            "objectVersionId": scan.version_id,
            "objectETag": scan.etag,
        }

        def build(current: StreamState) -> list[AuditEvent]:
            scanned = AuditEvent(
                document_id=scan.document_id,
                seq=current.version + 1,
                type=EventType.SCANNED,
                at=at,
                bucket=scan.bucket,
                key=scan.key,
                upload_key=scan.upload_key,
                upload=scan.identity(),
                trace_id=invocation.trace_id,
                request_id=invocation.request_id,
                details={k: v for k, v in details.items() if v is not None},
            )
            status = current.status
            decided.clear()
            if not (self._scan_required and _awaits_this_scan(status, scanned)):
                decided.append((Outcome.SCANNED, None, status.file_type if status else None, None))
                return [scanned]
            assert status is not None  # noqa: S101 - _awaits_this_scan checked it
            validated = self._store.outcome_event(scan.document_id, status.upload_key)
            identity = dict(validated.upload) if validated else _identity_of(status)
            target = _scanned_version(
                scan, status, str(identity.get("eventName", "ObjectCreated:Put"))
            )
            verdict_type, verdict, outcome, reason = self._scan_verdict(
                target,
                scan.result,
                list(scan.threats),
                file_type=status.file_type,
                size=status.file_size,
                accepted=None,
                tag_now=False,
            )
            decided.append((outcome, reason, status.file_type, target))
            verdict_event = AuditEvent(
                document_id=scan.document_id,
                seq=current.version + 2,
                type=verdict_type,
                at=at,
                bucket=scan.bucket,
                key=scan.key,
                upload_key=status.upload_key,
                upload=identity,
                trace_id=invocation.trace_id,
                request_id=invocation.request_id,
                details=_plain_details(verdict),
            )
            return [scanned, verdict_event]

        marker = {
            "result": str(scan.result),
            "threats": list(scan.threats),
            "scanStatus": scan.scan_status,
            "scanner": scan.scanner,
            "subject": scan.subject,
        }
        with subsegment("record"):
            appended = self._store.append(
                scan.document_id,
                scan.upload_key,
                PHASE_SCAN,
                build,
                state,
                at=at,
                marker_fields=marker,
                phases=phases,
            )
        if not appended.appended:
            return Result(Outcome.DUPLICATE, scan.document_id)
        outcome, reason, file_type, target = decided[-1]
        if target is not None:
            # Only now: the verdict this tag expresses is recorded. Tagged before the write,
            # a write that lost its race (and decided again, differently) or a crash would
            # leave a version readable with no STORED recorded. A crash before this line is
            # repaired by the retry (`_retag_after_scan`).
            value = schema.TAG_STORED if outcome == Outcome.STORED else schema.TAG_REJECTED
            self._tag_outcome(target, value, target.etag, None)
        return Result(
            outcome, scan.document_id, reason, file_type=file_type, scan_result=str(scan.result)
        )

    def _retag_after_scan(self, scan: Scan, status: StatusItem | None) -> None:
        """A redelivered scan result whose verdict is recorded: tag the version as that
        verdict says (idempotent), in case the first delivery died between its write and
        its tag."""
        if not (self._scan_required and self._tag and status is not None):
            return
        if not describes_version(status, scan.version_id, scan.etag):
            return
        if status.scan_result != str(scan.result):
            return
        if status.status == schema.Status.SUCCESS:
            value = schema.TAG_STORED
        elif status.status == schema.Status.FAILED:
            value = schema.TAG_REJECTED
        else:
            return
        target = _scanned_version(scan, status, SCAN_EVENT_NAME)
        self._tag_outcome(target, value, target.etag, None)

    def _superseded(
        self, status: StatusItem, seq: int, at: str, invocation: Invocation
    ) -> AuditEvent:
        validated = self._store.outcome_event(status.document_id, status.upload_key)
        return AuditEvent(
            document_id=status.document_id,
            seq=seq,
            type=EventType.IGNORED,
            at=at,
            bucket=status.bucket,
            key=status.key,
            upload_key=status.upload_key,
            upload=dict(validated.upload) if validated else _identity_of(status),
            trace_id=invocation.trace_id,
            request_id=invocation.request_id,
            details={
                "reason": str(Reason.SUPERSEDED),
                "message": "a newer upload replaced this one before its malware scan came",
            },
        )

    def _scan_verdict(
        self,
        target: Upload,
        result: str,
        threats: list[str],
        *,
        file_type: str | None,
        size: int | None,
        accepted: Accepted | None,
        tag_now: bool = True,
    ) -> tuple[EventType, dict[str, Any], Outcome, Reason | None]:
        """The verdict on a validated file once its scan result is known; tags the object
        (`tag_now`), else reads which tags a later tagging will remove, for the record.

        Tagging here is safe to repeat only where every retry reaches the same verdict (the
        validation's join: the scan result it read stays recorded).
        """
        etag = accepted.etag if accepted else target.etag
        tag_count = accepted.tag_count if accepted else None

        def tag(value: str) -> list[dict[str, str]]:
            if tag_now:
                return self._tag_outcome(target, value, etag, tag_count)
            if not self._tag:
                return []
            return [{"key": k, "value": v} for k, v in self._objects.tags_to_drop(target)]

        if result == ScanResult.NO_THREATS_FOUND:
            dropped = tag(schema.TAG_STORED)
            stored: dict[str, Any] = {
                "fileType": file_type,
                "size": size,
                "tagged": self._tag,
                "scanResult": result,
            }
            if dropped:
                stored["droppedTags"] = dropped
            return EventType.STORED, stored, Outcome.STORED, None
        reason = SCAN_REASONS[ScanResult(result)]
        dropped = tag(schema.TAG_REJECTED)
        rejected: dict[str, Any] = {
            "reason": reason,
            "message": SCAN_MESSAGES[reason],
            "fileType": file_type,
            "size": size,
            "scanResult": result,
            "threats": threats or None,
        }
        if dropped:
            rejected["droppedTags"] = dropped
        return EventType.REJECTED, rejected, Outcome.REJECTED, reason

    def _process(self, upload: Upload, invocation: Invocation) -> Result:
        with subsegment("load"):
            state = self._store.load(upload.document_id, upload.upload_key)
        if PHASE_OUTCOME in state.phases_done:
            # The first delivery may have died before, or while, it reconciled a version
            # found gone.
            status = state.status
            unfinished = status is not None and (
                status.status == schema.Status.PROCESSING
                or (status.upload_key == upload.upload_key and status.reason == Reason.NOT_FOUND)
            )
            return Result(Outcome.DUPLICATE, upload.document_id, reconcile=unfinished)
        if upload.is_removal:
            # A versioned delete removes one version; the file may live on in another.
            details: dict[str, Any] = {"scope": "version"} if upload.is_version_delete else {}
            if upload.is_expiration:
                details["cause"] = "LIFECYCLE_EXPIRATION"
            if upload.event_name == GONE_EVENT:
                details["cause"] = "NOTHING_SERVED"
            plan = Planned(((EventType.DELETED, details),), Outcome.DELETED)
            return self._record(upload, invocation, plan, state)
        if self._scan_required and upload.key == schema.GUARDDUTY_VALIDATION_OBJECT:
            details = {
                "reason": Reason.SCANNER_VALIDATION_OBJECT,
                "message": "GuardDuty's own test object, written when its protection plan starts",
            }
            plan = Planned(
                ((EventType.IGNORED, details),), Outcome.IGNORED, Reason.SCANNER_VALIDATION_OBJECT
            )
            return self._record(upload, invocation, plan, state)
        if upload.is_folder_marker:
            details = {"reason": Reason.FOLDER_MARKER, "message": "folder marker, not a file"}
            plan = Planned(((EventType.IGNORED, details),), Outcome.IGNORED, Reason.FOLDER_MARKER)
            return self._record(upload, invocation, plan, state)
        if PHASE_RECEIVED not in state.phases_done:
            with subsegment("record"):
                received = self._append(
                    upload, invocation, PHASE_RECEIVED, ((EventType.RECEIVED, {}),), state
                )
            state = StreamState(received or state.status, state.phases_done | {PHASE_RECEIVED})
        plan = self._examine(upload)
        return self._record(upload, invocation, plan, state)

    def _examine(self, upload: Upload) -> Planned:
        unsafe = check_name(upload.key)
        if unsafe:
            # Not inspected (the name alone decides), but tagged, so the lifecycle rule
            # that expires rejected objects finds it.
            dropped = self._tag_outcome(upload, schema.TAG_REJECTED, None, None)
            return self._rejection(Reason.UNSAFE_NAME, unsafe, None, upload.size, dropped)
        with subsegment("inspect") as span:
            try:
                inspection = self._objects.inspect(upload)
            except ObjectGoneError as gone:
                span.annotate(outcome="NOT_FOUND")
                return self._rejection(Reason.NOT_FOUND, f"the object is gone: {gone}", None, None)
            except ObjectArchivedError as archived:
                return self._rejection(Reason.ARCHIVED, str(archived), None, upload.size)
            except ObjectEncryptedError as encrypted:
                dropped = self._tag_outcome(upload, schema.TAG_REJECTED, None, None)
                return self._rejection(
                    Reason.UNSUPPORTED_ENCRYPTION, str(encrypted), None, upload.size, dropped
                )
            except ObjectSupersededError:
                details = {
                    "reason": Reason.SUPERSEDED,
                    "message": "a newer upload replaced this one before it was inspected",
                }
                return Planned(((EventType.IGNORED, details),), Outcome.IGNORED, Reason.SUPERSEDED)
            span.annotate(size=inspection.total_size, bytesRead=len(inspection.header))
        with subsegment("validate") as span:
            verdict = validate(upload.key, inspection, self._policy)
            span.annotate(accepted=verdict.accepted, reason=verdict.reason and str(verdict.reason))
        validated = {
            "fileType": verdict.file_type,
            "size": verdict.size,
            "contentType": inspection.content_type,
            "bytesInspected": len(inspection.header),
            "objectETag": inspection.etag,
            "objectVersionId": inspection.version_id,
        }
        if verdict.accepted and self._scan_required:
            # Not tagged yet: whether it may be read depends on the scan, known when it lands.
            a = Accepted(
                validated=validated,
                etag=inspection.etag,
                tag_count=inspection.tag_count,
                subject=scan_subject(inspection.version_id or upload.version_id, inspection.etag),
            )
            return Planned(
                (), Outcome.STORED, size=verdict.size, file_type=verdict.file_type, accepted=a
            )
        value = schema.TAG_STORED if verdict.accepted else schema.TAG_REJECTED
        dropped = self._tag_outcome(upload, value, inspection.etag, inspection.tag_count)
        if not verdict.accepted:
            assert verdict.reason is not None  # noqa: S101 - a rejected verdict has a reason
            return self._rejection(
                verdict.reason, verdict.message, verdict.file_type, verdict.size, dropped
            )
        stored: dict[str, Any] = {
            "fileType": verdict.file_type,
            "size": verdict.size,
            "tagged": self._tag,
        }
        if dropped:
            stored["droppedTags"] = dropped
        return Planned(
            ((EventType.VALIDATED, validated), (EventType.STORED, stored)),
            Outcome.STORED,
            size=verdict.size,
            file_type=verdict.file_type,
        )

    def _tag_outcome(
        self, upload: Upload, value: str, etag: str | None, tag_count: int | None
    ) -> list[dict[str, str]]:
        """Tag the object with its outcome; the uploader's tags removed to make room."""
        if not self._tag:
            return []
        with subsegment("tag"):
            tagging = self._objects.tag(upload, value, etag, tag_count)
        return [{"key": key, "value": tag_value} for key, tag_value in tagging.dropped]

    @staticmethod
    def _rejection(
        reason: Reason,
        message: str,
        file_type: str | None,
        size: int | None,
        dropped_tags: list[dict[str, str]] | None = None,
    ) -> Planned:
        details: dict[str, Any] = {
            "reason": reason,
            "message": message,
            "fileType": file_type,
            "size": size,
        }
        if dropped_tags:
            details["droppedTags"] = dropped_tags
        return Planned(((EventType.REJECTED, details),), Outcome.REJECTED, reason, size, file_type)

    def _record(
        self, upload: Upload, invocation: Invocation, plan: Planned, state: StreamState
    ) -> Result:
        accepted = plan.accepted
        decided: list[tuple[Outcome, Reason | None]] = []
        events: EventSpecs | Callable[[StreamState], EventSpecs] = plan.event_types
        scan_key = None
        if accepted is not None:
            scan_key = scan_upload_key(accepted.subject)
            # The scan result is read with the stream: a reload after a lost race reads both.
            state = self._store.load(upload.document_id, upload.upload_key, scan_key=scan_key)

            def join(current: StreamState) -> EventSpecs:
                decided.clear()
                if current.scan is None and _replaced(upload, current.status):
                    decided.append((Outcome.IGNORED, Reason.SUPERSEDED))
                    ignored = {
                        "reason": Reason.SUPERSEDED,
                        "message": "a newer upload replaced this one before its malware scan came",
                    }
                    return ((EventType.VALIDATED, accepted.validated), (EventType.IGNORED, ignored))
                if current.scan is None:
                    decided.append((Outcome.AWAITING_SCAN, None))
                    validated = accepted.validated | {"awaiting": schema.AWAITING_SCAN}
                    return ((EventType.VALIDATED, validated),)
                verdict_type, verdict, outcome, reason = self._scan_verdict(
                    upload,
                    str(current.scan["result"]),
                    list(current.scan["threats"]),
                    file_type=plan.file_type,
                    size=plan.size,
                    accepted=accepted,
                )
                decided.append((outcome, reason))
                return ((EventType.VALIDATED, accepted.validated), (verdict_type, verdict))

            events = join
        with subsegment("record") as span:
            status = self._append(
                upload, invocation, PHASE_OUTCOME, events, state, scan_key=scan_key
            )
            # What the write recorded: with a join, decided at write time, not planned.
            outcome, reason = decided[-1] if decided else (plan.outcome, plan.reason)
            span.annotate(documentId=upload.document_id, outcome=str(outcome))
        if status is None:
            return Result(Outcome.DUPLICATE, upload.document_id)
        return Result(
            outcome,
            upload.document_id,
            reason,
            plan.size,
            plan.file_type,
            stale=status.upload_key != upload.upload_key,
            reconcile=plan.reason == Reason.NOT_FOUND,
        )

    def _append(
        self,
        upload: Upload,
        invocation: Invocation,
        phase: str,
        event_types: EventSpecs | Callable[[StreamState], EventSpecs],
        state: StreamState,
        *,
        scan_key: str | None = None,
    ) -> StatusItem | None:
        at = self._clock()

        def build(current: StreamState) -> list[AuditEvent]:
            specs = event_types(current) if callable(event_types) else event_types
            events = [
                new_event(
                    upload,
                    current.version + offset,
                    event_type,
                    at,
                    trace_id=invocation.trace_id,
                    request_id=invocation.request_id,
                    details=_plain_details(details),
                )
                for offset, (event_type, details) in enumerate(specs, start=1)
            ]
            status = current.status
            if events and status is not None and _supersedes(events[0], status):
                # The upload that waits for its scan will never be the file again: it ends
                # here, in the same write that replaces it, so no upload is left without
                # an outcome.
                ended = self._superseded(status, current.version + 1, at, invocation)
                events = [ended] + [replace(e, seq=e.seq + 1) for e in events]
            return events

        result = self._store.append(
            upload.document_id, upload.upload_key, phase, build, state, at=at, scan_key=scan_key
        )
        return result.status if result.appended else None


def _plain_details(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Reason) else v) for k, v in details.items() if v is not None
    }


def _replaced(upload: Upload, status: StatusItem | None) -> bool:
    """A newer upload is the file already: this one's scan could never make it current."""
    if status is None or status.stage == EventType.SCANNED:
        return False
    probe = new_event(upload, 0, EventType.VALIDATED, "", trace_id=None, request_id=None)
    return probe.upload_key != status.upload_key and is_stale(probe, status)


def _supersedes(event: AuditEvent, status: StatusItem) -> bool:
    """The event makes another upload current while the current one waits for its scan."""
    return (
        status.status == schema.Status.PROCESSING
        and status.awaiting == schema.AWAITING_SCAN
        and event.upload_key != status.upload_key
        and moves_status(status, event)
    )


def _scanned_version(scan: Scan, status: StatusItem, event_name: str) -> Upload:
    """The object version a scan result is about, as the tagging of its verdict names it."""
    return Upload(
        bucket=scan.bucket,
        key=scan.key,
        event_name=event_name,
        event_time=status.uploaded_at,
        etag=status.etag or scan.etag,
        version_id=status.version_id or scan.version_id,
    )


def _awaits_this_scan(status: StatusItem | None, scanned: AuditEvent) -> bool:
    """The file's validation is in, accepted, and waits for a scan of this very version."""
    return (
        status is not None
        and status.status == schema.Status.PROCESSING
        and status.awaiting == schema.AWAITING_SCAN
        and same_version(scanned, status)
    )


def _identity_of(status: StatusItem) -> dict[str, Any]:
    fields = {
        "eventName": "ObjectCreated:Put",
        "eventTime": status.uploaded_at,
        "eTag": status.etag,
        "versionId": status.version_id,
        "sequencer": status.sequencer,
    }
    return {k: v for k, v in fields.items() if v is not None}
