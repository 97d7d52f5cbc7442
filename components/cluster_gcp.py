"""Private GKE: the GCP half of `Cluster` (plain functions, parented to the component).

Why these choices: private nodes with Cloud NAT egress; the control plane reachable only from
`network.api_allowed_cidrs` (private endpoint when empty); Workload Identity instead of node
credentials; shielded nodes; a release channel for managed upgrades; network policy enforcement
(team namespaces rely on NetworkPolicy); application-layer secrets encryption with Cloud KMS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.config import StackConfig


@dataclass
class GcpCluster:
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    ca_data: pulumi.Output[str]
    network_id: pulumi.Output[str]
    node_service_account: pulumi.Output[str]
    workload_pool: str
    project: str


def build(cfg: StackConfig, p: str, opts: pulumi.ResourceOptions) -> GcpCluster:
    project = cfg.gcp_project or ""
    labels = {"conveyor-stack": pulumi.get_stack().replace(".", "-"), "conveyor-environment": cfg.environment}
    network = gcp.compute.Network(f"{p}-network", project=project, auto_create_subnetworks=False, opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{p}-nodes",
        project=project,
        region=cfg.region,
        network=network.id,
        ip_cidr_range=cfg.network.vpc_cidr,
        private_ip_google_access=True,
        secondary_ip_ranges=[
            {"range_name": "pods", "ip_cidr_range": "10.100.0.0/14"},
            {"range_name": "services", "ip_cidr_range": "10.104.0.0/20"},
        ],
        log_config={"aggregation_interval": "INTERVAL_5_MIN", "flow_sampling": 0.5},
        opts=opts,
    )
    router = gcp.compute.Router(
        f"{p}-router", project=project, region=cfg.region, network=network.id, opts=opts
    )
    gcp.compute.RouterNat(
        f"{p}-nat", project=project, region=cfg.region, router=router.name,
        nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
        log_config={"enable": True, "filter": "ERRORS_ONLY"}, opts=opts,
    )  # fmt: skip

    project_info = gcp.organizations.get_project(project_id=project)
    ring = gcp.kms.KeyRing(f"{p}-keys", project=project, location=cfg.region, opts=opts)
    key = gcp.kms.CryptoKey(f"{p}-secrets", key_ring=ring.id, rotation_period="7776000s", opts=opts)
    grant = gcp.kms.CryptoKeyIAMMember(
        f"{p}-secrets-gke", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=f"serviceAccount:service-{project_info.number}@container-engine-robot.iam.gserviceaccount.com",
        opts=opts,
    )  # fmt: skip

    nodes_sa = gcp.serviceaccount.Account(f"{p}-nodes", project=project, account_id=f"{cfg.name}-nodes",
                                          display_name="GKE nodes (least privilege)", opts=opts)  # fmt: skip
    for role in (
        "logging.logWriter",
        "monitoring.metricWriter",
        "monitoring.viewer",
        "artifactregistry.reader",
    ):
        gcp.projects.IAMMember(f"{p}-nodes-{role.split('.')[1]}", project=project, role=f"roles/{role}",
                               member=nodes_sa.member, opts=opts)  # fmt: skip

    authorized = cfg.network.api_allowed_cidrs
    cluster = gcp.container.Cluster(
        f"{p}-gke",
        name=cfg.name,
        project=project,
        location=cfg.region,
        network=network.id,
        subnetwork=subnet.id,
        remove_default_node_pool=True,
        initial_node_count=1,
        deletion_protection=cfg.deletion_protection,
        release_channel={"channel": "STABLE" if cfg.environment == "prod" else "REGULAR"},
        min_master_version=cfg.versions.kubernetes,
        private_cluster_config={
            "enable_private_nodes": True,
            "enable_private_endpoint": not authorized,
            "master_ipv4_cidr_block": cfg.network.master_cidr,
        },
        master_authorized_networks_config={
            "cidr_blocks": [
                {"cidr_block": c, "display_name": f"allowed-{i}"} for i, c in enumerate(authorized)
            ],
        },
        ip_allocation_policy={
            "cluster_secondary_range_name": "pods",
            "services_secondary_range_name": "services",
        },
        workload_identity_config={"workload_pool": f"{project}.svc.id.goog"},
        enable_shielded_nodes=True,
        network_policy={"enabled": True, "provider": "CALICO"},
        addons_config={"network_policy_config": {"disabled": False}},
        database_encryption={"state": "ENCRYPTED", "key_name": key.id},
        logging_config={"enable_components": ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER"]},
        resource_labels=labels,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[grant])),
    )
    gcp.container.NodePool(
        f"{p}-system",
        project=project,
        location=cfg.region,
        cluster=cluster.name,
        initial_node_count=cfg.system_pool.min_nodes,
        autoscaling={
            "min_node_count": cfg.system_pool.min_nodes,
            "max_node_count": cfg.system_pool.max_nodes,
        },
        management={"auto_repair": True, "auto_upgrade": True},
        node_config={
            "machine_type": cfg.system_instance_type,
            "service_account": nodes_sa.email,
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "labels": {"conveyor.dev/pool": "system", "conveyor.dev/capacity": "on-demand"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        },
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["initialNodeCount"])),
    )
    return GcpCluster(
        name=cluster.name,
        endpoint=cluster.endpoint,
        ca_data=cluster.master_auth.apply(lambda m: m.cluster_ca_certificate),
        network_id=network.id,
        node_service_account=nodes_sa.email,
        workload_pool=f"{project}.svc.id.goog",
        project=project,
    )


def kubeconfig(c: GcpCluster) -> pulumi.Output[str]:
    """A kubeconfig using `gke-gcloud-auth-plugin` (no static credentials inside), marked secret."""
    return pulumi.Output.secret(
        pulumi.Output.all(c.name, c.endpoint, c.ca_data).apply(
            lambda a: json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": a[0],
                            "cluster": {"server": f"https://{a[1]}", "certificate-authority-data": a[2]},
                        }
                    ],
                    "contexts": [{"name": a[0], "context": {"cluster": a[0], "user": a[0]}}],
                    "current-context": a[0],
                    "users": [
                        {
                            "name": a[0],
                            "user": {
                                "exec": {
                                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                                    "command": "gke-gcloud-auth-plugin",
                                    "provideClusterInfo": True,
                                }
                            },
                        }
                    ],
                }
            )
        )
    )
