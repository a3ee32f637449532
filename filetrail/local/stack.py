"""The whole pipeline on one machine: moto as a real HTTP server on 127.0.0.1, the bucket,
the audit table (from the schema module the Pulumi program uses), a queue fed by the
bucket's notifications with its dead-letter queue, the dispatcher, and the X-Ray relay.

moto cannot run Lambda, so S3 notifies a queue and the dispatcher plays Lambda's SQS event
source. With malware scanning on, the local scanner stands in for GuardDuty: its results go
through a queue of their own to a second dispatcher that invokes the handler as EventBridge
does. One local stack per process: the handler's clients find the emulator through
AWS_ENDPOINT_URL, and the tracer its daemon (the relay) through AWS_XRAY_DAEMON_ADDRESS.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from filetrail.errors import CliError
from filetrail.local import notifications, snapshot
from filetrail.local.dispatcher import Dispatcher, FailureCapture
from filetrail.local.emulator import AtomicMotoServer
from filetrail.local.scanner import (
    DEFAULT_DELAY_SECONDS,
    SCANNER_NAME,
    LocalScanner,
    ObjectVersion,
    fixed_delay,
)
from filetrail.local.state import Identity, Manifest, StateDir
from filetrail.local.stream_relay import StreamRelay
from filetrail.local.xray_relay import XRayRelay
from handlers import schema
from handlers.app import build_runtime
from handlers.logs import LOGGER_NAME, JsonFormatter
from handlers.notification import stream_filter_pattern
from handlers.notifier import build_notifier
from handlers.settings import Settings

HOST = "127.0.0.1"
STACK = "filetrail-local"
REGION = "us-east-1"
BUCKET = "filetrail-local-uploads"
TABLE = "filetrail-local-audit"
QUEUE = "filetrail-local-notifications"
EVENTS_TOPIC = "filetrail-local-file-events"
DLQ = "filetrail-local-dlq"
# Stands in for the EventBridge rule's target: scan results wait here for their invocation.
SCAN_QUEUE = "filetrail-local-scan-results"
MALWARE_SCAN_OFF = "off"
FUNCTION = "filetrail-local-handler"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
QUEUE_VISIBILITY_SECONDS = 30
# How long a stop waits for invocations under way; SIGTERM must end the process within 5 s.
STOP_GRACE_SECONDS = 2.0
# Variables that would send the handler's clients somewhere other than the emulator.
_ENDPOINT_VARIABLES = tuple(
    f"AWS_ENDPOINT_URL_{service}"
    for service in ("S3", "DYNAMODB", "SQS", "XRAY", "SNS", "DYNAMODBSTREAMS")
)


def identity() -> Identity:
    """The local stack's names, which a saved state must carry to be restored into it."""
    return Identity(STACK, REGION, BUCKET, TABLE, (QUEUE, DLQ))


@dataclass(frozen=True)
class Saved:
    """What a stop saved in --state-dir, or why it could not."""

    path: str
    manifest: Manifest | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Leftover:
    """What a stop left undone."""

    unprocessed: int | None  # notifications still in the queue (None: could not be counted)
    interrupted: int  # invocations cut off when the grace period ended
    unscanned: int = 0  # object versions whose scan result was never delivered


@dataclass(frozen=True)
class MalwareScan:
    """Local mode's malware scanning: `delay` seconds from the upload to the scan."""

    delay: float = DEFAULT_DELAY_SECONDS


