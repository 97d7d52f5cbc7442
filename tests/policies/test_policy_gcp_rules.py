"""GKE, GCS and Cloud SQL rules against violating and compliant fixtures."""

from __future__ import annotations

import pytest
from cases_gcp import CASES
from policy_harness import assert_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}-{'bad' if c.violates else 'ok'}")
def test_resource_rule(case):
    assert_case(case)
