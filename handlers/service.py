"""Process one upload: inspect, validate, tag, and record each step exactly once.

Two appends per upload on the success path: RECEIVED as soon as the notification is
seen, then the outcome (VALIDATED + STORED, or REJECTED). Each is idempotent on its
own, so a crash between them is repaired by the retry: RECEIVED is found, the outcome
is appended, and nothing is written twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers import schema
from handlers.errors import (
    ObjectArchivedError,
    ObjectEncryptedError,
    ObjectGoneError,
    ObjectSupersededError,
)
from handlers.events import Upload
from handlers.logs import log_outcome
from handlers.model import AuditEvent, StatusItem, new_event
from handlers.objects import ObjectStore
from handlers.schema import EventType, Outcome, Reason
from handlers.store import PHASE_OUTCOME, PHASE_RECEIVED, AuditStore, StreamState
from handlers.tracing import subsegment
from handlers.validation import Policy, check_name, validate

# Not S3 event names: what reconciliation records when the status item does not describe
# what the key serves. A version made current again by a delete is validated afresh; a key
# that serves nothing any more is recorded deleted.
RESTORED_EVENT = "ObjectCreated:RestoredByDelete"
GONE_EVENT = "ObjectRemoved:NothingServed"


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


@dataclass(frozen=True)
class Planned:
    """The outcome events to append, and what to report once they are recorded."""

    event_types: tuple[tuple[EventType, dict[str, Any]], ...]
    outcome: Outcome
    reason: Reason | None = None
    size: int | None = None
    file_type: str | None = None


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
    ) -> None:
        self._store = store
        self._objects = objects
        self._policy = policy
        self._tag = tag_objects
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
        started = time.perf_counter()
        with subsegment("process") as span:
            span.annotate(documentId=upload.document_id)
            result = self._process(upload, invocation)
            span.annotate(outcome=str(result.outcome), reason=result.reason and str(result.reason))
        log_outcome(
            self._logger,
            result.outcome,
            **{
                schema.LOG_REASON: result.reason and str(result.reason),
                schema.LOG_DOCUMENT_ID: upload.document_id,
                schema.LOG_BUCKET: upload.bucket,
                schema.LOG_KEY: upload.key,
                schema.LOG_SIZE: result.size,
                schema.LOG_FILE_TYPE: result.file_type,
                schema.LOG_DURATION_MS: round((time.perf_counter() - started) * 1000, 3),
                schema.LOG_TRACE_ID: invocation.trace_id,
                schema.LOG_STALE: result.stale,
                schema.LOG_RECONCILED: reconciled,
            },
        )
        return result

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
        value = schema.TAG_STORED if verdict.accepted else schema.TAG_REJECTED
        dropped = self._tag_outcome(upload, value, inspection.etag, inspection.tag_count)
        if not verdict.accepted:
            assert verdict.reason is not None  # noqa: S101 - a rejected verdict has a reason
            return self._rejection(
                verdict.reason, verdict.message, verdict.file_type, verdict.size, dropped
            )
        validated = {
            "fileType": verdict.file_type,
            "size": verdict.size,
            "contentType": inspection.content_type,
            "bytesInspected": len(inspection.header),
            "objectETag": inspection.etag,
            "objectVersionId": inspection.version_id,
        }
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
        with subsegment("record") as span:
            status = self._append(upload, invocation, PHASE_OUTCOME, plan.event_types, state)
            span.annotate(documentId=upload.document_id, outcome=str(plan.outcome))
        if status is None:
            return Result(Outcome.DUPLICATE, upload.document_id)
        return Result(
            plan.outcome,
            upload.document_id,
            plan.reason,
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
        event_types: Sequence[tuple[EventType, dict[str, Any]]],
        state: StreamState,
    ) -> StatusItem | None:
        at = self._clock()

        def build(version: int) -> list[AuditEvent]:
            return [
                new_event(
                    upload,
                    version + offset,
                    event_type,
                    at,
                    trace_id=invocation.trace_id,
                    request_id=invocation.request_id,
                    details={
                        k: (str(v) if isinstance(v, Reason) else v) for k, v in details.items()
                    },
                )
                for offset, (event_type, details) in enumerate(event_types, start=1)
            ]

        result = self._store.append(
            upload.document_id, upload.upload_key, phase, build, state, at=at
        )
        return result.status if result.appended else None
