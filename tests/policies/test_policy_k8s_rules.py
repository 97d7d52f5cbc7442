"""Workload, namespace, RBAC, Helm and GPU-pool rules against violating and compliant fixtures."""

from __future__ import annotations

import pytest
from cases_k8s import CASES, STACK_CASES
from policy_harness import assert_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}-{'bad' if c.violates else 'ok'}")
def test_resource_rule(case):
    assert_case(case)


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda c: f"{c.rule}-{'bad' if c.violates else 'ok'}")
def test_stack_rule(case):
    assert_case(case)
