"""Turn the pure rules into pulumi_policy Policy objects: the one list both entry points share.

`policies/__main__.py` hands `POLICIES` to `PolicyPack` for `pulumi preview --policy-pack`, and the
offline runner (`conveyor.platform.policy_runner`) loads this module by path and calls the very same
objects' `validate`. So a rule can never behave differently offline than under the CLI, except
for the inputs it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import ALL_RULES
from ._core import Context, Rule, StackContext, StackResource, stack_of

PACK_NAME = "conveyor-platform"
PACK_DESCRIPTION = (
    "Guardrails for the conveyor ML platform: storage, databases, clusters, workloads, Helm, GPUs."
)
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


def _resource_validator(rule: Rule) -> Any:
    types = frozenset(rule.types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        ctx = Context(args.resource_type, args.name, args.urn, rule.merged_config(args.get_config()))
        for message in rule.check(args.props, ctx):
            report_violation(message, None)

    validate.__doc__ = rule.description
    return validate


def _stack_view(resource: Any) -> StackResource:
    return StackResource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=resource.props,
        dependencies=tuple(d.urn for d in resource.dependencies or ()),
        property_dependencies={
            k: tuple(d.urn for d in v) for k, v in (resource.property_dependencies or {}).items()
        },
    )


def _stack_validator(rule: Rule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        views = [_stack_view(r) for r in args.resources]
        stack = next((s for v in views if (s := stack_of(v.urn))), "")
        ctx = StackContext(stack, rule.merged_config(args.get_config()))
        for urn, message in rule.check(views, ctx):
            report_violation(message, urn)

    validate.__doc__ = rule.description
    return validate


def to_policy(rule: Rule) -> Policy:
    """The pulumi_policy object for one rule, carrying its level, severity and config schema."""
    common: dict[str, Any] = {
        "name": rule.id,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(rule.level),
        "severity": Severity(rule.severity),
        "config_schema": PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()})
        if rule.config
        else None,
        "remediation_steps": rule.remediation or None,
    }
    if rule.stack:
        return StackValidationPolicy(validate=_stack_validator(rule), **common)
    return ResourceValidationPolicy(validate=_resource_validator(rule), **common)


POLICIES: list[Policy] = [to_policy(rule) for rule in ALL_RULES]
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in ALL_RULES}
