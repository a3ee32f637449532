"""DynamoDB adapter for the audit trail: append events exactly once, read streams back.

Idempotency comes from conditional writes keyed on the S3 identity of an upload: each
phase of an upload (RECEIVED, OUTCOME) writes a marker item in the same transaction as
its events, so a redelivery, however late, finds the marker and appends nothing.
Concurrency is optimistic on the status item's `version`: a transaction that loses the
race is cancelled whole, and the append is recomputed on the fresh stream.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from handlers import schema
from handlers.aws_errors import error_code, translate
from handlers.errors import ContentionError, TransientError
from handlers.model import AuditEvent, StatusItem, fold, replay
from handlers.status_pages import Page, Shard, page, resume_below

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

PHASE_RECEIVED = "RECEIVED"
PHASE_OUTCOME = "OUTCOME"
PHASES = (PHASE_RECEIVED, PHASE_OUTCOME)
# A malware scan result, recorded once per object version; its marker carries the result.
PHASE_SCAN = "SCAN"

_RETRYABLE_REASONS = frozenset(
    {
        "None",
        "ConditionalCheckFailed",
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
    }
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


@dataclass(frozen=True)
class StreamState:
    """What a writer needs before appending: the status item, which phases are done and,
    when asked for, the scan result of the object version being judged."""

    status: StatusItem | None
    phases_done: frozenset[str]
    scan: Mapping[str, Any] | None = None
    # What a reload after a lost race must read again.
    phases: tuple[str, ...] = PHASES
    scan_key: str | None = None

    @property
    def version(self) -> int:
        return self.status.version if self.status else 0


@dataclass(frozen=True)
class AppendResult:
    appended: bool
    status: StatusItem | None


EventBuilder = Callable[[StreamState], Sequence[AuditEvent]]
"""Given the stream as it stands, the events to append (seq version+1, ...).

