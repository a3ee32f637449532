"""Stands in for Lambda's SQS event source mapping: long-polls the queue S3 notifies, calls
the handler with an SQS-shaped event, a Lambda context and a fresh X-Ray trace, retries a
failed message twice (3 attempts in all), then moves it to the dead-letter queue with why.

With `unwrap` it plays an asynchronous invocation instead (EventBridge invoking a Lambda
target): the handler gets each message's body as the whole event, only a raised error is a
failure, and Lambda's retries are the same two."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from filetrail.local.lambda_context import LambdaContext
from handlers import tracing

MAX_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1
POLL_WAIT_SECONDS = 1
# Messages per receive, as Lambda's SQS event source polls; each is still its own invocation.
RECEIVE_BATCH = 10
DEAD_LETTER_REASON = "RETRIES_EXHAUSTED"
LAMBDA_ORIGIN = "AWS::Lambda::Function"

Handler = Callable[[Any, Any], Any]
logger = logging.getLogger(__name__)


class FailureCapture(logging.Handler):
    """Remembers, per thread, the last error the handler logged: the dead-letter reason."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self._local.last = f"{type(error).__name__}: {error}"
        else:
            self._local.last = record.getMessage()

    def take(self) -> str | None:
        last: str | None = getattr(self._local, "last", None)
        self._local.last = None
        return last


@dataclass
class Stats:
    invocations: int = 0
    retried: int = 0
    dead_lettered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Dispatcher:
    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        dlq_url: str,
        handler: Handler,
        function_name: str,
        region: str,
        failures: FailureCapture,
        workers: int = 2,
        unwrap: bool = False,
        name: str = "dispatcher",
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._dlq_url = dlq_url
        self._handler = handler
        self._function = function_name
        self._region = region
        self._failures = failures
        self._unwrap = unwrap
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"filetrail-{name}-{n}", daemon=True)
            for n in range(workers)
        ]
        self.stats = Stats()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Stop polling, without waiting (so several dispatchers wind down together)."""
        self._stop.set()

    def stop(self, timeout: float | None = None) -> int:
        """Stop polling and wait up to `timeout` seconds for invocations under way.

        Returns how many are still running: their threads are abandoned (daemons) and their
        messages stay in the queue, as a Lambda cut off at its timeout leaves its own.
        """
        self._stop.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return sum(1 for thread in self._threads if thread.is_alive())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=RECEIVE_BATCH,
                    WaitTimeSeconds=POLL_WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except (ClientError, BotoCoreError) as error:
                if self._stop.is_set():
                    return
                logger.warning("receive from %s failed: %s", self._queue_url, error)
                self._stop.wait(RETRY_DELAY_SECONDS)
                continue
            messages = response.get("Messages", [])
            done: list[dict[str, Any]] = []
            for index, message in enumerate(messages):
                if self._stop.is_set():
                    self._release(messages[index:])
                    break
                if self.invoke(message):
                    done.append(message)
            self._delete(done)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        """Processed messages leave the queue together, as Lambda deletes a batch."""
        if not messages:
            return
        entries = [
            {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]}
            for n, message in enumerate(messages)
        ]
        try:
            failed = self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not delete %d processed message(s): %s", len(entries), error)
            return
        for failure in failed.get("Failed", []):
            logger.warning("could not delete a processed message: %s", failure.get("Message"))

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Received but never invoked: visible again now, for whoever reads the queue next."""
        for message in messages:
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            except (ClientError, BotoCoreError) as error:
                # It comes back on its own when the visibility timeout ends.
                logger.warning("could not release message %s: %s", message["MessageId"], error)

    def invoke(self, message: dict[str, Any]) -> bool:
        """One Lambda invocation for one message; True when it succeeded (delete it), else
        it is retried or dead-lettered here."""
        request_id = str(uuid.uuid4())
        context = LambdaContext(self._function, request_id, self._region)
        event = self._event(message)
        self._failures.take()
        # Lambda's part: a sampled trace and the function's segment, in this thread only.
        with tracing.segment(self._function, origin=LAMBDA_ORIGIN) as segment:
            segment.annotate(requestId=request_id)
            try:
                result = self._handler(event, context)
                failed = (
                    set()
                    if self._unwrap
                    else {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                )
            except Exception as error:  # noqa: BLE001 - Lambda would report any error as a failure
                segment.fault(error)
                failed = {message["MessageId"]}
                reason: str | None = f"{type(error).__name__}: {error}"
            else:
                reason = self._failures.take()
        self.stats.add(invocations=1)
        if message["MessageId"] not in failed:
            return True
        try:
            self._retry_or_dead_letter(message, reason or "the handler reported a failure")
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not settle message %s: %s", message["MessageId"], error)
        return False

    def _retry_or_dead_letter(self, message: dict[str, Any], reason: str) -> None:
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if attempts < MAX_ATTEMPTS:
            self.stats.add(retried=1)
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=RETRY_DELAY_SECONDS,
            )
            return
        try:
            record: Any = json.loads(message["Body"])
        except ValueError:
            record = message["Body"]
        body = {
            "source": "filetrail-local-dispatcher",
            "reason": DEAD_LETTER_REASON,
            "error": reason,
            "attempts": attempts,
            "messageId": message["MessageId"],
            "record": record,
        }
        self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=json.dumps(body))
        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.stats.add(dead_lettered=1)

    def _event(self, message: dict[str, Any]) -> Any:
        if not self._unwrap:
            return {"Records": [self._record(message)]}
        try:
            return json.loads(message["Body"])
        except ValueError:
            return message["Body"]

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        """The record Lambda's SQS event source builds from a received message."""
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": dict(message.get("MessageAttributes", {})),
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._region,
        }