@dataclass(frozen=True)
class Endpoints:
    endpoint_url: str
    region: str
    bucket: str
    table: str
    queue_url: str
    dlq_url: str
    status_index_shards: int = schema.DEFAULT_STATUS_INDEX_SHARDS
    events_topic_arn: str = ""
    # Which scanner runs: `local-eicar` (the EICAR test file only) or `off`.
    malware_scan: str = MALWARE_SCAN_OFF

    def to_json(self) -> dict[str, str]:
        """The ready line's document (DESIGN.md): these keys, in this order."""
        document: dict[str, Any] = asdict(self)
        # Not a key of the ready line (a contract); `environment` exports it for the CLI.
        del document["status_index_shards"]
        return document

    def environment(self) -> dict[str, str]:
        """What a shell needs to point the AWS CLI, boto3 and filetrail at this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "FILETRAIL_TABLE": self.table,
            "FILETRAIL_BUCKET": self.bucket,
            "FILETRAIL_QUEUE_URL": self.queue_url,
            "FILETRAIL_STATUS_INDEX_SHARDS": str(self.status_index_shards),
            "FILETRAIL_DLQ_URL": self.dlq_url,
        }


class LocalStack:
    def __init__(
        self,
        *,
        port: int = 0,
        handler_settings: Mapping[str, str] | None = None,
        log_handler: logging.Handler | None = None,
        workers: int = 2,
        state: StateDir | None = None,
        malware_scan: MalwareScan | None = None,
    ) -> None:
        self._port = port
        self._state = state
        # Only a stack that started whole is saved: a failed start must not replace a state.
        self._serving = False
        self.saved: Saved | None = None
        self._settings = dict(handler_settings or {})
        self._log_handler = log_handler or _stderr_json_handler()
        self._workers = workers
        self._malware_scan = malware_scan
        self._server: AtomicMotoServer | None = None
        self._relay: XRayRelay | None = None
        self._saved_env: dict[str, str | None] = {}
        self._saved_handlers: list[logging.Handler] = []
        self._failures = FailureCapture()
        self._sqs: Any = None
        self.dispatcher: Dispatcher | None = None
        self.scan_dispatcher: Dispatcher | None = None
        self.scanner: LocalScanner | None = None
        self._scan_queue_url: str | None = None
        self._observer: notifications.Observer | None = None
        self.stream_relay: StreamRelay | None = None
        self.leftover: Leftover | None = None
        self.endpoints: Endpoints | None = None
        self.session: boto3.session.Session | None = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Endpoints:
        _check_port_free(self._port)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = AtomicMotoServer(ip_address=HOST, port=self._port, verbose=False)
        self._server.start()
        try:
            return self._provision()
        except BaseException:
            self.stop()
            raise

    def _provision(self) -> Endpoints:
        assert self._server is not None  # noqa: S101 - start() set it
        _, port = self._server.get_host_and_port()
        endpoint = f"http://{HOST}:{port}"
        self.session = boto3.session.Session(
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
            region_name=REGION,
        )
        s3: Any = self.session.client("s3", endpoint_url=endpoint)
        sqs: Any = self.session.client("sqs", endpoint_url=endpoint)
        dynamodb: Any = self.session.client("dynamodb", endpoint_url=endpoint)
        xray: Any = self.session.client("xray", endpoint_url=endpoint)
        # The stream is the notifier's outbox, as on a deployed stack.
        dynamodb.create_table(**schema.create_table_request(TABLE, stream=True))
        topic_arn = self.session.client("sns", endpoint_url=endpoint).create_topic(
            Name=EVENTS_TOPIC
        )["TopicArn"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dlq_url = sqs.create_queue(QueueName=DLQ)["QueueUrl"]
        queue_url = sqs.create_queue(
            QueueName=QUEUE,
            Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY_SECONDS)},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
                ]
            },
        )
        settings = {
            schema.ENV_TABLE_NAME: TABLE,
            schema.ENV_DLQ_URL: dlq_url,
            **self._settings,
        }
        if self._malware_scan is not None:
            settings[schema.ENV_MALWARE_SCAN] = schema.MALWARE_SCAN_GUARDDUTY
        self.endpoints = Endpoints(
            endpoint,
            REGION,
            BUCKET,
            TABLE,
            queue_url,
            dlq_url,
            Settings.from_env(settings).status_index_shards,
            topic_arn,
            SCANNER_NAME if self._malware_scan is not None else MALWARE_SCAN_OFF,
        )
        self._sqs = sqs
        if self._state is not None and self._state.restored is not None:
            with self._server.between_requests():
                snapshot.apply(identity(), self._state.restored)
        self._relay = XRayRelay(xray)
        self._relay.start()
        self._patch_environment(endpoint, self._relay.address)
        self._route_handler_logs()
        runtime = build_runtime(settings, session=self.session)
        self.dispatcher = Dispatcher(
            sqs=sqs,
            queue_url=queue_url,
            queue_arn=queue_arn,
            dlq_url=dlq_url,
            handler=runtime.handle,
            function_name=FUNCTION,
            region=REGION,
            failures=self._failures,
            workers=self._workers,
        )
        self.dispatcher.start()
        if self._malware_scan is not None:
            self._start_scanning(self._malware_scan, runtime.handle, dlq_url)
        notifier = build_notifier({schema.ENV_TOPIC_ARN: topic_arn}, session=self.session)
        stream_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self.stream_relay = StreamRelay(
            self.session.client("dynamodbstreams", endpoint_url=endpoint),
            stream_arn,
            stream_filter_pattern(),
            notifier.handle,
        )
        self.stream_relay.start()
        self._serving = True
        return self.endpoints

    def _start_scanning(self, scan: MalwareScan, handle: Any, dlq_url: str) -> None:
        """The scanner hears of each new object version from the emulator, and its results
        reach the handler as EventBridge invokes a target: asynchronously, the whole event,
        retried twice, then dead-lettered."""
        assert self.endpoints is not None  # noqa: S101 - _provision set them
        sqs = self.client("sqs")
        queue_url = sqs.create_queue(
            QueueName=SCAN_QUEUE,
            Attributes={"VisibilityTimeout": str(QUEUE_VISIBILITY_SECONDS)},
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._scan_queue_url = queue_url

        def publish(event: dict[str, Any]) -> None:
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))

        self.scanner = LocalScanner(
            self.client("s3"),
            bucket=BUCKET,
            region=REGION,
            publish=publish,
            delay=fixed_delay(scan.delay),
        )
        self.scan_dispatcher = Dispatcher(
            sqs=sqs,
            queue_url=queue_url,
            queue_arn=queue_arn,
            dlq_url=dlq_url,
            handler=handle,
            function_name=FUNCTION,
            region=REGION,
            failures=self._failures,
            workers=1,
            unwrap=True,
            name="scan-dispatcher",
        )
        scanner = self.scanner

        def observe(bucket: Any, key: Any) -> None:
            etag = getattr(key, "etag", None)
            scanner.observe(
                ObjectVersion(
                    bucket.name,
                    key.name,
                    getattr(key, "version_id", None),
                    etag.replace('"', "") if isinstance(etag, str) else None,
                )
            )

        self._observer = observe
        notifications.observe_created(observe)
        self.scanner.start()
        self.scan_dispatcher.start()

    def stop(self) -> None:
        """Stop within a bounded time; `leftover` then says what was not processed."""
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for dispatcher in (self.scan_dispatcher, self.dispatcher):
            if dispatcher is not None:
                dispatcher.request_stop()
        unscanned = 0
        if self._observer is not None:
            notifications.forget(self._observer)
            self._observer = None
        if self.scanner is not None:
            unscanned = self.scanner.stop(timeout=_left(deadline))
            self.scanner = None
        interrupted = 0
        if self.scan_dispatcher is not None:
            interrupted = self.scan_dispatcher.stop(timeout=_left(deadline))
            unscanned += self._queued(self._scan_queue_url) or 0
            self.scan_dispatcher = None
        if self.dispatcher is not None:
            interrupted += self.dispatcher.stop(timeout=_left(deadline))
            self.leftover = Leftover(self._queued(), interrupted, unscanned)
            self.dispatcher = None
        if self.stream_relay is not None:
            self.stream_relay.stop()
            self.stream_relay = None
        if self._relay is not None:
            self._relay.stop()
            self._relay = None
        if self._server is not None:
            self._server.stop()
            if self._state is not None and self._serving:
                self.saved = self._save(self._server, self._state)
            self._serving = False
            self._server = None
        self._restore_handler_logs()
        self._restore_environment()

    @staticmethod
    def _save(server: AtomicMotoServer, state: StateDir) -> Saved:
        """After the server stopped: a request an abandoned invocation still has under way
        ends before the backends are read (between_requests), and none starts after."""
        started = time.monotonic()
        try:
            with server.between_requests():
                contents = snapshot.capture(identity())
            manifest = state.save(contents)
        except Exception as error:  # noqa: BLE001 - reported as a failed save; the stop goes on
            return Saved(str(state.path), None, time.monotonic() - started, str(error))
        return Saved(str(state.path), manifest, time.monotonic() - started)

    def _queued(self, queue_url: str | None = None) -> int | None:
        """Messages in the notification queue (or `queue_url`), waiting or in flight."""
        if self.endpoints is None:
            return None
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=queue_url or self.endpoints.queue_url, AttributeNames=names
            )["Attributes"]
        except (ClientError, BotoCoreError):
            return None
        return sum(int(attributes.get(name, 0)) for name in names)

    def client(self, service: str) -> Any:
        """A client on the emulator (for uploads in the demo and tests)."""
        if self.session is None or self.endpoints is None:
            raise CliError("the local stack is not running")
        return self.session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoints.endpoint_url,
        )

    def _patch_environment(self, endpoint: str, daemon: str) -> None:
        """The handler builds its clients from the environment, as it does in Lambda."""
        wanted: dict[str, str | None] = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_XRAY_DAEMON_ADDRESS": daemon,
            **dict.fromkeys(_ENDPOINT_VARIABLES),
        }
        for name, value in wanted.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _restore_environment(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def _route_handler_logs(self) -> None:
        """Handler log lines go where the caller says, so stdout stays the ready line's."""
        logger = logging.getLogger(LOGGER_NAME)
        self._saved_handlers = [
            h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)
        ]
        for handler in self._saved_handlers:
            logger.removeHandler(handler)
        if self._log_handler.formatter is None:
            self._log_handler.setFormatter(JsonFormatter())
        logger.addHandler(self._log_handler)
        logger.addHandler(self._failures)

    def _restore_handler_logs(self) -> None:
        logger = logging.getLogger(LOGGER_NAME)
        for handler in (self._log_handler, self._failures):
            logger.removeHandler(handler)
        for handler in self._saved_handlers:
            logger.addHandler(handler)
        self._saved_handlers = []


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _stderr_json_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    return handler


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _check_port_free(port: int) -> None:
    """moto's server thread would die silently on a taken port; fail clearly instead."""
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((HOST, port))
    except OSError as error:
        raise CliError(f"port {port} on {HOST} is not available: {error.strerror}") from None
    finally:
        probe.close()
