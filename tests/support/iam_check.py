"""A small IAM evaluator for identity policies made of Allow statements.

It answers two questions about a policy and a list of recorded AWS calls
`(service, operation, resource_arn)` — the shape a botocore event-hook recorder produces:
is every call allowed, and does the policy allow any action no call needed? Deny
statements, conditions, NotAction/NotResource are outside its scope and rejected loudly.
"""

from __future__ import annotations

import fnmatch
import gc
import importlib
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RecordedCall = tuple[str, str, str]

# Some API operations are authorised as other IAM actions.
_OPERATION_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("s3:GetObject",),
}


class UnsupportedPolicy(ValueError):
    """The policy uses a feature this evaluator does not model."""


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(policy: Mapping[str, Any]) -> list[Statement]:
    parsed = []
    for raw in _as_list_of_dicts(policy["Statement"]):
        unsupported = set(raw) - {"Sid", "Effect", "Action", "Resource"}
        if raw.get("Effect") != "Allow" or unsupported:
            raise UnsupportedPolicy(f"only plain Allow statements are modelled: {raw}")
        parsed.append(
            Statement(
                actions=tuple(a.lower() for a in _as_list(raw["Action"])),
                resources=tuple(_as_list(raw["Resource"])),
            )
        )
    return parsed


def _as_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else list(value)


def _matches(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    # IAM wildcards: * any run of characters (including ':' and '/'), ? one character.
    if case_sensitive:
        return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def is_allowed(policy: Mapping[str, Any], action: str, resource_arn: str) -> bool:
    return any(
        any(_matches(a, action, case_sensitive=False) for a in s.actions)
        and any(_matches(r, resource_arn, case_sensitive=True) for r in s.resources)
        for s in statements(policy)
    )


def required_actions(
    service: str, operation: str, extra: Mapping[tuple[str, str], Iterable[str]] | None = None
) -> tuple[str, ...]:
    table = {**_OPERATION_ACTIONS, **(extra or {})}
    if (service, operation) in table:
        return tuple(table[(service, operation)])
    return (f"{service}:{operation}",)


@dataclass(frozen=True)
class Report:
    denied: list[tuple[str, str]]  # (action, resource) the policy does not allow
    # Granted actions no recorded call needed; a wildcard grant always counts as one.
    unused: list[str]

    @property
    def ok(self) -> bool:
        return not self.denied and not self.unused


def check(
    policy: Mapping[str, Any],
    calls: Iterable[RecordedCall],
    *,
    ignore_services: Iterable[str] = (),
    operation_actions: Mapping[tuple[str, str], Iterable[str]] | None = None,
) -> Report:
    """Every call allowed; every granted action (outside `ignore_services`) exercised.

    `operation_actions` maps a recorded (service, operation) to the IAM actions it needs,
    for operations whose action differs from their name (HeadObject is s3:GetObject).
    """
    ignored = {s.lower() for s in ignore_services}
    needed: set[str] = set()
    denied = []
    for service, operation, resource in calls:
        for action in required_actions(service, operation, operation_actions):
            needed.add(action.lower())
            if not is_allowed(policy, action, resource):
                denied.append((action, resource))
    granted = {a for s in statements(policy) for a in s.actions}
    unused = sorted(a for a in granted if a.split(":", 1)[0] not in ignored and a not in needed)
    return Report(denied=denied, unused=unused)


def parliament_findings(policy: Mapping[str, Any]) -> list[str]:
    """parliament's findings for an identity policy, as strings (empty when clean)."""
    # parliament leaves its data files open at import; close them before pytest sees it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        parliament = importlib.import_module("parliament")
        gc.collect()
    analyze_policy_string = parliament.analyze_policy_string
    return [str(finding) for finding in analyze_policy_string(json.dumps(policy)).findings]


def retarget(calls: Iterable[RecordedCall], arns: Mapping[str, str]) -> list[RecordedCall]:
    """Point calls recorded against an emulator at the deployed stack's resources.

    `arns` maps a recorded resource ARN (the emulator's bucket, table, queue) to the stack's;
    a call on an object keeps its key: `arn:aws:s3:::local/k` -> `arn:aws:s3:::deployed/k`.
    """
    retargeted = []
    for service, operation, recorded_resource in calls:
        resource = recorded_resource
        for recorded, deployed in arns.items():
            if resource == recorded or resource.startswith(recorded + "/"):
                resource = deployed + resource[len(recorded) :]
                break
        retargeted.append((service, operation, resource))
    return retargeted
