"""X-Ray: subsegments around each stage, annotations for search, and the trace id.

In Lambda (active tracing) the SDK hangs subsegments off the function's facade segment
and streams each one to the daemon as it closes. Anywhere without a segment (unit
tests, scripts) tracing quietly does nothing instead of failing the handler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import patch, xray_recorder

TRACE_ENV = "_X_AMZN_TRACE_ID"
_patched = False


def configure() -> None:
    """Per container: never fail a request for a missing segment; trace AWS calls."""
    global _patched  # noqa: PLW0603 - botocore patching is process-wide by nature
    xray_recorder.configure(context_missing="IGNORE_ERROR", service="filetrail")
    if global_sdk_config.sdk_enabled() and not _patched:
        patch(("botocore",))
        _patched = True


def current_trace_id() -> str | None:
    """Trace id of the segment this invocation belongs to.

    In Lambda that is the facade segment built from `_X_AMZN_TRACE_ID`; elsewhere (the
    local dispatcher) a segment the caller opened in this thread.
    """
    if global_sdk_config.sdk_enabled():
        segment = xray_recorder.current_segment()
        if segment is not None:
            return str(segment.trace_id)
    return trace_root(os.environ.get(TRACE_ENV, ""))


def trace_root(header: str) -> str | None:
    """The Root of a trace header, e.g. `Root=1-5759e988-bd862e3fe1be46a994272793;...`."""
    for part in header.split(";"):
        name, _, value = part.partition("=")
        if name.strip() == "Root" and value:
            return value.strip()
    return None


class Span:
    """A subsegment, or nothing when there is no active segment."""

    def __init__(self, subsegment: Any) -> None:
        self._subsegment = subsegment

    def annotate(self, **annotations: str | int | bool | None) -> None:
        if self._subsegment is None:
            return
        for name, value in annotations.items():
            if value is not None:
                self._subsegment.put_annotation(name, value)

    def metadata(self, name: str, value: Any) -> None:
        if self._subsegment is not None:
            self._subsegment.put_metadata(name, value, "filetrail")


@contextmanager
def subsegment(name: str) -> Iterator[Span]:
    if not global_sdk_config.sdk_enabled():
        yield Span(None)
        return
    with xray_recorder.in_subsegment(name) as sub:
        yield Span(sub)
