"""Every stack in stacks/ passes every mandatory rule of the pack (what `make test` enforces).

Why: this is the gate the issue asks for: a component change that makes any stack violate a
mandatory policy fails the suite with the rule, resource and message in the assertion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.platform import policy_runner as pr
from conveyor.platform.stack_files import list_stacks

ROOT = Path(__file__).resolve().parents[2]
STACKS = list_stacks(ROOT) if (ROOT / "Pulumi.yaml").exists() else []


def test_there_are_stacks_to_check():
    assert {"dev-aws", "prod-aws", "dev-gcp", "prod-gcp"} <= set(STACKS), STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_every_mandatory_rule(stack):
    report = pr.check_stack(stack, ROOT)
    assert not report.errors, report.errors
    assert report.resources > 0 and report.policies == len(pr.load_pack().policies)
    problems = [f"{v.rule} on {v.resource_type}::{v.resource_name}: {v.message}" for v in report.mandatory]
    assert problems == [], f"{stack} violates mandatory policies:\n" + "\n".join(problems)
