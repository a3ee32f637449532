"""The tracer on its own: trace headers, daemon addresses, span documents, thread isolation."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from handlers import tracing

TRACE_ID = "1-6748a2f1-5d2c9e0a7b3f4c1d8e9a0b1c"
PARENT_ID = "53995c3f42cd8ad8"
SAMPLED = f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1"
DAEMON_HEADER = b'{"format":"json","version":1}\n'


class Daemon:
    def __init__(self, listener: socket.socket) -> None:
        self._listener = listener

    def documents(self, wait_s: float = 0.3) -> list[dict[str, Any]]:
        """Every document received until none arrives for `wait_s`."""
        documents = []
        self._listener.settimeout(wait_s)
        while True:
            try:
                packet = self._listener.recv(65535)
            except TimeoutError:
                return documents
            assert packet.startswith(DAEMON_HEADER)
            documents.append(json.loads(packet[len(DAEMON_HEADER) :]))

    def by_name(self) -> dict[str, dict[str, Any]]:
        return {document["name"]: document for document in self.documents()}


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{listener.getsockname()[1]}")
    try:
        yield Daemon(listener)
    finally:
        listener.close()


@pytest.fixture
def sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)


def test_header_gives_root_parent_and_sampling() -> None:
    context = tracing.TraceContext.parse(
        f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1;Lineage=a:1"
    )

    assert (context.root, context.parent, context.sampled) == (TRACE_ID, PARENT_ID, True)
    assert context.recording


@pytest.mark.parametrize(
    "header",
    [f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=0", f"Root={TRACE_ID};Parent={PARENT_ID}", ""],
)
def test_only_a_sampled_header_with_a_parent_records(header: str) -> None:
    assert not tracing.TraceContext.parse(header).recording


def test_trace_id_comes_from_the_environment_at_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Sampled=0")
    first = tracing.current_trace_id()
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6748a2f2-000000000000000000000000;Sampled=0")

    assert first == TRACE_ID
    assert tracing.current_trace_id() == "1-6748a2f2-000000000000000000000000"


def test_no_trace_context_means_no_trace_id() -> None:
    assert tracing.current_trace_id() is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("169.254.79.129:2000", ("169.254.79.129", 2000)),
        ("tcp:127.0.0.1:2000 udp:127.0.0.2:2001", ("127.0.0.2", 2001)),
        ("udp:127.0.0.3:3000 tcp:127.0.0.1:2000", ("127.0.0.3", 3000)),
        ("not an address", ("127.0.0.1", 2000)),
    ],
)
def test_daemon_address_forms(
    monkeypatch: pytest.MonkeyPatch, address: str, expected: tuple[str, int]
) -> None:
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", address)

    daemon = tracing._emitter.daemon()

    assert (daemon.host, daemon.port) == expected


def test_daemon_address_defaults_to_localhost_2000(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)

    daemon = tracing._emitter.daemon()

    assert (daemon.host, daemon.port) == ("127.0.0.1", 2000)


def test_subsegment_document_follows_the_segment_document_format(
    daemon: Daemon, sampled: None
) -> None:
    before = time.time()
    with tracing.subsegment("load") as span:
        span.annotate(documentId="d-1", size=12, ratio=0.5, accepted=True)
        span.metadata("detail", {"bytes": 3})

    (document,) = daemon.documents()
    assert re.fullmatch(r"[0-9a-f]{16}", document["id"])
    assert document["trace_id"] == TRACE_ID
    assert document["parent_id"] == PARENT_ID
    assert document["type"] == "subsegment"
    assert document["name"] == "load"
    assert before <= document["start_time"] <= document["end_time"] <= time.time()
    assert document["annotations"] == {
        "documentId": "d-1",
        "size": 12,
        "ratio": 0.5,
        "accepted": True,
    }
    assert document["metadata"] == {"filetrail": {"detail": {"bytes": 3}}}
    assert "fault" not in document


def test_nested_subsegments_hang_off_the_enclosing_one(daemon: Daemon, sampled: None) -> None:
    with tracing.subsegment("process"), tracing.subsegment("load"):
        with tracing.subsegment("query"):
            pass
        with tracing.subsegment("decode"):
            pass

    documents = daemon.by_name()
    assert documents["process"]["parent_id"] == PARENT_ID
    assert documents["load"]["parent_id"] == documents["process"]["id"]
    assert documents["query"]["parent_id"] == documents["load"]["id"]
    assert documents["decode"]["parent_id"] == documents["load"]["id"]


def test_each_subsegment_is_sent_when_it_closes(daemon: Daemon, sampled: None) -> None:
    with tracing.subsegment("outer"):
        with tracing.subsegment("inner"):
            pass
        assert [d["name"] for d in daemon.documents()] == ["inner"]

    assert [d["name"] for d in daemon.documents()] == ["outer"]


def test_exception_marks_a_fault_with_its_cause_and_propagates(
    daemon: Daemon, sampled: None
) -> None:
    with pytest.raises(ValueError, match="bad header"), tracing.subsegment("inspect"):
        raise ValueError("bad header")

    (document,) = daemon.documents()
    assert document["fault"] is True
    (exception,) = document["cause"]["exceptions"]
    assert exception["type"] == "ValueError"
    assert exception["message"] == "bad header"
    assert re.fullmatch(r"[0-9a-f]{16}", exception["id"])


def test_outer_subsegment_refers_to_the_exception_an_inner_one_recorded(
    daemon: Daemon, sampled: None
) -> None:
    with pytest.raises(KeyError), tracing.subsegment("process"), tracing.subsegment("load"):
        raise KeyError("k")

    documents = daemon.by_name()
    assert documents["process"]["fault"] is True
    assert documents["process"]["cause"] == documents["load"]["cause"]["exceptions"][0]["id"]


@pytest.mark.parametrize(
    "annotations",
    [
        {"bad-key": "x"},
        {"with space": "x"},
        {"ok": None},
        {"ok": [1, 2]},
        {"ok": {"a": 1}},
        {"ok": float("nan")},
    ],
)
def test_annotations_xray_cannot_index_are_dropped(
    daemon: Daemon, sampled: None, annotations: dict[str, Any]
) -> None:
    with tracing.subsegment("validate") as span:
        span.annotate(**annotations)

    (document,) = daemon.documents()
    assert "annotations" not in document


def test_long_string_annotations_are_truncated(daemon: Daemon, sampled: None) -> None:
    with tracing.subsegment("validate") as span:
        span.annotate(key="k" * 2000)

    (document,) = daemon.documents()
    assert document["annotations"]["key"] == "k" * 1000


def test_unsampled_invocation_sends_nothing(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=0")

    with tracing.subsegment("process") as span:
        span.annotate(outcome="STORED")
        span.metadata("x", 1)

    assert daemon.documents() == []
    assert tracing.current_trace_id() == TRACE_ID


def test_without_trace_context_spans_do_nothing(daemon: Daemon) -> None:
    with tracing.subsegment("process") as span:
        span.annotate(outcome="STORED")

    assert daemon.documents() == []


def test_invocation_context_belongs_to_its_thread(daemon: Daemon) -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, str | None] = {}

    def run(name: str, root: str) -> None:
        with tracing.invocation(f"Root={root};Parent={PARENT_ID};Sampled=1"):
            barrier.wait()
            with tracing.subsegment(name):
                seen[name] = tracing.current_trace_id()
                barrier.wait()

    roots = {"a": "1-6748a2f1-aaaaaaaaaaaaaaaaaaaaaaaa", "b": "1-6748a2f1-bbbbbbbbbbbbbbbbbbbbbbbb"}
    threads = [threading.Thread(target=run, args=item) for item in roots.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == roots
    documents = daemon.by_name()
    assert {name: documents[name]["trace_id"] for name in roots} == roots
    assert {documents[name]["parent_id"] for name in roots} == {PARENT_ID}
    assert tracing.current_trace_id() is None


def test_invocation_overrides_the_environment_and_restores_it(
    sampled: None, daemon: Daemon
) -> None:
    other = "1-6748a2f1-cccccccccccccccccccccccc"
    with tracing.invocation(f"Root={other};Parent={PARENT_ID};Sampled=0"):
        assert tracing.current_trace_id() == other
        with tracing.subsegment("quiet"):
            pass
    assert tracing.current_trace_id() == TRACE_ID
    assert daemon.documents() == []


def test_segment_starts_a_trace_its_subsegments_hang_off(daemon: Daemon) -> None:
    with tracing.segment("handler", origin="AWS::Lambda::Function") as span:
        span.annotate(requestId="r-1")
        trace_id = tracing.current_trace_id()
        with tracing.subsegment("process"):
            pass

    documents = daemon.by_name()
    segment = documents["handler"]
    assert trace_id is not None
    assert re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", trace_id)
    assert segment["trace_id"] == trace_id
    assert "type" not in segment
    assert "parent_id" not in segment
    assert segment["origin"] == "AWS::Lambda::Function"
    assert segment["annotations"] == {"requestId": "r-1"}
    assert documents["process"]["parent_id"] == segment["id"]
    assert tracing.current_trace_id() is None


def test_emitter_never_raises_without_a_daemon(
    monkeypatch: pytest.MonkeyPatch, sampled: None
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"127.0.0.1:{port}")

    for _ in range(3):
        with tracing.subsegment("process"):
            pass


def test_emitter_drops_what_it_cannot_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "no-such-host.invalid:2000")

    tracing.emit({"name": "x", "id": "0" * 16})
    tracing.emit({"name": "too big", "padding": "x" * 70_000})


def _client(service: str) -> Any:
    session = boto3.session.Session()
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return tracing.instrument(session.client(service, region_name="eu-west-1", config=config))


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _answering(client: Any) -> list[str | None]:
    """Answer every request with an empty success; the trace header each one carried."""
    headers: list[str | None] = []

    def respond(request: Any, **_: Any) -> AWSResponse:
        header = request.headers.get("X-Amzn-Trace-Id")
        headers.append(header.decode() if isinstance(header, bytes) else header)
        return AWSResponse(request.url, 200, HeadersDict({"x-amzn-RequestId": "R"}), _Body(b"{}"))

    client.meta.events.register("before-send", respond)
    return headers


def test_aws_call_is_an_aws_subsegment_of_the_current_one(daemon: Daemon, sampled: None) -> None:
    dynamodb = _client("dynamodb")
    with Stubber(dynamodb) as stub, tracing.subsegment("load"):
        stub.add_response(
            "get_item",
            {"ResponseMetadata": {"RequestId": "REQ1", "HTTPStatusCode": 200}},
            {"TableName": "audit", "Key": {"pk": {"S": "a"}}},
        )
        dynamodb.get_item(TableName="audit", Key={"pk": {"S": "a"}})

    documents = daemon.by_name()
    call = documents["DynamoDB"]
    assert call["namespace"] == "aws"
    assert call["type"] == "subsegment"
    assert call["parent_id"] == documents["load"]["id"]
    assert call["aws"] == {
        "operation": "GetItem",
        "region": "eu-west-1",
        "table_name": "audit",
        "request_id": "REQ1",
    }
    assert call["http"] == {"response": {"status": 200}}
    assert not {"error", "throttle", "fault"} & set(call)


@pytest.mark.parametrize(
    ("status", "code", "flags"),
    [
        (400, "ConditionalCheckFailedException", {"error"}),
        (429, "TooManyRequestsException", {"error", "throttle"}),
        (400, "ProvisionedThroughputExceededException", {"error", "throttle"}),
        (500, "InternalServerError", {"fault"}),
        (503, "ServiceUnavailable", {"fault"}),
    ],
)
def test_aws_call_status_sets_the_error_flags(
    daemon: Daemon, sampled: None, status: int, code: str, flags: set[str]
) -> None:
    dynamodb = _client("dynamodb")
    with Stubber(dynamodb) as stub:
        stub.add_client_error("get_item", code, "no", http_status_code=status)
        with pytest.raises(dynamodb.exceptions.ClientError):
            dynamodb.get_item(TableName="audit", Key={"pk": {"S": "a"}})

    (call,) = daemon.documents()
    assert {f for f in ("error", "throttle", "fault") if call.get(f)} == flags
    assert call["http"] == {"response": {"status": status}}
    assert call["cause"]["exceptions"][0]["type"] == code


def test_aws_call_names_bucket_queue_and_transaction_tables(daemon: Daemon, sampled: None) -> None:
    s3, sqs, dynamodb = _client("s3"), _client("sqs"), _client("dynamodb")
    queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"
    with Stubber(s3) as s3_stub, Stubber(sqs) as sqs_stub, Stubber(dynamodb) as ddb_stub:
        s3_stub.add_response("head_object", {})
        sqs_stub.add_response("send_message", {"MessageId": "m", "MD5OfMessageBody": "x"})
        ddb_stub.add_response("transact_write_items", {})
        s3.head_object(Bucket="uploads", Key="a.pdf")
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "audit", "Item": {"pk": {"S": "a"}}}},
                {"ConditionCheck": {"TableName": "other", "Key": {}, "ConditionExpression": "x"}},
            ]
        )

    documents = daemon.by_name()
    assert documents["S3"]["aws"]["bucket_name"] == "uploads"
    assert documents["SQS"]["aws"]["queue_url"] == queue_url
    assert documents["DynamoDB"]["aws"]["table_names"] == ["audit", "other"]


def test_aws_call_failing_without_a_response_is_a_fault(daemon: Daemon, sampled: None) -> None:
    dynamodb = _client("dynamodb")

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    dynamodb.meta.events.register("before-send", refuse)
    with pytest.raises(EndpointConnectionError):
        dynamodb.get_item(TableName="audit", Key={"pk": {"S": "a"}})

    (call,) = daemon.documents()
    assert call["fault"] is True
    assert call["cause"]["exceptions"][0]["type"] == "EndpointConnectionError"


def test_outgoing_requests_carry_the_trace_header(daemon: Daemon, sampled: None) -> None:
    dynamodb = _client("dynamodb")
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    (call,) = daemon.documents()
    assert headers == [f"Root={TRACE_ID};Parent={call['id']};Sampled=1"]
    assert call["aws"]["request_id"] == "R"


def test_outgoing_header_keeps_every_field_lambda_set(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's recursive-loop detection reads `Lineage` from the header of the requests a
    function makes; only `Parent` changes for a call made under a subsegment:
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html
    """
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID",
        f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1;Lineage=a87bd80c:0;Future=x",
    )
    dynamodb = _client("dynamodb")
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    (call,) = daemon.documents()
    assert headers == [f"Root={TRACE_ID};Parent={call['id']};Sampled=1;Lineage=a87bd80c:0;Future=x"]