Called again, on a fresh state, after every lost race: what it decides (a join's verdict)
must depend on that state alone, and any side effect it has must be safe to repeat."""


class AuditStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        index_shards: int = schema.DEFAULT_STATUS_INDEX_SHARDS,
        list_workers: int = 8,
        max_attempts: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """`index_shards`: the count status items are written with, and the shards a
        listing queries (0 .. index_shards-1); `list_workers` of those queries run at once."""
        self._client = client
        self._table = table_name
        self._shards = index_shards
        self._list_workers = list_workers
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter

    @property
    def table_name(self) -> str:
        return self._table

    def load(
        self,
        document_id: str,
        upload_key: str,
        *,
        phases: Sequence[str] = PHASES,
        scan_key: str | None = None,
    ) -> StreamState:
        """One consistent BatchGetItem: the status item, this upload's markers and, given
        `scan_key`, the marker of that object version's malware scan (what a join reads)."""
        markers = {schema.marker_sort_key(upload_key, phase): phase for phase in phases}
        keys = [_key(document_id, schema.STATUS_SORT_KEY)] + [
            _key(document_id, sort_key) for sort_key in markers
        ]
        scan_sort_key = schema.marker_sort_key(scan_key, PHASE_SCAN) if scan_key else None
        if scan_sort_key is not None:
            keys.append(_key(document_id, scan_sort_key))
        found = self._batch_get(keys, f"read stream {document_id} from {self._table}")
        status = None
        scan = None
        done: set[str] = set()
        for raw in found:
            item = from_attributes(raw)
            if item[schema.SORT_KEY] == schema.STATUS_SORT_KEY:
                status = StatusItem.from_item(item)
            elif item[schema.SORT_KEY] == scan_sort_key:
                scan = _plain_scan(item)
            if item[schema.SORT_KEY] in markers:
                done.add(markers[item[schema.SORT_KEY]])
        return StreamState(status, frozenset(done), scan, phases=tuple(phases), scan_key=scan_key)

    def append(
        self,
        document_id: str,
        upload_key: str,
        phase: str,
        build: EventBuilder,
        state: StreamState | None = None,
        *,
        at: str,
        marker_fields: Mapping[str, Any] | None = None,
        phases: Sequence[str] = PHASES,
        scan_key: str | None = None,
    ) -> AppendResult:
        """Append this phase's events once; a no-op if the phase is already recorded.

        `marker_fields` are stored on the phase's marker; `phases` and `scan_key` say what
        to read again (as `load` does) after a lost race."""
        # Tells our own write apart from another delivery's when botocore resends a
        # transaction whose first response was lost and the resend meets our marker.
        writer = uuid.uuid4().hex
        for attempt in range(self._max_attempts):
            if state is None:
                state = self.load(document_id, upload_key, phases=phases, scan_key=scan_key)
            if phase in state.phases_done:
                return AppendResult(False, state.status)
            events = tuple(build(state))
            status = fold(state.status, events)
            items = self._transaction(
                document_id=document_id,
                upload_key=upload_key,
                phase=phase,
                events=events,
                status=status,
                state=state,
                at=at,
                writer=writer,
                marker_fields=marker_fields,
            )
            try:
                self._client.transact_write_items(TransactItems=items)
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise translate(error, f"append to {document_id} in {self._table}") from error
                cancellations = error.response.get("CancellationReasons", [])
                reasons = [str(r.get("Code", "None")) for r in cancellations]
                if len(reasons) == len(items) and reasons[len(events)] == "ConditionalCheckFailed":
                    marker_writer = self._marker_writer(
                        document_id, upload_key, phase, cancellations[len(events)]
                    )
                    if marker_writer == writer:
                        return AppendResult(True, status)
                    # Another delivery recorded this phase in the meantime.
                    return AppendResult(False, None)
                if reasons and not set(reasons) <= _RETRYABLE_REASONS:
                    raise translate(error, f"append to {document_id} in {self._table}") from error
                state = None
                self._backoff(attempt + 1)
                continue
            except BotoCoreError as error:
                raise translate(error, f"append to {document_id} in {self._table}") from error
            return AppendResult(True, status)
        raise ContentionError(
            f"stream {document_id} kept changing; gave up after {self._max_attempts} attempts"
        )

    def _transaction(
        self,
        *,
        document_id: str,
        upload_key: str,
        phase: str,
        events: Sequence[AuditEvent],
        status: StatusItem | None,
        state: StreamState,
        at: str,
        writer: str,
        marker_fields: Mapping[str, Any] | None = None,
    ) -> list[TransactWriteItemTypeDef]:
        """Events, then the phase marker, then the status item: one all-or-nothing write."""
        absent = ("attribute_not_exists(#pk)", {"#pk": schema.PARTITION_KEY}, None)
        items = [self._put(event.to_item(), *absent) for event in events]
        marker = {
            schema.PARTITION_KEY: document_id,
            schema.SORT_KEY: schema.marker_sort_key(upload_key, phase),
            "documentId": document_id,
            "uploadKey": upload_key,
            "phase": phase,
            "seqs": [event.seq for event in events],
            "at": at,
            "writer": writer,
            **(marker_fields or {}),
        }
        marker_put = self._put(marker, *absent)
        marker_put["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        items.append(marker_put)
        if status is not None:
            if state.status is None:
                items.append(self._put(status.to_item(index_shards=self._shards), *absent))
            else:
                items.append(
                    self._put(
                        status.to_item(index_shards=self._shards),
                        "#version = :version",
                        {"#version": "version"},
                        {":version": {"N": str(state.version)}},
                    )
                )
        return items

    def _put(
        self,
        item: dict[str, Any],
        condition: str,
        names: dict[str, str],
        values: dict[str, Any] | None,
    ) -> TransactWriteItemTypeDef:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_attributes(item),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            put["ExpressionAttributeValues"] = values
        return cast("TransactWriteItemTypeDef", {"Put": put})

    def _marker_writer(
        self, document_id: str, upload_key: str, phase: str, cancellation: Mapping[str, Any]
    ) -> str | None:
        """Who wrote the marker that blocked us: from the cancellation, else one read."""
        existing = cancellation.get("Item")
        if existing is None:
            key = _key(document_id, schema.marker_sort_key(upload_key, phase))
            items = self._batch_get([key], f"read marker of {document_id}")
            existing = items[0] if items else None
        if not existing:
            return None
        writer = from_attributes(existing).get("writer")
        return str(writer) if writer is not None else None

    def _batch_get(self, keys: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
        """Consistent BatchGetItem, unprocessed keys retried (GetItem is not in the role).

        Within the store's attempt budget: keys still unprocessed after it are a transient
        error, so the record is retried later instead of holding the invocation.
        """
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        found: list[dict[str, Any]] = []
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise translate(error, action) from error
            found.extend(response.get("Responses", {}).get(self._table, []))
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                return found
            if attempt < self._max_attempts:
                self._backoff(attempt)
        unprocessed = len(request.get(self._table, {}).get("Keys", []))
        raise TransientError(
            f"{action}: {unprocessed} keys still unprocessed after {self._max_attempts} attempts"
        )

    def _backoff(self, attempt: int) -> None:
        """Full jitter, capped: contention clears fastest when writers spread out."""
        self._sleep(self._jitter() * min(1.0, 0.02 * 2**attempt))

    def outcome_event(self, document_id: str, upload_key: str) -> AuditEvent | None:
        """The first event an upload's OUTCOME phase appended (its VALIDATED, when a verdict
        waits for a scan): two consistent reads, by the marker's `seqs`."""
        marker_key = _key(document_id, schema.marker_sort_key(upload_key, PHASE_OUTCOME))
        markers = self._batch_get([marker_key], f"read marker of {document_id}")
        if not markers:
            return None
        seqs = from_attributes(markers[0]).get("seqs") or []
        if not seqs:
            return None
        event_key = _key(document_id, schema.event_sort_key(int(seqs[0])))
        events = self._batch_get([event_key], f"read events of {document_id}")
        return AuditEvent.from_item(from_attributes(events[0])) if events else None

    def get_status(self, document_id: str) -> StatusItem | None:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key=_key(document_id, schema.STATUS_SORT_KEY),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as error:
            raise translate(error, f"read status of {document_id} from {self._table}") from error
        item = response.get("Item")
        return StatusItem.from_item(from_attributes(item)) if item else None

    def iter_events(self, document_id: str) -> Iterator[AuditEvent]:
        """The stream in seq order, every page, strongly consistent."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#sk": schema.SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": {"S": document_id},
                ":prefix": {"S": schema.EVENT_SORT_PREFIX},
            },
            "ConsistentRead": True,
        }
        while True:
            try:
                response = self._client.query(**kwargs)
            except (ClientError, BotoCoreError) as error:
                raise translate(
                    error, f"read events of {document_id} from {self._table}"
                ) from error
            for raw in response.get("Items", []):
                yield AuditEvent.from_item(from_attributes(raw))
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def replay(self, document_id: str) -> StatusItem | None:
        return replay(self.iter_events(document_id))

    def list_by_status(
        self,
        *statuses: str,
        since: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[StatusItem]:
        """Status items with these statuses, newest upload first: one Query per index shard.

        Raises `InvalidCursorError` for a cursor this method did not hand out.
        """
        partitions = [
            key for status in statuses for key in schema.status_index_keys(status, self._shards)
        ]

        def fetch(partition: str, before: str | None, count: int) -> Shard[StatusItem]:
            return self._query_shard(partition, since=since, before=before, limit=count)

        workers = min(self._list_workers, len(partitions))
        if workers <= 1:
            return page(partitions, fetch, limit=limit, cursor=cursor)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return page(partitions, fetch, limit=limit, cursor=cursor, mapper=pool.map)

    def _query_shard(
        self, partition: str, *, since: str | None, before: str | None, limit: int
    ) -> Shard[StatusItem]:
        """One index partition, newest first, sort keys in [since, before)."""
        names = {"#p": schema.STATUS_INDEX_PARTITION_KEY}
        values: dict[str, Any] = {":p": {"S": partition}}
        if since is not None or before is not None:
            names["#o"] = schema.STATUS_INDEX_SORT_KEY
        if since is not None and before is not None:
            if before < since:
                return Shard((), more=False)
            # Key conditions have no half-open range: BETWEEN includes `before`, whose
            # item is dropped below, so one more is asked for to still fill the page.
            condition = "#p = :p AND #o BETWEEN :since AND :before"
            values |= {":since": {"S": since}, ":before": {"S": before}}
            limit += 1
        elif since is not None:
            condition = "#p = :p AND #o >= :since"
            values[":since"] = {"S": since}
        elif before is not None:
            condition = "#p = :p AND #o < :before"
            values[":before"] = {"S": before}
        else:
            condition = "#p = :p"
        try:
            response = self._client.query(
                TableName=self._table,
                IndexName=schema.STATUS_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ScanIndexForward=False,
                Limit=limit,
            )
        except (ClientError, BotoCoreError) as error:
            raise translate(error, f"list {partition} files in {self._table}") from error
        entries = []
        for raw in response.get("Items", []):
            item = from_attributes(raw)
            # The stored sort key, not one recomputed from the item: the cursor must
            # match what the index compares.
            entries.append((str(item[schema.STATUS_INDEX_SORT_KEY]), StatusItem.from_item(item)))
        return Shard(resume_below(entries, before), more="LastEvaluatedKey" in response)


def _plain_scan(item: Mapping[str, Any]) -> dict[str, Any]:
    """A scan marker as the join reads it: the result and the threats found."""
    return {
        "result": str(item.get("result", "")),
        "threats": [str(name) for name in item.get("threats", [])],
        "scanStatus": item.get("scanStatus"),
        "scanner": item.get("scanner"),
    }


def _key(document_id: str, sort_key: str) -> dict[str, Any]:
    return {schema.PARTITION_KEY: {"S": document_id}, schema.SORT_KEY: {"S": sort_key}}
