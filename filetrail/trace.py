"""An event's X-Ray trace as a timeline: segments and subsegments with offsets."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from filetrail.errors import TraceNotFoundError


@dataclass(frozen=True)
class Span:
    id: str
    name: str
    depth: int
    start: float
    end: float | None
    parent_id: str | None = None
    namespace: str | None = None
    annotations: Mapping[str, Any] = field(default_factory=dict)
    error: bool = False
    fault: bool = False
    in_progress: bool = False
    operation: str | None = None

    @property
    def duration_ms(self) -> float | None:
        return None if self.end is None else round((self.end - self.start) * 1000, 3)

    @property
    def label(self) -> str:
        return f"{self.name} {self.operation}" if self.operation else self.name


@dataclass(frozen=True)
class Timeline:
    trace_id: str
    spans: tuple[Span, ...]

    @property
    def start(self) -> float:
        return min(span.start for span in self.spans)

    @property
    def end(self) -> float:
        return max(span.end or span.start for span in self.spans)

    def offset_ms(self, span: Span) -> float:
        return round((span.start - self.start) * 1000, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "traceId": self.trace_id,
            "durationMs": round((self.end - self.start) * 1000, 3),
            "spans": [
                {
                    "id": span.id,
                    "parentId": span.parent_id,
                    "name": span.name,
                    "operation": span.operation,
                    "namespace": span.namespace,
                    "depth": span.depth,
                    "offsetMs": self.offset_ms(span),
                    "durationMs": span.duration_ms,
                    "annotations": dict(span.annotations),
                    "error": span.error,
                    "fault": span.fault,
                    "inProgress": span.in_progress,
                }
                for span in self.spans
            ],
        }


def fetch_timeline(xray: Any, trace_id: str) -> Timeline:
    response = xray.batch_get_traces(TraceIds=[trace_id])
    documents: list[dict[str, Any]] = []
    for trace in response.get("Traces", []):
        for segment in trace.get("Segments", []):
            documents.append(json.loads(segment["Document"]))
    if not documents:
        raise TraceNotFoundError(
            f"X-Ray has no trace {trace_id} (traces are kept 30 days and appear "
            "a few seconds after the invocation)"
        )
    return build_timeline(trace_id, documents)


def build_timeline(trace_id: str, documents: Iterable[Mapping[str, Any]]) -> Timeline:
    """Flatten segment documents (nested or streamed subsegments) into a depth-first list."""
    nodes: dict[str, dict[str, Any]] = {}
    parents: dict[str, str | None] = {}

    def collect(document: Mapping[str, Any], parent: str | None) -> None:
        node_id = str(document["id"])
        known = nodes.get(node_id)
        # A streamed subsegment may arrive both alone and inside its parent; keep the
        # complete copy over an in-progress placeholder.
        if known is None or (known.get("in_progress") and not document.get("in_progress")):
            nodes[node_id] = {k: v for k, v in document.items() if k != "subsegments"}
        parents[node_id] = parent if parent is not None else parents.get(node_id)
        for child in document.get("subsegments", []) or []:
            collect(child, node_id)

    for document in documents:
        collect(
            document, document.get("parent_id") if document.get("type") == "subsegment" else None
        )
    children: dict[str | None, list[str]] = {}
    for node_id, parent in parents.items():
        children.setdefault(parent if parent in nodes else None, []).append(node_id)
    spans: list[Span] = []

    def walk(parent: str | None, depth: int) -> None:
        for node_id in sorted(
            children.get(parent, []), key=lambda n: float(nodes[n]["start_time"])
        ):
            node = nodes[node_id]
            spans.append(_span(node, parent, depth))
            walk(node_id, depth + 1)

    walk(None, 0)
    return Timeline(trace_id, tuple(spans))


def _span(node: Mapping[str, Any], parent: str | None, depth: int) -> Span:
    aws = node.get("aws") if isinstance(node.get("aws"), Mapping) else {}
    end = node.get("end_time")
    return Span(
        id=str(node["id"]),
        name=str(node.get("name", "?")),
        depth=depth,
        start=float(node["start_time"]),
        end=float(end) if end is not None else None,
        parent_id=parent,
        namespace=node.get("namespace"),
        annotations=dict(node.get("annotations") or {}),
        error=bool(node.get("error")),
        fault=bool(node.get("fault")),
        in_progress=bool(node.get("in_progress")),
        operation=str(aws["operation"]) if aws and aws.get("operation") else None,
    )


def console_url(region: str, trace_id: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#xray:traces/{trace_id}"
    )
