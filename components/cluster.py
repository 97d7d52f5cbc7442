"""`Cluster`: the Kubernetes cluster and a Kubernetes provider bound to it.

Why one interface over three backends: every other component only needs a provider, a kubeconfig
and (on clouds) the identity plumbing (OIDC issuer / workload pool). EKS, GKE and "an existing
cluster from a kubeconfig" differ behind this one class; the rest of the program does not branch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components import cluster_aws, cluster_gcp
from components.config import StackConfig, type_token


class Cluster(pulumi.ComponentResource):
    """EKS, GKE or an existing cluster; exposes `provider`, `kubeconfig` (secret) and identity data."""

    kubeconfig: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        kubeconfig: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("Cluster"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.aws: cluster_aws.AwsCluster | None = None
        self.gcp: cluster_gcp.GcpCluster | None = None
        if cfg.cloud == "aws":
            self.aws = cluster_aws.build(cfg, name, child)
            self.kubeconfig = cluster_aws.kubeconfig(self.aws, cfg.region)
            self.name = self.aws.name
        elif cfg.cloud == "gcp":
            self.gcp = cluster_gcp.build(cfg, name, child)
            self.kubeconfig = cluster_gcp.kubeconfig(self.gcp)
            self.name = self.gcp.name
        else:
            self.kubeconfig = pulumi.Output.secret(
                kubeconfig if kubeconfig is not None else _local_kubeconfig()
            )
            self.name = pulumi.Output.from_input(cfg.kubeconfig_context or cfg.name)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=cfg.kubeconfig_context if cfg.cloud == "existing" else None,
            enable_server_side_apply=True,
            delete_unreachable=cfg.environment == "dev",
            opts=child,
        )
        self.register_outputs({"name": self.name, "kubeconfig": self.kubeconfig})


def _local_kubeconfig() -> str:
    """The kubeconfig of the machine running `pulumi up` ($KUBECONFIG or ~/.kube/config).

    An existing cluster is reached with the operator's own kubeconfig unless the stack sets the
    secret `kubeconfig`. Offline (no file) the provider falls back to its ambient discovery.
    """
    path = Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]).expanduser()
    if path.is_file():
        return path.read_text()
    pulumi.log.warn(f"no kubeconfig at {path}; set `pulumi config set --secret kubeconfig < FILE`")
    return ""
