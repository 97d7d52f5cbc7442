"""GKE: private nodes, a fenced control plane, Workload Identity and hardened node identity.

Why: a GKE cluster created with provider defaults has public node IPs, a control-plane endpoint
reachable from anywhere, pods that can read the node's credentials via the metadata server, nodes
running as the project's default compute service account (Editor on the whole project), and
Secrets stored without application-layer encryption.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import OPEN_CIDRS, Context, Rule, as_list, get, resource_rule, truthy

RULES: list[Rule] = []

GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"


def _autopilot(props: Mapping[str, Any]) -> bool:
    return truthy(get(props, "enableAutopilot"), default=False)


@resource_rule(
    RULES,
    id="gke-private-nodes",
    description="GKE nodes have no public IPs (privateClusterConfig.enablePrivateNodes).",
    severity="high",
    types=(GKE_CLUSTER,),
    remediation="Set private_cluster_config.enable_private_nodes=True with a master_ipv4_cidr_block.",
)
def private_nodes(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if not truthy(get(props, "privateClusterConfig", "enablePrivateNodes"), default=False):
        yield "privateClusterConfig.enablePrivateNodes is not true; nodes get public IPs"


@resource_rule(
    RULES,
    id="gke-master-authorized-networks",
    description="The GKE control plane is private or limited to authorized networks, never 0.0.0.0/0.",
    severity="critical",
    types=(GKE_CLUSTER,),
    remediation="Set master_authorized_networks_config.cidr_blocks to your VPN/office CIDRs.",
)
def master_authorized_networks(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if truthy(get(props, "privateClusterConfig", "enablePrivateEndpoint"), default=False):
        return
    if not truthy(get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled"), default=True):
        return
    man = get(props, "masterAuthorizedNetworksConfig")
    if man is None:
        yield "no masterAuthorizedNetworksConfig; the public control-plane endpoint accepts any source"
        return
    open_blocks = [b for b in as_list(get(man, "cidrBlocks")) if str(get(b, "cidrBlock")) in OPEN_CIDRS]
    if open_blocks:
        yield "masterAuthorizedNetworksConfig authorizes 0.0.0.0/0"


@resource_rule(
    RULES,
    id="gke-workload-identity",
    description="GKE clusters enable Workload Identity so pods never see the node's credentials.",
    severity="high",
    types=(GKE_CLUSTER,),
    remediation="Set workload_identity_config.workload_pool='<project>.svc.id.goog'.",
)
def workload_identity(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if _autopilot(props):
        return  # always on in Autopilot
    if not get(props, "workloadIdentityConfig", "workloadPool"):
        yield "workloadIdentityConfig.workloadPool is not set"


def _default_sa(account: Any) -> bool:
    text = str(account or "default")
    return text == "default" or text.endswith("-compute@developer.gserviceaccount.com")


@resource_rule(
    RULES,
    id="gke-node-service-account",
    description="GKE nodes run as a dedicated service account, not the default compute SA (project Editor).",
    severity="high",
    types=(GKE_CLUSTER, GKE_NODE_POOL),
    remediation="Create a minimal node service account and set node_config.service_account to its email.",
)
def node_service_account(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.resource_type == GKE_NODE_POOL:
        if _default_sa(get(props, "nodeConfig", "serviceAccount")):
            yield "nodeConfig.serviceAccount is unset or the default compute service account"
        return
    if _autopilot(props):
        account = get(props, "clusterAutoscaling", "autoProvisioningDefaults", "serviceAccount")
        if _default_sa(account):
            yield "Autopilot nodes use the default compute service account"
        return
    if truthy(get(props, "removeDefaultNodePool"), default=False) and get(props, "nodeConfig") is None:
        return  # the default pool is deleted right after creation; pools are checked on their own
    if _default_sa(get(props, "nodeConfig", "serviceAccount")):
        yield "the default node pool's nodeConfig.serviceAccount is unset or the default compute SA"


@resource_rule(
    RULES,
    id="gke-secrets-encryption",
    description="GKE encrypts Secrets at the application layer with a Cloud KMS key.",
    severity="high",
    types=(GKE_CLUSTER,),
    remediation="Set database_encryption={'state': 'ENCRYPTED', 'key_name': key.id}.",
)
def secrets_encryption(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if get(props, "databaseEncryption", "state") != "ENCRYPTED" or not get(
        props, "databaseEncryption", "keyName"
    ):
        yield "databaseEncryption is not ENCRYPTED with a keyName"


@resource_rule(
    RULES,
    id="gke-legacy-abac-disabled",
    description="GKE legacy ABAC stays off; it bypasses RBAC.",
    severity="high",
    types=(GKE_CLUSTER,),
    remediation="Remove enable_legacy_abac or set it to False.",
)
def legacy_abac_disabled(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if truthy(get(props, "enableLegacyAbac"), default=False):
        yield "enableLegacyAbac is true"


@resource_rule(
    RULES,
    id="gke-shielded-nodes",
    description="GKE nodes are Shielded VMs with integrity monitoring (both on by default; never turned off).",
    severity="medium",
    types=(GKE_CLUSTER, GKE_NODE_POOL),
    remediation="Leave enable_shielded_nodes and shielded_instance_config.enable_integrity_monitoring True.",
)
def shielded_nodes(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if ctx.resource_type == GKE_CLUSTER and not truthy(get(props, "enableShieldedNodes"), default=True):
        yield "enableShieldedNodes is false"
    monitoring = get(props, "nodeConfig", "shieldedInstanceConfig", "enableIntegrityMonitoring")
    if not truthy(monitoring, default=True):
        yield "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring is false"
