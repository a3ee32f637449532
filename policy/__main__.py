"""The policy pack entry point: `pulumi preview --policy-pack policy`."""

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# Pulumi runs the pack as a script from this directory; the rules live in the `policy`
# package so tests can import them, which needs the repository root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.rules import RULES, STACK_RULES, ResourceCheck, Rule, StackCheck, StackRule


def _resource_validator(rule: Rule) -> ResourceValidationPolicy:
    check: ResourceCheck = rule.check

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in rule.resource_types:
            for message in check(args.resource_type, args.props):
                report(message, None)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=(
            EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY
        ),
    )


def _stack_validator(rule: StackRule) -> StackValidationPolicy:
    check: StackCheck = rule.check

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message in check([(r.resource_type, r.props) for r in args.resources]):
            report(message, None)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


PolicyPack(
    name="filetrail-baseline",
    description="FSBP and checkov controls that apply to the filetrail pipeline.",
    policies=[_resource_validator(r) for r in RULES] + [_stack_validator(r) for r in STACK_RULES],
)