def test_unsampled_outgoing_header_keeps_every_field(monkeypatch: pytest.MonkeyPatch) -> None:
    header = f"Root={TRACE_ID};Lineage=a87bd80c:1;Parent={PARENT_ID};Sampled=0"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    dynamodb = _client("dynamodb")
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    assert headers == [header]


def test_unsampled_requests_carry_the_decision_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=0")
    dynamodb = _client("dynamodb")
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    assert headers == [f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=0"]


def test_calls_outside_any_trace_are_untouched(daemon: Daemon) -> None:
    dynamodb = _client("dynamodb")
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    assert headers == [None]
    assert daemon.documents() == []


def test_instrumenting_twice_traces_each_call_once(daemon: Daemon, sampled: None) -> None:
    dynamodb = tracing.instrument(_client("dynamodb"))
    headers = _answering(dynamodb)

    dynamodb.describe_limits()

    assert len(daemon.documents()) == 1
    assert len(headers) == 1


def test_emitter_drops_a_document_when_the_socket_buffer_is_full(
    monkeypatch: pytest.MonkeyPatch, sampled: None
) -> None:
    class FullSocket:
        def sendto(self, data: bytes, address: tuple[str, int]) -> int:
            raise BlockingIOError("would block")

    monkeypatch.setattr(tracing._emitter, "_ensure_socket", FullSocket)

    with tracing.subsegment("process") as span:
        span.annotate(outcome="STORED")


def test_oversized_exception_is_truncated_not_dropped(daemon: Daemon, sampled: None) -> None:
    """A UDP datagram carries at most 65,507 bytes and X-Ray takes documents of up to
    64 kB; a longer one never reaches the daemon:
    https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html
    """
    with pytest.raises(ValueError, match="bad header"), tracing.subsegment("inspect"):
        raise ValueError("bad header " + "x" * 100_000)

    (document,) = daemon.documents()
    (exception,) = document["cause"]["exceptions"]
    assert exception["type"] == "ValueError"
    assert exception["message"].startswith("bad header xxx")
    assert len(exception["message"]) < 64_000
    assert document["fault"] is True
    assert document["annotations"]["truncated"] is True


def test_truncated_document_fits_the_daemon_limit(daemon: Daemon, sampled: None) -> None:
    with pytest.raises(ValueError, match=r'^\u2028"'), tracing.subsegment("inspect"):
        raise ValueError('\u2028"' * 40_000)

    (document,) = daemon.documents()
    size = len(DAEMON_HEADER) + len(json.dumps(document, separators=(",", ":")))
    assert size <= tracing.MAX_DATAGRAM_BYTES


def test_oversized_metadata_is_given_up_before_the_subsegment(
    daemon: Daemon, sampled: None
) -> None:
    with tracing.subsegment("load") as span:
        span.annotate(documentId="d-1")
        span.metadata("rows", list(range(30_000)))

    (document,) = daemon.documents()
    assert (document["name"], document["trace_id"]) == ("load", TRACE_ID)
    assert document["parent_id"] == PARENT_ID
    assert document["annotations"] == {"documentId": "d-1", "truncated": True}
    assert "metadata" not in document


def test_document_within_the_limit_is_sent_as_it_is(daemon: Daemon, sampled: None) -> None:
    with pytest.raises(ValueError, match=r"^x+$"), tracing.subsegment("inspect"):
        raise ValueError("x" * 50_000)

    (document,) = daemon.documents()
    assert document["cause"]["exceptions"][0]["message"] == "x" * 50_000
    assert "annotations" not in document
