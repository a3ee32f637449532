"""`filetrail local`: run the local stack until SIGINT or SIGTERM."""

from __future__ import annotations

import gc
import json
import signal
import sys
import threading
from types import FrameType

from filetrail import render
from filetrail.errors import EXIT_OK
from filetrail.local.stack import Leftover, LocalStack, MalwareScan

STOPPED_MESSAGE = "filetrail.local.stopped"
# Said at every start: nothing survives a stop yet (no --state-dir).
IN_MEMORY_NOTICE = (
    "state is kept in memory only: the bucket, the audit table and the queues are gone "
    "when local mode stops"
)


def serve(*, port: int, as_json: bool, malware_scan: MalwareScan | None = None) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalStack(port=port, malware_scan=malware_scan) as stack:
            assert stack.endpoints is not None  # noqa: S101 - set by start()
            if as_json:
                sys.stdout.write(json.dumps(stack.endpoints.to_json()) + "\n")
                sys.stdout.flush()
                sys.stderr.write(
                    json.dumps({"message": "filetrail.local.ready", "notice": IN_MEMORY_NOTICE})
                    + "\n"
                )
            else:
                out = render.console()
                out.print("filetrail local stack ready (Ctrl-C to stop)")
                out.print(f"  note: {IN_MEMORY_NOTICE}")
                for name, value in stack.endpoints.to_json().items():
                    out.print(f"  {name:<13} {value}")
                out.print("\nPoint the AWS CLI, boto3 and filetrail at it:")
                exports = " ".join(f"{k}={v}" for k, v in stack.endpoints.environment().items())
                out.print(f"  export {exports}", soft_wrap=True)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stack.leftover is not None:
        _report(stack.leftover, as_json=as_json)
    # The process ends next: without this the collector walks the emulator's whole heap
    # several times over during interpreter shutdown (seconds, after 1,000 files).
    gc.freeze()
    return EXIT_OK


def _report(leftover: Leftover, *, as_json: bool) -> None:
    """What the stop left unprocessed, on stderr (stdout holds only the ready line)."""
    if as_json:
        document = {
            "message": STOPPED_MESSAGE,
            "unprocessed": leftover.unprocessed,
            "interrupted": leftover.interrupted,
            "unscanned": leftover.unscanned,
        }
        sys.stderr.write(json.dumps(document) + "\n")
        return
    if leftover.unprocessed is None:
        text = "stopped; could not count the notifications left in the queue"
    elif leftover.unprocessed == 0:
        text = "stopped; every notification was processed"
    else:
        text = f"stopped; {leftover.unprocessed} notification(s) left unprocessed in the queue"
    if leftover.interrupted:
        text += f" ({leftover.interrupted} cut off mid-invocation)"
    if leftover.unscanned:
        text += f"; {leftover.unscanned} scan result(s) never delivered"
    sys.stderr.write(f"filetrail local {text}\n")
