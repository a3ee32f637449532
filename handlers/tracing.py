"""X-Ray without the SDK: subsegments around each stage and AWS call, and the trace id.

Lambda decides sampling and owns the function's segment; it hands each invocation its
trace context in `_X_AMZN_TRACE_ID` (`Root=...;Parent=...;Sampled=1`). All a function
adds is subsegments, sent as independent documents to the daemon over UDP when they
close: https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html and
https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html.
That is all the AWS X-Ray SDK did for us here. It is not left out for its cold start
(inside Lambda, with `LAMBDA_TASK_ROOT` set, it adds 20-30 ms: bench/coldstart.py)
but because it entered maintenance on 2026-02-25 and reaches end of support on
2027-02-25, AWS recommending OpenTelemetry instead. The handler uses only `subsegment`
(a `Span`: `annotate`, `metadata`, `fault`), `instrument` and `current_trace_id`; that
small interface is the seam for a move to OpenTelemetry, which would reimplement it
and leave the handler untouched. Tracing never fails a request: without a sampled context
spans do nothing, a document over one datagram is truncated, and one that cannot be
sent is dropped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

TRACE_ENV = "_X_AMZN_TRACE_ID"
DAEMON_ENV = "AWS_XRAY_DAEMON_ADDRESS"
DEFAULT_DAEMON = ("127.0.0.1", 2000)
TRACE_HEADER = "X-Amzn-Trace-Id"
METADATA_NAMESPACE = "filetrail"
_DAEMON_HEADER = b'{"format":"json","version":1}\n'
# The characters X-Ray accepts in an annotation key; others make the key unsearchable.
_ANNOTATION_KEY_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
)
_MAX_ANNOTATION_STRING = 1000
# One document is one UDP datagram: IPv4 carries at most 65,507 bytes in one and X-Ray takes
# documents of up to 64 kB, so a larger one never arrives. Stay under both.
MAX_DATAGRAM_BYTES = 64_000
TRUNCATED_MARK = "...[truncated]"
_SHRINK_ROUNDS = 16
# What a document must keep to still place its span in the trace.
_SKELETON_FIELDS = (
    "name", "id", "trace_id", "start_time", "end_time", "type", "parent_id", "namespace",
    "origin", "error", "throttle", "fault",
)  # fmt: skip
_MAX_STACK_FRAMES = 20
_CONTEXT_KEY = "filetrail_tracing_span"

logger = logging.getLogger(__name__)
Client = TypeVar("Client")


def new_id() -> str:
    """A segment, subsegment or exception id: 64 random bits as 16 lowercase hex digits."""
    return secrets.token_hex(8)


def new_trace_id(now: float | None = None) -> str:
    """`1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>`."""
    epoch = int(time.time() if now is None else now)
    return f"1-{epoch:08x}-{secrets.token_hex(12)}"


# NamedTuples and plain classes rather than dataclasses: building a dataclass costs about
# a millisecond of cold start each.
class TraceContext(NamedTuple):
    """What a trace header says: the trace, the segment to hang off, the sampling decision.

    `fields` keeps the whole header in order: Lambda adds fields of its own (`Lineage`,
    which its recursive-loop detection reads back from the requests a function makes).
    """

    root: str | None = None
    parent: str | None = None
    sampled: bool = False
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, header: str) -> TraceContext:
        fields: list[tuple[str, str]] = []
        for part in header.split(";"):
            name, _, value = part.partition("=")
            if name.strip() and value.strip():
                fields.append((name.strip(), value.strip()))
        named = dict(fields)
        return cls(
            named.get("Root"), named.get("Parent"), named.get("Sampled") == "1", tuple(fields)
        )

    @property
    def recording(self) -> bool:
        """Spans are recorded only for a sampled trace with a segment to attach to."""
        return self.sampled and self.root is not None and self.parent is not None

    def header(self, parent: str | None = None) -> str | None:
        """The header for an outgoing request made under `parent` (a subsegment id):
        every field as received, in order, with only `Parent` replaced."""
        if self.root is None:
            return None
        fields = list(self.fields) or [
            ("Root", self.root),
            *([("Parent", self.parent)] if self.parent else []),
            ("Sampled", str(int(self.sampled))),
        ]
        names = [name for name, _ in fields]
        if parent is not None:
            if "Parent" in names:
                fields[names.index("Parent")] = ("Parent", parent)
            else:
                fields.insert(names.index("Root") + 1, ("Parent", parent))
        return ";".join(f"{name}={value}" for name, value in fields)


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.override: TraceContext | None = None
        self.stack: list[_Record] = []
        # Exceptions already recorded by an inner subsegment, by id(): outer ones refer
        # to the inner record instead of repeating it. Holds the exception so the id
        # cannot be reused while the entry lives; cleared when the stack empties.
        self.recorded: dict[int, tuple[BaseException, str]] = {}


_state = _ThreadState()


def current_context() -> TraceContext:
    """This thread's invocation context, else the one Lambda set for this invocation."""
    override = _state.override
    if override is not None:
        return override
    return TraceContext.parse(os.environ.get(TRACE_ENV, ""))


