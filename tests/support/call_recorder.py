"""Record every AWS call a boto3 session's clients make: service, IAM action, resource.

Registered on the session's event system before any client exists, it sees exactly
what the handler asks of AWS, which the budget tests count and the IAM tests check
against the generated policy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3

ACCOUNT = "123456789012"

# Operations that IAM authorises as another action when they name an object version.
_VERSIONED_ACTIONS = {
    "GetObject": "GetObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
}
# DynamoDB operations that write: what "no write for garbage" and write budgets count.
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)

_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    action: str
    resource_arn: str
    params: dict[str, Any]
    request: int


@dataclass
class CallRecorder:
    region: str = "us-east-1"
    calls: list[Call] = field(default_factory=list)
    bytes_read: int = 0
    _requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, session: boto3.session.Session) -> CallRecorder:
        session.events.register("provide-client-params.*.*", self._on_params)
        session.events.register("after-call.s3.GetObject", self._on_get_object)
        for operation in ("HeadObject", "GetObject"):
            session.events.register(f"after-call.s3.{operation}", self._on_missing_object)
        return self

    def _on_missing_object(self, http_response: Any, model: Any, context: Any, **_: Any) -> None:
        """S3 answers a missing object 404 only to a caller that may ListBucket the bucket:
        https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html"""
        if http_response.status_code != 404:
            return
        bucket = context.get("filetrail_bucket", "")
        with self._lock:
            self.calls.append(
                Call("s3", model.name, "ListBucket", f"arn:aws:s3:::{bucket}", {}, self._requests)
            )

    def _on_params(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        service = model.service_model.endpoint_prefix
        operation = model.name
        action = operation
        if service == "s3" and params.get("VersionId"):
            action = _VERSIONED_ACTIONS.get(operation, operation)
        arn = self._arn(service, params)
        if service == "s3":
            context["filetrail_bucket"] = params.get("Bucket", "")
        with self._lock:
            self._requests += 1
            request = self._requests
        calls = [Call(service, operation, action, arn, dict(params), request)]
        if operation == "TransactWriteItems":
            # IAM authorises a transaction per item: Put -> PutItem, ConditionCheck -> ...
            calls = [
                Call(service, operation, _ITEM_ACTIONS[kind], arn, dict(params), request)
                for kind in sorted({next(iter(item)) for item in params["TransactItems"]})
            ]
        with self._lock:
            self.calls.extend(calls)

    def _on_get_object(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.bytes_read += int(parsed.get("ContentLength", 0))

    def _arn(self, service: str, params: dict[str, Any]) -> str:
        if service == "s3":
            bucket = params.get("Bucket", "")
            return (
                f"arn:aws:s3:::{bucket}/{params['Key']}"
                if "Key" in params
                else f"arn:aws:s3:::{bucket}"
            )
        if service == "dynamodb":
            table = params.get("TableName")
            if table is None:
                tables = params.get("RequestItems") or {}
                items = params.get("TransactItems") or []
                names = list(tables) or [next(iter(i.values()))["TableName"] for i in items]
                table = names[0] if names else ""
            arn = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{table}"
            return f"{arn}/index/{params['IndexName']}" if params.get("IndexName") else arn
        if service == "sns":
            return str(params.get("TopicArn", "*"))
        if service == "sqs":
            name = urlparse(params.get("QueueUrl", "")).path.rsplit("/", 1)[-1]
            return f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}"
        return "*"

    def triples(self) -> list[tuple[str, str, str]]:
        """`(service, action, resource_arn)`, the shape the IAM checker takes."""
        return sorted({(c.service, c.action, c.resource_arn) for c in self.calls})

    def count(self, service: str, *operations: str) -> int:
        return len(
            {
                c.request
                for c in self.calls
                if c.service == service and (not operations or c.operation in operations)
            }
        )

    def requests(self) -> list[Call]:
        """One call per request (a transaction's per-item actions folded together)."""
        first: dict[int, Call] = {}
        for call in self.calls:
            first.setdefault(call.request, call)
        return list(first.values())

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.bytes_read = 0
