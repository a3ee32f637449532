"""Malware scan results as EventBridge delivers them to a Lambda target.

The shape follows AWS's "S3 object scan result" event:
https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from tests.support.s3_events import load_fixture

_ids = itertools.count(1)


def scan_event(
    bucket: str,
    key: str,
    *,
    version_id: str | None,
    etag: str | None,
    result: str = "NO_THREATS_FOUND",
    threats: list[str] | None = None,
    scan_status: str = "COMPLETED",
    time: str = "2026-11-28T10:16:02Z",
) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(load_fixture("guardduty-scan-result.json"))
    event["id"] = f"72c7d362-737a-6dce-fc78-{next(_ids):012d}"
    event["time"] = time
    obj = event["detail"]["s3ObjectDetails"]
    obj["bucketName"] = bucket
    obj["objectKey"] = key
    obj["versionId"] = version_id
    obj["eTag"] = etag
    event["detail"]["scanStatus"] = scan_status
    event["detail"]["scanResultDetails"] = {
        "scanResultStatus": result,
        "threats": [{"name": name} for name in threats] if threats else None,
    }
    return event