def current_trace_id() -> str | None:
    return current_context().root


@contextmanager
def invocation(header: str) -> Iterator[TraceContext]:
    """Run an invocation in this thread under `header` (Lambda uses the environment).

    For callers that play Lambda (the local dispatcher): each thread gets its own
    context, so concurrent invocations never share a trace.
    """
    saved, saved_stack = _state.override, _state.stack
    context = TraceContext.parse(header)
    _state.override, _state.stack = context, []
    try:
        yield context
    finally:
        _state.override, _state.stack = saved, saved_stack


class _Record:
    """One segment or subsegment being recorded."""

    __slots__ = (
        "annotations",
        "aws",
        "cause",
        "end_time",
        "flags",
        "http",
        "id",
        "kind",
        "metadata",
        "name",
        "namespace",
        "origin",
        "parent_id",
        "start_time",
        "trace_id",
    )

    def __init__(
        self,
        name: str,
        trace_id: str,
        parent_id: str | None,
        *,
        kind: str | None = "subsegment",
        origin: str | None = None,
    ) -> None:
        self.name = name
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.kind = kind
        self.origin = origin
        self.id = new_id()
        self.start_time = time.time()
        self.end_time: float | None = None
        self.namespace: str | None = None
        self.annotations: dict[str, str | int | float | bool] = {}
        self.metadata: dict[str, Any] = {}
        self.aws: dict[str, Any] = {}
        self.http: dict[str, Any] = {}
        self.flags: dict[str, bool] = {}
        self.cause: dict[str, Any] | str | None = None

    def fail(self, error: BaseException) -> None:
        self.flags["fault"] = True
        known = _state.recorded.get(id(error))
        if known is not None and known[0] is error:
            # Recorded by a subsegment inside this one: point at it (the spec's string cause).
            self.cause = known[1]
            return
        exception_id = new_id()
        _state.recorded[id(error)] = (error, exception_id)
        frames = traceback.extract_tb(error.__traceback__, limit=-_MAX_STACK_FRAMES)
        self.cause = {
            "working_directory": os.getcwd(),
            "exceptions": [
                {
                    "id": exception_id,
                    "type": type(error).__name__,
                    "message": str(error),
                    "stack": [
                        {"path": frame.filename, "line": frame.lineno, "label": frame.name}
                        for frame in reversed(frames)
                    ],
                }
            ],
        }

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "trace_id": self.trace_id,
            "start_time": self.start_time,
            "end_time": self.end_time if self.end_time is not None else time.time(),
        }
        if self.kind is not None:
            document["type"] = self.kind
        if self.parent_id is not None:
            document["parent_id"] = self.parent_id
        optional: dict[str, Any] = {
            "namespace": self.namespace,
            "origin": self.origin,
            "annotations": self.annotations,
            "metadata": {METADATA_NAMESPACE: self.metadata} if self.metadata else None,
            "aws": self.aws,
            "http": self.http,
            "cause": self.cause,
        }
        document.update({name: value for name, value in optional.items() if value})
        document.update(self.flags)
        return document


