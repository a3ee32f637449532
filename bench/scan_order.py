"""In which order local mode's two verdicts reach the function: the scan result before the
upload's validation, or after it, for a scan delay (`--scan-delay`).

    .venv/bin/python -m bench.scan_order [DELAY_SECONDS]

Uploads small text files to a local stack with malware scanning on, spaced out and then in
a burst, and counts, per file, whether SCANNED was recorded before VALIDATED.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter

from filetrail.local.stack import BUCKET, TABLE, LocalStack, MalwareScan
from handlers import schema
from handlers.store import AuditStore

SPACED = (30, 0.3)  # files, seconds between uploads
BURST = (40, 0.05)
DEADLINE_SECONDS = 60.0


def orders(stack: LocalStack, prefix: str, files: int, gap: float) -> Counter[str]:
    s3 = stack.client("s3")
    store = AuditStore(stack.client("dynamodb"), TABLE)
    keys = [f"{prefix}/{n}.txt" for n in range(files)]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"hello\n", ContentType="text/plain")
        time.sleep(gap)  # the spacing between uploads is what is measured
    found: dict[str, str] = {}
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(found) < len(keys) and time.monotonic() < deadline:
        for key in keys:
            document_id = schema.document_id(BUCKET, key)
            item = store.get_status(document_id)
            if key in found or item is None or item.status == schema.Status.PROCESSING:
                continue
            types = [str(e.type) for e in store.iter_events(document_id)]
            scanned, validated = types.index("SCANNED"), types.index("VALIDATED")
            found[key] = "scan first" if scanned < validated else "scan after"
        time.sleep(0.2)  # polling interval of a deadline-bounded wait
    return Counter(found.values())


def main() -> None:
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else MalwareScan().delay
    with LocalStack(log_handler=logging.NullHandler(), malware_scan=MalwareScan(delay)) as stack:
        for name, (files, gap) in (("spaced", SPACED), ("burst", BURST)):
            counts = orders(stack, name, files, gap)
            sys.stdout.write(
                f"delay {delay:g}s, {name}: {files} files {gap:g}s apart: "
                f"{counts['scan first']} scan first, {counts['scan after']} scan after\n"
            )


if __name__ == "__main__":
    main()
