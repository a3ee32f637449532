"""Local mode's stand-in for GuardDuty Malware Protection for S3.

It is not an antivirus and does not pretend to be one: it finds the EICAR anti-virus test
file and nothing else, so local mode can show a threat found without holding malware. What
it imitates faithfully is the service's interface: every new object version in the bucket
is read and scanned once, the result is written to the object as the tag GuardDuty writes
(tagging enabled), and an EventBridge event "GuardDuty Malware Protection Object Scan
Result" is delivered to the processing function after a delay, the whole event as
EventBridge hands it to a Lambda target.
https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
https://docs.aws.amazon.com/guardduty/latest/ug/monitoring-malware-protection-s3-scans-gdu.html
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers import schema
from handlers.schema import ScanResult

# Split so that this source file does not itself look like the test file to a scanner.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# EICAR's definition: the file starts with the 68-byte string, may be followed by
# whitespace (space, tab, LF, CR, Ctrl-Z only), and is at most 128 bytes in all.
EICAR_MAX_BYTES = 128
EICAR_PADDING = frozenset(b" \t\n\r\x1a")
# No GuardDuty documentation names its verdict for EICAR; this is the common engine name.
EICAR_THREAT = "EICAR-Test-File"

SCANNER_NAME = "local-eicar"
# Marks the results as local mode's, so the audit trail never passes them off as AWS's
# (the handler records `scanner: local`); GuardDuty's own events carry no such field.
LOCAL_MARKER_FIELD = "filetrail"
LOCAL_MARKER = {"scanner": "local"}
ACCOUNT = "123456789012"
PLAN_ID = "local-eicar-plan"
SCHEMA_VERSION = "1.0"
RESOURCE_TYPE = "S3_OBJECT"
# S3 keeps at most 10 tags on an object; GuardDuty does not drop one to add its own.
MAX_OBJECT_TAGS = 10
# Without --scan-delay, none: reading, tagging and publishing take about as long as the
# function takes to validate the upload, so results reach it both before and after the
# validation (any delay of a tenth of a second or more puts nearly every result after).
DEFAULT_DELAY_SECONDS = 0.0
_SCAN_STATUS = {
    ScanResult.NO_THREATS_FOUND: "COMPLETED",
    ScanResult.THREATS_FOUND: "COMPLETED",
    ScanResult.UNSUPPORTED: "SKIPPED",
    ScanResult.ACCESS_DENIED: "SKIPPED",
    ScanResult.FAILED: "FAILED",
}
_GONE = frozenset({"NoSuchKey", "NoSuchVersion", "404"})
_DENIED = frozenset({"AccessDenied", "403"})

logger = logging.getLogger(__name__)


def is_eicar(head: bytes, size: int) -> bool:
    """Whether an object of `size` bytes that begins with `head` is the EICAR test file."""
    if size > EICAR_MAX_BYTES or not head.startswith(EICAR) or len(head) < size:
        return False
    return all(byte in EICAR_PADDING for byte in head[len(EICAR) : size])


@dataclass(frozen=True)
class ObjectVersion:
    """One new object version, as S3 stored it."""

    bucket: str
    key: str
    version_id: str | None
    etag: str | None


@dataclass(frozen=True)
class Verdict:
    result: ScanResult
    threats: tuple[str, ...] = ()

    @property
    def scan_status(self) -> str:
        return _SCAN_STATUS[self.result]


def scan_result_event(
    version: ObjectVersion,
    verdict: Verdict,
    *,
    region: str,
    account: str = ACCOUNT,
    plan_id: str = PLAN_ID,
    at: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The event GuardDuty publishes to EventBridge for one scanned object version."""
    instant = (at or datetime.now(UTC)).astimezone(UTC)
    details: dict[str, Any] = {
        "bucketName": version.bucket,
        # As S3 stores it: EventBridge events are JSON, nothing is URL-encoded.
        "objectKey": version.key,
        "eTag": version.etag,
        "s3Throttled": False,
    }
    if version.version_id not in (None, "null"):
        details["versionId"] = version.version_id
    threats = [{"name": name} for name in verdict.threats] or None
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": schema.SCAN_EVENT_DETAIL_TYPE,
        "source": schema.SCAN_EVENT_SOURCE,
        "account": account,
        "time": instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:guardduty:{region}:{account}:malware-protection-plan/{plan_id}"],
        "detail": {
            "schemaVersion": SCHEMA_VERSION,
            "scanStatus": verdict.scan_status,
            "resourceType": RESOURCE_TYPE,
            "s3ObjectDetails": details,
            "scanResultDetails": {"scanResultStatus": str(verdict.result), "threats": threats},
        },
    }