class Span:
    """A subsegment being recorded, or nothing when the invocation is not traced."""

    def __init__(self, record: _Record | None = None) -> None:
        self._record = record

    def annotate(self, **annotations: str | int | float | bool | None) -> None:
        """Indexed, searchable values; None is skipped, anything X-Ray cannot index dropped."""
        if self._record is None:
            return
        for name, value in annotations.items():
            accepted = _annotation_value(value)
            if accepted is None:
                if value is not None:
                    logger.debug("dropped annotation %s: unsupported value %r", name, value)
            elif not name or not set(name) <= _ANNOTATION_KEY_CHARACTERS:
                logger.debug("dropped annotation %r: X-Ray keys are letters, digits, _", name)
            else:
                self._record.annotations[name] = accepted

    def metadata(self, name: str, value: Any) -> None:
        """Unindexed detail, under the `filetrail` namespace."""
        if self._record is not None:
            self._record.metadata[name] = value

    def fault(self, error: BaseException) -> None:
        """Mark the span failed by `error` (for callers that handle the error themselves)."""
        if self._record is not None:
            self._record.fail(error)


def _annotation_value(value: object) -> str | int | float | bool | None:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value[:_MAX_ANNOTATION_STRING]
    return None


@contextmanager
def subsegment(name: str) -> Iterator[Span]:
    """Time the block as a subsegment of the current one (or of the invocation's segment).

    Emitted when the block ends; an exception escaping the block marks it as a fault.
    """
    context = current_context()
    if context.root is None or not context.recording:
        yield Span()
        return
    stack = _state.stack
    record = _Record(name, context.root, stack[-1].id if stack else context.parent)
    stack.append(record)
    try:
        yield Span(record)
    except Exception as error:
        record.fail(error)
        raise
    finally:
        stack.remove(record)
        _finish(record, last=not stack)


def _finish(record: _Record, *, last: bool) -> None:
    """Close and send a record; the invocation's last one forgets recorded exceptions."""
    if last:
        _state.recorded.clear()
    record.end_time = time.time()
    emit(record.document())


@contextmanager
def segment(name: str, *, origin: str | None = None) -> Iterator[Span]:
    """A new sampled trace and its segment, for code that plays Lambda's part locally.

    The block runs as one invocation (`invocation`) whose subsegments hang off this
    segment; the segment document is emitted when the block ends.
    """
    record = _Record(name, new_trace_id(), None, kind=None, origin=origin)
    with invocation(f"Root={record.trace_id};Parent={record.id};Sampled=1"):
        try:
            yield Span(record)
        except Exception as error:
            record.fail(error)
            raise
        finally:
            _finish(record, last=True)


def instrument(client: Client) -> Client:
    """Trace every call `client` makes as an `aws` subsegment; returns the client.

    botocore fires these events in the calling thread, and the span travels in the
    call's own request context, so concurrent calls never mix.
    """
    meta: Any = getattr(client, "meta")  # noqa: B009 - botocore clients are untyped here
    # The service id is what X-Ray's service map shows: "DynamoDB", "S3", "SQS".
    hooks = _CallHooks(str(meta.service_model.service_id), meta.region_name)
    # Unique ids make instrumenting the same client twice harmless.
    meta.events.register("before-parameter-build", hooks.start, unique_id="filetrail-trace-start")
    meta.events.register("request-created", hooks.propagate, unique_id="filetrail-trace-header")
    meta.events.register("after-call", hooks.finish, unique_id="filetrail-trace-finish")
    meta.events.register("after-call-error", hooks.failed, unique_id="filetrail-trace-failed")
    return client


