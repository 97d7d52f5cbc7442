"""The conveyor platform rules as pure functions, grouped by concern, plus `ALL_RULES`.

This package never imports pulumi_policy (only `catalog` does), so every rule can be tested with
plain dicts. It uses relative imports only, so it loads the same way whether the Pulumi CLI runs
`policies/` as a program (which puts `policies/` on sys.path), the tests import `policies.rules`,
or the offline runner loads it by path under a private name.
"""

from __future__ import annotations

from . import aws_eks, aws_rds, aws_s3, gcp_data, gcp_gke, gpu_pools, helm, k8s_access, k8s_workloads
from ._core import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    rule
    for module in (aws_s3, aws_rds, aws_eks, gcp_gke, gcp_data, k8s_workloads, k8s_access, helm, gpu_pools)
    for rule in module.RULES
)


def _check_unique() -> None:
    seen: set[str] = set()
    for rule in ALL_RULES:
        if rule.id in seen:
            raise ValueError(f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)


_check_unique()
