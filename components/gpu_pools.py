"""`GpuPools`: GPU capacity that scales to zero, spot with on-demand fallback, plus the GPU operator.

Why: GPUs are the expensive part of the platform. Every pool starts at zero nodes, is tainted
`nvidia.com/gpu=present:NoSchedule` so only GPU pods land there, and is labelled with its pool
name and capacity type so the runtime can target it (the `gpu_pools` entry of the profile).
Spot pools always have an on-demand twin (`<name>-ondemand`) unless config opts out (never in prod).
The NVIDIA GPU operator provides the device plugin and DCGM metrics on every cloud.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import gpu_karpenter
from components import k8s as kx
from components.config import GPU_TAINT, GpuPool, StackConfig, type_token

GPU_OPERATOR_NAMESPACE = "gpu-operator"


def pool_variants(pool: GpuPool) -> list[tuple[str, str]]:
    """(pool name, capacity) for the pool and its on-demand fallback, if any."""
    out = [(pool.name, "spot" if pool.spot else "on-demand")]
    if pool.fallback_name:
        out.append((pool.fallback_name, "on-demand"))
    return out


class GpuPools(pulumi.ComponentResource):
    """Node pools from `cfg.gpu_pools`; `profile_pools` is the `gpu_pools` list of the profile."""

    profile_pools: list[dict[str, Any]]

    def __init__(self, name: str, cfg: StackConfig, cluster: Any, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token("GpuPools"), name, None, opts)
        provider = cluster.provider
        self.profile_pools = []
        if cfg.cloud == "aws" and cfg.gpu_pools:
            nodeclass = gpu_karpenter.install(cfg, name, cluster, self, provider)
        for pool in cfg.gpu_pools:
            for weight, (pool_name, capacity) in zip((100, 10), pool_variants(pool)):
                if cfg.cloud == "aws":
                    gpu_karpenter.node_pool(
                        cfg, name, pool, pool_name, capacity, weight, self, provider, nodeclass
                    )
                elif cfg.cloud == "gcp":
                    self._gke_pool(cfg, name, cluster, pool, pool_name, capacity)
                self.profile_pools.append(
                    {
                        "name": pool_name,
                        "labels": {"conveyor.dev/pool": pool_name, "conveyor.dev/capacity": capacity},
                        "taints": [dict(GPU_TAINT)],
                        "accelerator": pool.accelerator,
                        "capacity": capacity,
                        "fallback": pool.fallback_name if pool_name == pool.name else None,
                        "gpus_per_node": pool.gpus_per_node,
                        "max_nodes": pool.max_nodes,
                    }
                )
        self._gpu_operator(name, cfg, provider)
        self.register_outputs({"pools": self.profile_pools})

    def _gke_pool(
        self, cfg: StackConfig, p: str, cluster: Any, pool: GpuPool, name: str, capacity: str
    ) -> None:
        gke = cluster.gcp
        labels = gpu_karpenter.pool_labels(pool, name, capacity)
        gcp.container.NodePool(
            f"{p}-{name}",
            name=name,
            project=gke.project,
            location=cfg.region,
            cluster=gke.name,
            initial_node_count=pool.min_nodes,
            autoscaling={
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                "location_policy": "ANY" if capacity == "spot" else "BALANCED",
            },  # fmt: skip
            management={"auto_repair": True, "auto_upgrade": True},
            node_config={
                "machine_type": cfg.pool_instance_type(pool),
                "spot": capacity == "spot",
                "guest_accelerators": [
                    {
                        "type": pool.accelerator,
                        "count": pool.gpus_per_node,
                        "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"},
                    }
                ],
                "labels": labels,
                "taints": [{"key": GPU_TAINT["key"], "value": GPU_TAINT["value"], "effect": "NO_SCHEDULE"}],
                "service_account": gke.node_service_account,
                "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                "workload_metadata_config": {"mode": "GKE_METADATA"},
            },
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )

    def _gpu_operator(self, p: str, cfg: StackConfig, provider: k8s.Provider) -> None:
        """GPU operator: device plugin + DCGM exporter. Drivers come from the node image on clouds."""
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        # The operator's validator/toolkit pods need host access: the namespace cannot be `restricted`.
        ns = kx.namespace(f"{p}-gpu-operator-ns", GPU_OPERATOR_NAMESPACE, "privileged", k8s_opts)
        values = {
            "driver": {"enabled": cfg.cloud == "existing"},
            "toolkit": {"enabled": cfg.cloud != "gcp"},
            "devicePlugin": {"enabled": cfg.cloud != "gcp"},  # GKE ships its own device plugin
            "dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": False}},
            "operator": {"resources": kx.resources("100m", "256Mi", "500m", "512Mi")},
            "daemonsets": {
                "tolerations": [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}]
            },
            "node-feature-discovery": {"worker": {"tolerations": [{"operator": "Exists"}]}},
        }
        kx.install(f"{p}-gpu-operator", cfg.versions.gpu_operator, cfg.source("gpu_operator"), GPU_OPERATOR_NAMESPACE,
                   values, pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[ns]))  # fmt: skip
