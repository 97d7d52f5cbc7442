"""Run one rule's Policy object on fixture props, the way the analyzer server would.

Why through the Policy object and `policy_props`, not the bare function: the fixtures then also
prove the catalog adapter (type filter, config defaults, URN -> stack) and that every rule works on
pulumi_policy's read-only proxy (Mapping/Sequence, numbers as floats), not only on plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from conveyor.platform.policy_runner import policy_props
from policies.rules.catalog import POLICIES

BY_NAME = {p.name: p for p in POLICIES}


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::conveyor::{type_}::{name}"


@dataclass(frozen=True)
class Case:
    """A resource fixture for one rule: does it violate, and (optionally) what the message says."""

    rule: str
    type: str
    props: dict[str, Any]
    violates: bool
    stack: str = "dev-aws"
    config: dict[str, Any] | None = None
    says: str = ""
    name: str = "res"

    def run(self) -> list[str]:
        messages: list[str] = []
        args = ResourceValidationArgs(
            self.type,
            policy_props(self.props),
            urn(self.stack, self.type, self.name),
            self.name,
            _opts(),
            None,
            self.config,
        )
        BY_NAME[self.rule].validate(args, lambda message, _urn=None: messages.append(message))
        return messages


@dataclass(frozen=True)
class Res:
    """One resource in a stack fixture; `deps` are names of resources it depends on."""

    type: str
    name: str
    props: dict[str, Any]
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackCase:
    """A stack fixture for one stack rule; `flagged` names the resources that must be reported."""

    rule: str
    resources: list[Res]
    flagged: tuple[str, ...]
    stack: str = "dev-aws"
    config: dict[str, Any] | None = None
    says: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def violates(self) -> bool:
        return bool(self.flagged)

    def run(self) -> list[tuple[str, str]]:
        views = {
            r.name: PolicyResource(
                r.type,
                policy_props(r.props),
                urn(self.stack, r.type, r.name),
                r.name,
                _opts(),
                None,
                None,
                [],
                {},
            )
            for r in self.resources
        }
        for r in self.resources:
            views[r.name].dependencies = [views[d] for d in r.deps]
        found: list[tuple[str, str]] = []
        by_urn = {v.urn: name for name, v in views.items()}
        args = StackValidationArgs(list(views.values()), self.config)
        BY_NAME[self.rule].validate(
            args, lambda message, u=None: found.append((by_urn.get(u or "", ""), message))
        )
        return found


def assert_case(case: Case | StackCase) -> None:
    """The fixture's verdict holds, and a violation's message mentions `says`."""
    found = case.run()
    if case.violates:
        assert found, f"{case.rule}: expected a violation, got none"
        text = " | ".join(str(f) for f in found)
        assert case.says.lower() in text.lower(), f"{case.rule}: {case.says!r} not in {text!r}"
        if isinstance(case, StackCase):
            assert sorted({name for name, _ in found}) == sorted(case.flagged), found
    else:
        assert not found, f"{case.rule}: expected compliance, got {found}"
