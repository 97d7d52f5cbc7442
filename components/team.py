"""`TeamNamespace`: one ML team's slice of the cluster.

Why: teams share GPUs, so each gets hard limits (ResourceQuota incl. `requests.nvidia.com/gpu`),
sane per-container defaults (LimitRange, so pods without requests are still admitted and bounded),
Pod Security admission at `restricted`, and a NetworkPolicy that keeps other namespaces out and
blocks the cloud metadata endpoint (credentials come from IRSA / Workload Identity, never IMDS).
The workflow service account carries the cloud-identity annotation; nothing else in the namespace
can assume the cloud role.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.config import WORKFLOW_SERVICE_ACCOUNT, Team, type_token

METADATA_IP = "169.254.169.254/32"


class TeamNamespace(pulumi.ComponentResource):
    """Namespace `ml-<team>` with its workflow service account, quota, limits and network policy."""

    def __init__(
        self,
        name: str,
        team: Team,
        provider: k8s.Provider,
        sa_annotations: pulumi.Input[dict[str, str]] | None = None,
        platform_namespaces: list[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("TeamNamespace"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        ns_name = team.namespace
        self.namespace = kx.namespace(
            f"{name}-ns", ns_name, "restricted", child, **{"conveyor.dev/team": team.name}
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.namespace])
        meta = lambda n: {"name": n, "namespace": ns_name, "labels": {"conveyor.dev/team": team.name}}  # noqa: E731
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-workflow-sa",
            metadata={**meta(WORKFLOW_SERVICE_ACCOUNT), "annotations": sa_annotations or {}},
            automount_service_account_token=True,
            opts=in_ns,
        )
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("conveyor-quota"),
            spec={
                "hard": {
                    "requests.cpu": team.cpu_quota,
                    "limits.cpu": team.cpu_quota,
                    "requests.memory": team.memory_quota,
                    "limits.memory": team.memory_quota,
                    "requests.nvidia.com/gpu": str(team.gpu_quota),
                    "limits.nvidia.com/gpu": str(team.gpu_quota),
                    "pods": str(team.max_pods),
                    "persistentvolumeclaims": "20",
                    "services.loadbalancers": "0",
                    "services.nodeports": "0",
                }
            },
            opts=in_ns,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("conveyor-limits"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "defaultRequest": {"cpu": "250m", "memory": "512Mi"},
                        "default": {"cpu": "2", "memory": "4Gi"},
                        "max": {"cpu": "64", "memory": "512Gi"},
                    }
                ]
            },
            opts=in_ns,
        )
        allowed_from = [{"podSelector": {}}] + [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
            for ns in (platform_namespaces or [])
        ]
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=meta("conveyor-default"),
            spec={
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": allowed_from}],
                "egress": [
                    {
                        "to": [
                            {"namespaceSelector": {}},
                            {"ipBlock": {"cidr": "0.0.0.0/0", "except": [METADATA_IP]}},
                        ]
                    }
                ],
            },
            opts=in_ns,
        )
        self.namespace_name = ns_name
        self.register_outputs({"namespace": ns_name, "service_account": WORKFLOW_SERVICE_ACCOUNT})