class _CallHooks:
    __slots__ = ("region", "service")

    def __init__(self, service: str, region: str) -> None:
        self.service = service
        self.region = region

    def start(
        self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        trace = current_context()
        if trace.root is None:
            return
        if not trace.recording:
            context[_CONTEXT_KEY] = (trace, None)
            return
        stack = _state.stack
        record = _Record(self.service, trace.root, stack[-1].id if stack else trace.parent)
        record.namespace = "aws"
        record.aws = {"operation": model.name, "region": self.region, **_resources(params)}
        context[_CONTEXT_KEY] = (trace, record)

    @staticmethod
    def propagate(request: Any, **_: Any) -> None:
        trace, record = getattr(request, "context", {}).get(_CONTEXT_KEY, (None, None))
        if trace is None:
            return
        header = trace.header(record.id if record is not None else None)
        if header is not None:
            request.headers[TRACE_HEADER] = header

    @staticmethod
    def finish(
        http_response: Any, parsed: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        _, record = context.pop(_CONTEXT_KEY, (None, None))
        if record is None:
            return
        response = parsed.get("ResponseMetadata") or {}
        headers = response.get("HTTPHeaders") or {}
        _set_if(record.aws, "request_id", response.get("RequestId"))
        _set_if(record.aws, "id_2", headers.get("x-amz-id-2"))
        if response.get("RetryAttempts"):
            record.aws["retries"] = response["RetryAttempts"]
        status = int(getattr(http_response, "status_code", 0) or 0)
        if status:
            record.http = {"response": {"status": status}}
        error = parsed.get("Error") or {}
        _flag_status(record, status, str(error.get("Code") or ""))
        if status >= 400:
            record.cause = {
                "exceptions": [
                    {
                        "id": new_id(),
                        "type": str(error.get("Code") or "ClientError"),
                        "message": str(error.get("Message") or ""),
                        "remote": True,
                    }
                ]
            }
        _finish(record, last=False)

    @staticmethod
    def failed(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        _, record = context.pop(_CONTEXT_KEY, (None, None))
        if record is None:
            return
        record.fail(exception)
        _finish(record, last=not _state.stack)


_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)


def _flag_status(record: _Record, status: int, code: str) -> None:
    """X-Ray's flags: error for 4xx, throttle for 429 (and throttling codes), fault for 5xx."""
    if 400 <= status < 500:
        record.flags["error"] = True
        if status == 429 or code in _THROTTLING_CODES:
            record.flags["throttle"] = True
    elif status >= 500:
        record.flags["fault"] = True
        if code in _THROTTLING_CODES:
            record.flags["throttle"] = True


def _resources(params: Mapping[str, Any]) -> dict[str, Any]:
    """The resource names X-Ray shows for a call (never the payload)."""
    resources: dict[str, Any] = {}
    for param, name in (
        ("TableName", "table_name"),
        ("Bucket", "bucket_name"),
        ("QueueUrl", "queue_url"),
    ):
        _set_if(resources, name, params.get(param))
    tables: set[str] = set()
    request_items = params.get("RequestItems")
    if isinstance(request_items, Mapping):
        tables.update(str(table) for table in request_items)
    for item in params.get("TransactItems") or ():
        for action in item.values() if isinstance(item, Mapping) else ():
            if isinstance(action, Mapping) and action.get("TableName"):
                tables.add(str(action["TableName"]))
    if tables:
        resources["table_names"] = sorted(tables)
    return resources


def _set_if(target: dict[str, Any], name: str, value: Any) -> None:
    if value is not None and value != "":
        target[name] = value


class _Daemon(NamedTuple):
    host: str
    port: int

    @classmethod
    def parse(cls, address: str) -> _Daemon:
        """`host:port`, or `tcp:host:port udp:host:port` (only UDP carries segments)."""
        address = address.strip()
        for part in address.split():
            if part.startswith("udp:"):
                address = part[len("udp:") :]
                break
        host, _, port = address.rpartition(":")
        try:
            return cls(host or DEFAULT_DAEMON[0], int(port))
        except ValueError:
            logger.debug("ignoring %s=%r: not host:port", DAEMON_ENV, address)
            return cls(*DEFAULT_DAEMON)


class _Emitter:
    """One non-blocking UDP socket per process; a datagram per document, never an error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._pid = 0
        self._daemons: dict[str, _Daemon] = {}

    def daemon(self) -> _Daemon:
        # Read per document: the address is the environment's, which tests and the
        # local stack set after import.
        raw = os.environ.get(DAEMON_ENV, "")
        if not raw:
            return _Daemon(*DEFAULT_DAEMON)
        daemon = self._daemons.get(raw)
        if daemon is None:
            daemon = self._daemons[raw] = _Daemon.parse(raw)
        return daemon

    def send(self, document: Mapping[str, Any]) -> None:
        try:
            payload = _datagram(document)
            daemon = self.daemon()
            self._ensure_socket().sendto(payload, (daemon.host, daemon.port))
        except (OSError, ValueError, TypeError) as error:
            logger.debug("dropped X-Ray document %s: %s", document.get("name"), error)

    def _ensure_socket(self) -> socket.socket:
        with self._lock:
            if self._socket is None or self._pid != os.getpid():
                if self._socket is not None:
                    self._socket.close()  # the parent's, inherited through fork
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
                self._pid = os.getpid()
            return self._socket

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _encode(document: Mapping[str, Any]) -> bytes:
    # ASCII-only JSON, so characters and bytes count the same.
    return _DAEMON_HEADER + json.dumps(document, separators=(",", ":"), default=str).encode()


def _datagram(document: Mapping[str, Any]) -> bytes:
    """The document as one datagram; one too large is truncated, never dropped.

    First the longest strings are cut (an exception message, an annotation), then the
    metadata goes, and last everything but what places the span in the trace. A truncated
    document says so in its `truncated` annotation.
    """
    payload = _encode(document)
    if len(payload) <= MAX_DATAGRAM_BYTES:
        return payload
    plain: dict[str, Any] = json.loads(payload[len(_DAEMON_HEADER) :])
    plain["annotations"] = {**plain.get("annotations", {}), "truncated": True}
    payload = _shrink_strings(plain)
    if len(payload) <= MAX_DATAGRAM_BYTES:
        return payload
    plain.pop("metadata", None)
    payload = _shrink_strings(plain)
    if len(payload) <= MAX_DATAGRAM_BYTES:
        return payload
    skeleton = {name: plain[name] for name in _SKELETON_FIELDS if name in plain}
    skeleton["annotations"] = {"truncated": True}
    return _shrink_strings(skeleton)


def _shrink_strings(document: dict[str, Any]) -> bytes:
    """Cut the longest string in `document`, in place, until it fits or none is worth it."""
    payload = _encode(document)
    for _ in range(_SHRINK_ROUNDS):
        excess = len(payload) - MAX_DATAGRAM_BYTES
        if excess <= 0:
            break
        longest = _longest_string(document)
        if longest is None:
            break
        container, key, text = longest
        encoded = len(json.dumps(text))
        if encoded <= len(json.dumps(TRUNCATED_MARK)) * 2:
            break
        if text.endswith(TRUNCATED_MARK):
            text = text[: -len(TRUNCATED_MARK)]
        # Escapes make some characters longer than others: cut in proportion, then check.
        wanted = max(0, encoded - excess - len(TRUNCATED_MARK))
        keep = min(len(text) - 1, len(text) * wanted // encoded)
        container[key] = text[: max(0, keep)] + TRUNCATED_MARK
        payload = _encode(document)
    return payload


def _longest_string(document: dict[str, Any]) -> tuple[Any, Any, str] | None:
    """(container, key, string) for the longest string in `document`, outside the fields
    that place the span (ids and names are short; cutting them would orphan it)."""
    best: tuple[Any, Any, str] | None = None
    stack: list[tuple[Any, Any]] = [
        (document, key) for key in document if key not in _SKELETON_FIELDS
    ]
    while stack:
        container, key = stack.pop()
        value = container[key]
        if isinstance(value, str):
            if best is None or len(value) > len(best[2]):
                best = (container, key, value)
        elif isinstance(value, dict):
            stack.extend((value, child) for child in value)
        elif isinstance(value, list):
            stack.extend((value, index) for index in range(len(value)))
    return best


_emitter = _Emitter()


def emit(document: Mapping[str, Any]) -> None:
    """Send one segment document to the daemon; on any failure, drop it."""
    _emitter.send(document)


def close() -> None:
    """Release the emitter's socket (a new one is opened if anything is emitted after)."""
    _emitter.close()
