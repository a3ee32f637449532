"""`filetrail local`: run the local stack until SIGINT or SIGTERM."""

from __future__ import annotations

import gc
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from filetrail import render
from filetrail.errors import EXIT_FAILURE, EXIT_OK
from filetrail.local.stack import Leftover, LocalStack, MalwareScan, Saved, identity
from filetrail.local.state import StateDir, opened

STOPPED_MESSAGE = "filetrail.local.stopped"
# Said at every start without --state-dir: nothing survives a stop.
IN_MEMORY_NOTICE = (
    "state is kept in memory only: the bucket, the audit table and the queues are gone "
    "when local mode stops (keep them with --state-dir DIR)"
)


def serve(
    *,
    port: int,
    as_json: bool,
    state_dir: Path | None = None,
    malware_scan: MalwareScan | None = None,
) -> int:
    # A state directory that cannot be used fails here, before anything starts.
    with opened(state_dir, identity()) as state:
        return _serve(port=port, as_json=as_json, state=state, malware_scan=malware_scan)


def state_notice(state: StateDir | None) -> str:
    """What the ready line says about where the state lives."""
    if state is None:
        return IN_MEMORY_NOTICE
    where = f"state is saved to {state.path} when local mode stops (Ctrl-C or SIGTERM)"
    if state.manifest is None:
        return f"{where}; nothing to restore there, starting empty"
    return f"{where}; restored the state saved at {state.manifest.saved_at}: " + _counts_text(
        state.manifest.counts
    )


def _counts_text(counts: dict[str, int]) -> str:
    return (
        f"{counts.get('objectVersions', 0)} object version(s), "
        f"{counts.get('deleteMarkers', 0)} delete marker(s), "
        f"{counts.get('items', 0)} table item(s), "
        f"{counts.get('messages', 0)} queued message(s)"
    )


def _serve(
    *, port: int, as_json: bool, state: StateDir | None, malware_scan: MalwareScan | None
) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    notice = state_notice(state)
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalStack(port=port, state=state, malware_scan=malware_scan) as stack:
            assert stack.endpoints is not None  # noqa: S101 - set by start()
            if as_json:
                sys.stdout.write(json.dumps(stack.endpoints.to_json()) + "\n")
                sys.stdout.flush()
                ready: dict[str, Any] = {"message": "filetrail.local.ready", "notice": notice}
                if state is not None:
                    ready["stateDir"] = str(state.path)
                    ready["restored"] = state.manifest.counts if state.manifest else None
                sys.stderr.write(json.dumps(ready) + "\n")
            else:
                out = render.console()
                out.print("filetrail local stack ready (Ctrl-C to stop)")
                out.print(f"  note: {notice}")
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
        _report(stack.leftover, as_json=as_json, saved=stack.saved)
    # The process ends next: without this the collector walks the emulator's whole heap
    # several times over during interpreter shutdown (seconds, after 1,000 files).
    gc.freeze()
    if stack.saved is not None and stack.saved.error is not None:
        sys.stderr.write(
            f"filetrail: error: could not save the state to {stack.saved.path}: "
            f"{stack.saved.error}\n"
        )
        return EXIT_FAILURE
    return EXIT_OK


def _report(leftover: Leftover, *, as_json: bool, saved: Saved | None = None) -> None:
    """What the stop left unprocessed, on stderr (stdout holds only the ready line)."""
    if as_json:
        document: dict[str, Any] = {
            "message": STOPPED_MESSAGE,
            "unprocessed": leftover.unprocessed,
            "interrupted": leftover.interrupted,
            "unscanned": leftover.unscanned,
        }
        if saved is not None:
            document["saved"] = {
                "stateDir": saved.path,
                "counts": saved.manifest.counts if saved.manifest else None,
                "seconds": round(saved.seconds, 3),
                "error": saved.error,
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
    if saved is not None and saved.manifest is not None:
        text += f"; saved to {saved.path} in {saved.seconds:.2f} s: " + _counts_text(
            saved.manifest.counts
        )
        if leftover.unprocessed:
            text += " (the unprocessed are processed at the next start with this --state-dir)"
    sys.stderr.write(f"filetrail local {text}\n")
