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
from handlers.errors import ObjectArchivedError, ObjectGoneError, ObjectSupersededError
from handlers.events import Upload
from handlers.logs import log_outcome
from handlers.model import AuditEvent, StatusItem, new_event
from handlers.objects import ObjectStore
from handlers.schema import EventType, Outcome, Reason
from handlers.store import PHASE_OUTCOME, PHASE_RECEIVED, AuditStore, StreamState
from handlers.tracing import subsegment
from handlers.validation import Policy, Verdict, check_name, validate

# Not an S3 event name: the synthetic upload of a version made current again by a delete.
RESTORED_EVENT = "ObjectCreated:RestoredByDelete"


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
        if upload.is_version_delete:
            restored = self._now_current(upload)
            if restored is not None:
                self._process_logged(restored, invocation)
        return result

    def _now_current(self, deletion: Upload) -> Upload | None:
        """After the current version is deleted, the version S3 now serves, as an upload.

        Deleting the current version (or the delete marker) makes an older version current
        again; it is validated afresh under an identity derived from the deletion, so a
        retry finds it recorded and the status never shows a file that S3 no longer serves.
        """
        status = self._store.load(deletion.document_id, deletion.upload_key).status
        if status is None or status.stage != EventType.DELETED:
            return None
        if status.version_id != deletion.version_id:
            return None
        with subsegment("current"):
            current = self._objects.current_version(deletion)
        if current is None:
            return None
        version_id, etag, size = current
        return Upload(
            bucket=deletion.bucket,
            key=deletion.key,
            event_name=RESTORED_EVENT,
            event_time=deletion.event_time,
            size=size,
            etag=etag,
            version_id=version_id,
            sequencer=deletion.sequencer,
            reprocess_id=f"restored-by-{deletion.upload_key}",
        )

    def _process_logged(self, upload: Upload, invocation: Invocation) -> Result:
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
            },
        )
        return result

    def _process(self, upload: Upload, invocation: Invocation) -> Result:
        with subsegment("load"):
            state = self._store.load(upload.document_id, upload.upload_key)
        if PHASE_OUTCOME in state.phases_done:
            return Result(Outcome.DUPLICATE, upload.document_id)
        if upload.is_removal:
            # A versioned delete removes one version; the file may live on in another.
            details = {"scope": "version"} if upload.is_version_delete else {}
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
            return self._rejection(Reason.UNSAFE_NAME, unsafe, None, upload.size)
        with subsegment("inspect") as span:
            try:
                inspection = self._objects.inspect(upload)
            except ObjectGoneError as gone:
                span.annotate(outcome="NOT_FOUND")
                return self._rejection(Reason.NOT_FOUND, f"the object is gone: {gone}", None, None)
            except ObjectArchivedError as archived:
                return self._rejection(Reason.ARCHIVED, str(archived), None, upload.size)
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
        if self._tag:
            with subsegment("tag"):
                value = schema.TAG_STORED if verdict.accepted else schema.TAG_REJECTED
                self._objects.tag(upload, value, inspection.etag, inspection.tag_count)
        if not verdict.accepted:
            return self._verdict_rejection(verdict)
        validated = {
            "fileType": verdict.file_type,
            "size": verdict.size,
            "contentType": inspection.content_type,
            "bytesInspected": len(inspection.header),
            "objectETag": inspection.etag,
            "objectVersionId": inspection.version_id,
        }
        stored = {"fileType": verdict.file_type, "size": verdict.size, "tagged": self._tag}
        return Planned(
            ((EventType.VALIDATED, validated), (EventType.STORED, stored)),
            Outcome.STORED,
            size=verdict.size,
            file_type=verdict.file_type,
        )

    def _verdict_rejection(self, verdict: Verdict) -> Planned:
        assert verdict.reason is not None  # noqa: S101 - a rejected verdict always has a reason
        return self._rejection(verdict.reason, verdict.message, verdict.file_type, verdict.size)

    @staticmethod
    def _rejection(
        reason: Reason, message: str, file_type: str | None, size: int | None
    ) -> Planned:
        details = {"reason": reason, "message": message, "fileType": file_type, "size": size}
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