def fixed_delay(seconds: float) -> Callable[[], float]:
    return lambda: seconds


Publish = Callable[[dict[str, Any]], None]


class LocalScanner:
    """Scans each version `observe` is told of, once, after its delay, on its own thread."""

    def __init__(
        self,
        s3: Any,
        *,
        bucket: str,
        region: str,
        publish: Publish,
        delay: Callable[[], float],
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._region = region
        self._publish = publish
        self._delay = delay
        self._pending: list[tuple[float, int, ObjectVersion]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="filetrail-scanner", daemon=True)
        self.scanned = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> int:
        """Stop scanning; returns how many versions were still waiting for their scan."""
        with self._changed:
            self._stop = True
            self._changed.notify_all()
        self._thread.join(timeout)
        with self._changed:
            return len(self._pending)

    def observe(self, version: ObjectVersion) -> None:
        """A new version of an object. Called inside the emulator's request: only queues."""
        if version.bucket != self._bucket:
            return
        due = time.monotonic() + max(0.0, self._delay())
        with self._changed:
            heapq.heappush(self._pending, (due, next(self._order), version))
            self._changed.notify_all()

    def flush(self) -> None:
        """Make every waiting scan due now (tests that need the result after validation)."""
        with self._changed:
            self._pending = [(0.0, order, version) for _, order, version in self._pending]
            heapq.heapify(self._pending)
            self._changed.notify_all()

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._pending)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stop and not self._due():
                    timeout = self._pending[0][0] - time.monotonic() if self._pending else None
                    self._changed.wait(timeout)
                if self._stop:
                    return
                _, _, version = heapq.heappop(self._pending)
            self._scan_and_publish(version)

    def _due(self) -> bool:
        return bool(self._pending) and self._pending[0][0] <= time.monotonic()

    def _scan_and_publish(self, version: ObjectVersion) -> None:
        verdict = self.scan(version)
        if verdict.result not in (ScanResult.ACCESS_DENIED, ScanResult.FAILED):
            self._tag(version, verdict)
        event = scan_result_event(version, verdict, region=self._region)
        event[LOCAL_MARKER_FIELD] = dict(LOCAL_MARKER)
        try:
            self._publish(event)
        except (ClientError, BotoCoreError):
            logger.exception(
                "filetrail.local.scanner.publish_failed",
                extra={"bucket": version.bucket, "key": version.key},
            )
            return
        self.scanned += 1

    def scan(self, version: ObjectVersion) -> Verdict:
        """Read the version and judge it: the whole object is fetched, as GuardDuty reads
        it, but only its first bytes can decide (anything longer is not EICAR)."""
        request: dict[str, Any] = {"Bucket": version.bucket, "Key": version.key}
        if version.version_id not in (None, "null"):
            request["VersionId"] = version.version_id
        try:
            response = self._s3.get_object(**request)
            body = response["Body"]
            try:
                head = body.read(EICAR_MAX_BYTES + 1)
            finally:
                body.close()
            size = int(response.get("ContentLength", len(head)))
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _DENIED:
                return Verdict(ScanResult.ACCESS_DENIED)
            if code not in _GONE:
                logger.warning(
                    "filetrail.local.scanner.read_failed",
                    extra={"bucket": version.bucket, "key": version.key, "error": code},
                )
            return Verdict(ScanResult.FAILED)
        except BotoCoreError:
            return Verdict(ScanResult.FAILED)
        if is_eicar(head, size):
            return Verdict(ScanResult.THREATS_FOUND, (EICAR_THREAT,))
        return Verdict(ScanResult.NO_THREATS_FOUND)

    def _tag(self, version: ObjectVersion, verdict: Verdict) -> None:
        """GuardDuty's tag, added to the object's own tags (a tag failure is only logged:
        GuardDuty reports it separately and still publishes the result)."""
        request: dict[str, Any] = {"Bucket": version.bucket, "Key": version.key}
        if version.version_id not in (None, "null"):
            request["VersionId"] = version.version_id
        try:
            tags = self._s3.get_object_tagging(**request)["TagSet"]
            kept = [t for t in tags if t["Key"] != schema.GUARDDUTY_TAG_KEY]
            if len(kept) >= MAX_OBJECT_TAGS:
                logger.warning(
                    "filetrail.local.scanner.tag_limit",
                    extra={"bucket": version.bucket, "key": version.key},
                )
                return
            tag = {"Key": schema.GUARDDUTY_TAG_KEY, "Value": str(verdict.result)}
            self._s3.put_object_tagging(**request, Tagging={"TagSet": [*kept, tag]})
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "filetrail.local.scanner.tag_failed",
                extra={"bucket": version.bucket, "key": version.key, "error": str(error)},
            )
