"""`Platform`: the whole conveyor platform for one stack, composed from `StackConfig`.

Why a single composing component: `__main__.py` stays wiring only, and the order of concerns is
explicit in one place: cluster, artifact bucket, the cloud identity for workflow pods, team
namespaces, metadata DB, GPU pools, Argo, monitoring. The `profile` it builds is the contract with
ML teams (see ARCHITECTURE.md): key names are fixed, secrets stay Pulumi secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.argo import OBJECT_STORE_SECRET, ArgoWorkflows
from components.cluster import Cluster
from components.config import WORKFLOW_SERVICE_ACCOUNT, StackConfig, type_token
from components.gpu_pools import GPU_OPERATOR_NAMESPACE, GpuPools
from components.identity import WorkflowIdentity
from components.image_registry import ImageRegistry
from components.metadata_db import MetadataDb
from components.monitoring import Monitoring
from components.object_store import ObjectStore
from components.team import TeamNamespace

PLATFORM_NAMESPACES = ["monitoring"]  # plus the Argo namespace (`argo.namespace`)


@dataclass
class PlatformSecrets:
    """Secret stack config (`pulumi config set --secret ...`), passed through as Pulumi secrets."""

    kubeconfig: pulumi.Input[str] | None = None
    slack_webhook_url: pulumi.Input[str] | None = None
    object_store_secret_access_key: pulumi.Input[str] | None = None
    database_password: pulumi.Input[str] | None = None


class Platform(pulumi.ComponentResource):
    """Everything for one stack; `profile` (default team) and `team_profiles` are the stack outputs."""

    profile: dict[str, Any]
    team_profiles: dict[str, dict[str, Any]]

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        secrets: PlatformSecrets | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("Platform"), name, None, opts)
        secrets = secrets or PlatformSecrets()
        child = pulumi.ResourceOptions(parent=self)
        cluster = Cluster("cluster", cfg, kubeconfig=secrets.kubeconfig, opts=child)
        store = ObjectStore("store", cfg, provider=cluster.provider,
                            secret_access_key=secrets.object_store_secret_access_key, opts=child)  # fmt: skip
        identity = WorkflowIdentity("identity", cfg, cluster, store, opts=child)
        teams = [
            TeamNamespace(
                f"team-{t.name}",
                t,
                cluster.provider,
                sa_annotations=identity.annotations,
                platform_namespaces=[cfg.argo.namespace, *PLATFORM_NAMESPACES],
                opts=child,
            )  # fmt: skip
            for t in cfg.teams
        ]
        registry = ImageRegistry("registry", cfg, _image_pullers(cfg, cluster, identity), opts=child)
        db = MetadataDb("metadata", cfg, cluster, store=store, password=secrets.database_password, opts=child)
        gpus = GpuPools("gpu", cfg, cluster, opts=child)
        argo = ArgoWorkflows("argo", cfg, cluster.provider, store, db, teams, opts=child)
        monitoring = Monitoring("monitoring", cfg, cluster.provider, argo.namespace, GPU_OPERATOR_NAMESPACE,
                                slack_webhook_url=secrets.slack_webhook_url, opts=child)  # fmt: skip

        self.cluster, self.store, self.db, self.gpus, self.argo = cluster, store, db, gpus, argo
        self.team_profiles = {}
        for team in cfg.teams:
            profile: dict[str, Any] = {
                "cloud": cfg.cloud,
                "region": cfg.region,
                "environment": cfg.environment,
                "kubeconfig": cluster.kubeconfig,
                "namespace": team.namespace,
                "service_account": WORKFLOW_SERVICE_ACCOUNT,
                "artifact_root": store.artifact_root,
                "metadata_url": db.url,
                "pushgateway_url": monitoring.pushgateway_url,
                "gpu_pools": gpus.profile_pools,
                "argo_namespace": argo.namespace,
                "argo_server_url": argo.server_url,
                "team": team.name,
            }
            if registry.url is not None:
                profile["image_registry"] = registry.url
            if store.endpoint is not None:
                profile["artifact_endpoint"] = store.endpoint
            if store.access_key_id is not None:  # S3-compatible keys reach the pods through this Secret
                profile["pod_env_secret"] = OBJECT_STORE_SECRET
            if cfg.argo.instance_id:
                profile["argo_instance_id"] = cfg.argo.instance_id
            self.team_profiles[team.name] = profile
        self.profile = self.team_profiles[cfg.primary_team.name]
        self.register_outputs({"profile": self.profile})


def _image_pullers(cfg: StackConfig, cluster: Cluster, identity: WorkflowIdentity) -> list[pulumi.Input[str]]:
    """Who may pull task images: the nodes' identity (the kubelet pulls) and the workflow identity."""
    if cfg.cloud == "aws":
        return [cluster.aws.node_role_arn, identity.role.arn]
    if cfg.cloud == "gcp":
        nodes = cluster.gcp.node_service_account.apply(lambda email: f"serviceAccount:{email}")
        return [nodes, identity.account.member]
    return []
