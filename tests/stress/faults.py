"""Seeded fault injection on a boto3 session, through botocore's event hooks.

`before-send` answers instead of the emulator (throttling, transaction conflicts, S3
5xx), raises a read timeout before the request leaves, or sends it and then raises one
(the request took effect but its response was lost). `after-call` raises a simulated
crash after a write succeeded: the process dies between the handler's writes.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session


class SimulatedCrash(Exception):
    """The Lambda process died here; the invocation fails and Lambda retries it."""


@dataclass(frozen=True)
class FaultRates:
    throttle: float = 0.08  # any DynamoDB request
    conflict: float = 0.08  # TransactWriteItems cancelled with TransactionConflict
    s3_5xx: float = 0.08  # any S3 request
    s3_timeout: float = 0.05  # any S3 request, before it leaves
    lost_response: float = 0.06  # TransactWriteItems applied, response lost
    crash_after_write: float = 0.04  # after a successful TransactWriteItems
    crash_after_tag: float = 0.04  # after a successful PutObjectTagging


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def _response(request: AWSPreparedRequest, status: int, body: bytes, kind: str) -> AWSResponse:
    headers = HTTPHeaders()
    headers["Content-Type"] = kind
    headers["x-amzn-RequestId"] = "fault-injected"
    return AWSResponse(request.url, status, headers, _Body(body))


def _dynamodb_error(request: AWSPreparedRequest, code: str, **extra: Any) -> AWSResponse:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code, **extra}
    return _response(request, 400, json.dumps(body).encode(), "application/x-amz-json-1.0")


def _s3_error(request: AWSPreparedRequest, status: int, code: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
    return _response(request, status, body, "application/xml")


@dataclass
class FaultInjector:
    seed: int
    rates: FaultRates = field(default_factory=FaultRates)
    enabled: bool = True
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._http = URLLib3Session()

    def attach(self, session: boto3.session.Session) -> FaultInjector:
        session.events.register("before-send", self._before_send)  # type: ignore[arg-type]
        session.events.register("after-call.dynamodb.TransactWriteItems", self._after_write)
        session.events.register("after-call.s3.PutObjectTagging", self._after_tag)
        return self

    def _roll(self, kind: str, rate: float) -> bool:
        with self._lock:
            hit = self.enabled and self._rng.random() < rate
            if hit:
                self.injected[kind] += 1
        return hit

    def _before_send(
        self, request: AWSPreparedRequest, event_name: str, **_: Any
    ) -> AWSResponse | None:
        service, operation = event_name.split(".")[1:3]
        if service == "dynamodb":
            if self._roll("throttle", self.rates.throttle):
                return _dynamodb_error(request, "ThrottlingException")
            if operation == "TransactWriteItems":
                return self._transact_fault(request)
        if service == "s3":
            if self._roll("s3_5xx", self.rates.s3_5xx):
                return (
                    _s3_error(request, 503, "SlowDown")
                    if self._rng.random() < 0.5
                    else (_s3_error(request, 500, "InternalError"))
                )
            if self._roll("s3_timeout", self.rates.s3_timeout):
                raise ReadTimeoutError(endpoint_url=request.url)
        return None

    def _transact_fault(self, request: AWSPreparedRequest) -> AWSResponse | None:
        if self._roll("conflict", self.rates.conflict):
            body = request.body if isinstance(request.body, str | bytes) else b"{}"
            items = json.loads(body or b"{}").get("TransactItems", [])
            reasons = [{"Code": "None"} for _ in items]
            reasons[self._rng.randrange(len(reasons))] = {
                "Code": "TransactionConflict",
                "Message": "Transaction is ongoing for the item",
            }
            return _dynamodb_error(
                request, "TransactionCanceledException", CancellationReasons=reasons
            )
        if self._roll("lost_response", self.rates.lost_response):
            self._http.send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        return None

    def _after_write(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code == 200 and self._roll(
            "crash_after_write", self.rates.crash_after_write
        ):
            raise SimulatedCrash("process died right after a successful TransactWriteItems")

    def _after_tag(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code == 200 and self._roll(
            "crash_after_tag", self.rates.crash_after_tag
        ):
            raise SimulatedCrash("process died right after tagging the object")
