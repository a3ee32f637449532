"""The baseline's rules wrapped as Pulumi policies (kept apart from `PolicyPack`, which
starts the analyzer server as soon as it is constructed)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RULES, STACK_RULES, ResourceCheck, Rule, StackCheck, StackRule

PACK_NAME = "filetrail-baseline"
PACK_DESCRIPTION = "FSBP and checkov controls that apply to the filetrail pipeline."


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
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


def stack_policy(rule: StackRule) -> StackValidationPolicy:
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


def policies() -> list[Policy]:
    return [resource_policy(r) for r in RULES] + [stack_policy(r) for r in STACK_RULES]
