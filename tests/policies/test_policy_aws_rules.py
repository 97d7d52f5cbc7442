"""S3, RDS, EKS and IAM rules against violating and compliant fixtures."""

from __future__ import annotations

import pytest
from cases_aws import CASES, STACK_CASES
from policy_harness import assert_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}-{'bad' if c.violates else 'ok'}")
def test_resource_rule(case):
    assert_case(case)


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda c: f"{c.rule}-{'bad' if c.violates else 'ok'}")
def test_stack_rule(case):
    assert_case(case)
