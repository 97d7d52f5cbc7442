"""EKS on a private VPC: the AWS half of `Cluster` (plain functions, parented to the component).

Why these choices: nodes live in private subnets behind NAT; the API endpoint is private unless
`network.api_allowed_cidrs` opens it to named CIDRs; Kubernetes secrets are envelope-encrypted
with a customer KMS key; control-plane audit logs go to CloudWatch; an IAM OIDC provider lets
pods assume IAM roles (IRSA) instead of carrying static keys.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import StackConfig

EKS_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@dataclass
class AwsCluster:
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    ca_data: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]  # without https://
    cluster_security_group_id: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    node_role_arn: pulumi.Output[str]
    node_role_name: pulumi.Output[str]


def _assume(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _network(cfg: StackConfig, p: str, opts: pulumi.ResourceOptions, tags: dict) -> tuple:
    azs = aws.get_availability_zones(state="available")
    vpc = aws.ec2.Vpc(f"{p}-vpc", cidr_block=cfg.network.vpc_cidr, enable_dns_hostnames=True,
                      enable_dns_support=True, tags={**tags, "Name": f"{p}-vpc"}, opts=opts)  # fmt: skip
    igw = aws.ec2.InternetGateway(f"{p}-igw", vpc_id=vpc.id, tags=tags, opts=opts)
    public_rt = aws.ec2.RouteTable(
        f"{p}-public",
        vpc_id=vpc.id,
        routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
        tags=tags,
        opts=opts,
    )
    subnets = list(ipaddress.ip_network(cfg.network.vpc_cidr).subnets(new_prefix=20))
    nat_count = cfg.network.availability_zones if cfg.environment == "prod" else 1
    private_ids, nats = [], []
    for i in range(cfg.network.availability_zones):
        az = azs.names[i]
        pub = aws.ec2.Subnet(f"{p}-public-{i}", vpc_id=vpc.id, cidr_block=str(subnets[8 + i]), availability_zone=az,
                             map_public_ip_on_launch=False, tags={**tags, "kubernetes.io/role/elb": "1"}, opts=opts)  # fmt: skip
        aws.ec2.RouteTableAssociation(
            f"{p}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=opts
        )
        if i < nat_count:
            eip = aws.ec2.Eip(f"{p}-nat-{i}", domain="vpc", tags=tags, opts=opts)
            nats.append(
                aws.ec2.NatGateway(
                    f"{p}-nat-{i}", subnet_id=pub.id, allocation_id=eip.id, tags=tags, opts=opts
                )
            )
        priv = aws.ec2.Subnet(
            f"{p}-private-{i}", vpc_id=vpc.id, cidr_block=str(subnets[i]), availability_zone=az,
            tags={**tags, "kubernetes.io/role/internal-elb": "1", "karpenter.sh/discovery": cfg.name}, opts=opts,
        )  # fmt: skip
        rt = aws.ec2.RouteTable(f"{p}-private-{i}", vpc_id=vpc.id, tags=tags, opts=opts,
                                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[min(i, nat_count - 1)].id}])  # fmt: skip
        aws.ec2.RouteTableAssociation(f"{p}-private-{i}", subnet_id=priv.id, route_table_id=rt.id, opts=opts)
        private_ids.append(priv.id)
    return vpc, private_ids


def build(cfg: StackConfig, p: str, opts: pulumi.ResourceOptions) -> AwsCluster:
    tags = {"conveyor.dev/stack": pulumi.get_stack(), "conveyor.dev/environment": cfg.environment}
    vpc, private_ids = _network(cfg, p, opts, tags)

    key = aws.kms.Key(f"{p}-secrets", description=f"{cfg.name} EKS secrets envelope encryption",
                      enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=opts)  # fmt: skip
    role = aws.iam.Role(
        f"{p}-control-plane", assume_role_policy=_assume("eks.amazonaws.com"), tags=tags, opts=opts
    )
    attach = aws.iam.RolePolicyAttachment(
        f"{p}-control-plane",
        role=role.name,
        policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        opts=opts,
    )
    logs = aws.cloudwatch.LogGroup(f"{p}-audit", name=f"/aws/eks/{cfg.name}/cluster",
                                   retention_in_days=90 if cfg.environment == "prod" else 14, tags=tags, opts=opts)  # fmt: skip
    public = bool(cfg.network.api_allowed_cidrs)
    eks = aws.eks.Cluster(
        f"{p}-eks",
        name=cfg.name,
        version=cfg.versions.kubernetes,
        role_arn=role.arn,
        vpc_config={
            "subnet_ids": private_ids,
            "endpoint_private_access": True,
            "endpoint_public_access": public,
            "public_access_cidrs": cfg.network.api_allowed_cidrs if public else None,
        },
        encryption_config={"resources": ["secrets"], "provider": {"key_arn": key.arn}},
        enabled_cluster_log_types=["api", "audit", "authenticator", "controllerManager", "scheduler"],
        access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[attach, logs])),
    )
    issuer = eks.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
    oidc = aws.iam.OpenIdConnectProvider(
        f"{p}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"], thumbprint_lists=[EKS_THUMBPRINT],
        tags=tags, opts=opts,
    )  # fmt: skip

    node_role = aws.iam.Role(
        f"{p}-nodes", assume_role_policy=_assume("ec2.amazonaws.com"), tags=tags, opts=opts
    )
    node_policies = [
        aws.iam.RolePolicyAttachment(
            f"{p}-nodes-{short}",
            role=node_role.name,
            policy_arn=f"arn:aws:iam::aws:policy/{policy}",
            opts=opts,
        )  # fmt: skip
        for short, policy in (
            ("worker", "AmazonEKSWorkerNodePolicy"),
            ("cni", "AmazonEKS_CNI_Policy"),
            ("ecr", "AmazonEC2ContainerRegistryReadOnly"),
            ("ssm", "AmazonSSMManagedInstanceCore"),
        )
    ]
    aws.eks.NodeGroup(
        f"{p}-system",
        cluster_name=eks.name,
        node_role_arn=node_role.arn,
        subnet_ids=private_ids,
        instance_types=[cfg.system_instance_type],
        capacity_type="ON_DEMAND",
        ami_type="AL2023_x86_64_STANDARD",
        scaling_config={"min_size": cfg.system_pool.min_nodes, "max_size": cfg.system_pool.max_nodes,
                        "desired_size": cfg.system_pool.min_nodes},  # fmt: skip
        labels={"conveyor.dev/pool": "system", "conveyor.dev/capacity": "on-demand"},
        tags=tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=node_policies,
                                                                       ignore_changes=["scalingConfig.desiredSize"])),
    )  # fmt: skip
    return AwsCluster(
        name=eks.name,
        endpoint=eks.endpoint,
        ca_data=eks.certificate_authority.apply(lambda ca: ca.data),
        oidc_provider_arn=oidc.arn,
        oidc_issuer=issuer.apply(lambda u: u.removeprefix("https://")),
        cluster_security_group_id=eks.vpc_config.apply(lambda v: v.cluster_security_group_id),
        vpc_id=vpc.id,
        private_subnet_ids=private_ids,
        node_role_arn=node_role.arn,
        node_role_name=node_role.name,
    )


def kubeconfig(c: AwsCluster, region: str) -> pulumi.Output[str]:
    """A kubeconfig using `aws eks get-token` (no static credentials inside), marked secret."""
    return pulumi.Output.secret(
        pulumi.Output.all(c.name, c.endpoint, c.ca_data).apply(
            lambda a: json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": a[0], "cluster": {"server": a[1], "certificate-authority-data": a[2]}}
                    ],
                    "contexts": [{"name": a[0], "context": {"cluster": a[0], "user": a[0]}}],
                    "current-context": a[0],
                    "users": [
                        {
                            "name": a[0],
                            "user": {
                                "exec": {
                                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                                    "command": "aws",
                                    "args": ["eks", "get-token", "--cluster-name", a[0], "--region", region],
                                }
                            },
                        }
                    ],
                }
            )
        )
    )
