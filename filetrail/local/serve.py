"""`filetrail local`: run the local stack until SIGINT or SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType

from filetrail import render
from filetrail.errors import EXIT_OK
from filetrail.local.stack import LocalStack


def serve(*, port: int, as_json: bool) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalStack(port=port) as stack:
            assert stack.endpoints is not None  # noqa: S101 - set by start()
            if as_json:
                sys.stdout.write(json.dumps(stack.endpoints.to_json()) + "\n")
                sys.stdout.flush()
            else:
                out = render.console()
                out.print("filetrail local stack ready (Ctrl-C to stop)")
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
    return EXIT_OK
