"""A matcher for the subset of CloudWatch Logs JSON filter-pattern syntax filetrail uses.

Supported: `{ TERM && TERM ... }` where TERM is `$.field[.sub] OP VALUE`, OP one of
`=`, `!=`, `<`, `<=`, `>`, `>=`, and VALUE a double-quoted string (equality only) or a
number (any OP). Like CloudWatch, a term whose selector is missing from the event never
matches, and numeric operators never match a non-numeric value. Anything outside this
subset raises `UnsupportedPattern`, so a filter that drifts beyond it fails its test instead
of being silently mis-evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(
    r"""^\s*\$\.(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
        \s*(?P<op>!=|<=|>=|=|<|>)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)\s*$""",
    re.VERBOSE,
)
_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_MISSING = object()


class UnsupportedPattern(ValueError):
    """The pattern uses syntax this matcher does not implement."""


@dataclass(frozen=True)
class Term:
    path: tuple[str, ...]
    op: str
    value: str | float

    def matches(self, event: Any) -> bool:
        actual = select(event, self.path)
        if actual is _MISSING:
            return False
        if isinstance(self.value, str):
            if not isinstance(actual, str):
                return False
            return (actual == self.value) == (self.op == "=")
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        return _NUMERIC_OPS[self.op](float(actual), self.value)


def select(event: Any, path: tuple[str, ...]) -> Any:
    current = event
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def parse(pattern: str) -> list[Term]:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise UnsupportedPattern(f"not a JSON filter pattern: {pattern!r}")
    body = text[1:-1]
    if "||" in body or "(" in body or ")" in body:
        raise UnsupportedPattern(f"only && conjunctions are supported: {pattern!r}")
    terms = []
    for raw in body.split("&&"):
        found = _TERM.match(raw)
        if found is None:
            raise UnsupportedPattern(f"unsupported term {raw.strip()!r} in {pattern!r}")
        literal = found["value"]
        op = found["op"]
        if literal.startswith('"'):
            value: str | float = json.loads(literal)
            if op not in {"=", "!="}:
                raise UnsupportedPattern(f"strings compare with = or != only: {raw.strip()!r}")
            if "*" in str(value):
                raise UnsupportedPattern(f"wildcards are not supported: {raw.strip()!r}")
        else:
            value = float(literal)
        terms.append(Term(path=tuple(found["path"].split(".")), op=op, value=value))
    return terms


def matches(pattern: str, log_line: str) -> bool:
    """Whether CloudWatch would count `log_line` (one JSON object) for `pattern`."""
    terms = parse(pattern)
    try:
        event = json.loads(log_line)
    except json.JSONDecodeError:
        return False
    return isinstance(event, dict) and all(term.matches(event) for term in terms)


def extract(selector: str, log_line: str) -> Any:
    """The value a metric transformation such as `$.durationMs` publishes, or None."""
    if not selector.startswith("$."):
        raise UnsupportedPattern(f"not a JSON selector: {selector!r}")
    value = select(json.loads(log_line), tuple(selector[2:].split(".")))
    return None if value is _MISSING else value
