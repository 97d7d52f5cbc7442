"""Karpenter on EKS (plain functions used by `GpuPools`): controller, interruption queue, NodePools.

Why Karpenter: GPU pools must scale to zero and launch the right instance in seconds. Spot capacity
is reclaimed with two minutes' notice; the SQS queue fed by EventBridge lets Karpenter drain nodes
before that happens. Each spot NodePool has an on-demand twin with a lower weight: pods that only
ask for the accelerator land on spot first and on on-demand when spot is unavailable; pods that pin
`conveyor.dev/pool` get exactly that pool (the runtime retries on the `fallback` pool).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.config import GPU_TAINT, GpuPool, StackConfig

NAMESPACE = "karpenter"
_EVENTS = {
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
}


def _controller_policy(queue_arn: str, node_role_arn: str, cluster: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Resource": "*", "Action": [
                    "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:CreateTags", "ec2:DeleteLaunchTemplate",
                    "ec2:RunInstances", "ec2:TerminateInstances", "ec2:Describe*", "pricing:GetProducts",
                    "ssm:GetParameter", "iam:GetInstanceProfile", "iam:CreateInstanceProfile",
                    "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile"]},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": node_role_arn},
                {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl",
                                               "sqs:GetQueueAttributes"], "Resource": queue_arn},
                {"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": f"arn:aws:eks:*:*:cluster/{cluster}"},
            ],
        }
    )  # fmt: skip


def install(
    cfg: StackConfig, p: str, cluster, parent: pulumi.Resource, provider: k8s.Provider
) -> pulumi.Resource:
    """Interruption queue, controller IAM (IRSA), node access entry, Helm release, EC2NodeClass."""
    eks = cluster.aws
    child = pulumi.ResourceOptions(parent=parent)
    queue = aws.sqs.Queue(f"{p}-interruptions", name=f"{cfg.name}-karpenter-interruptions",
                          message_retention_seconds=300, sqs_managed_sse_enabled=True, opts=child)  # fmt: skip
    aws.sqs.QueuePolicy(
        f"{p}-interruptions", queue_url=queue.url,
        policy=queue.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
             "Action": "sqs:SendMessage", "Resource": arn},
            {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})),
        opts=child,
    )  # fmt: skip
    for short, pattern in _EVENTS.items():
        rule = aws.cloudwatch.EventRule(f"{p}-{short}", event_pattern=json.dumps(pattern), opts=child)
        aws.cloudwatch.EventTarget(f"{p}-{short}", rule=rule.name, arn=queue.arn, opts=child)

    sub = f"system:serviceaccount:{NAMESPACE}:karpenter"
    trust = pulumi.Output.all(eks.oidc_provider_arn, eks.oidc_issuer).apply(lambda a: json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": a[0]},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{a[1]}:sub": sub, f"{a[1]}:aud": "sts.amazonaws.com"}}}]}))  # fmt: skip
    role = aws.iam.Role(f"{p}-controller", assume_role_policy=trust, opts=child)
    aws.iam.RolePolicy(
        f"{p}-controller", role=role.id, opts=child,
        policy=pulumi.Output.all(queue.arn, eks.node_role_arn, eks.name).apply(lambda a: _controller_policy(*a)),
    )  # fmt: skip
    aws.eks.AccessEntry(f"{p}-nodes", cluster_name=eks.name, principal_arn=eks.node_role_arn, type="EC2_LINUX",
                        opts=child)  # fmt: skip

    k8s_opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    ns = kx.namespace(f"{p}-ns", NAMESPACE, "restricted", k8s_opts)
    values = pulumi.Output.all(eks.name, queue.name, role.arn).apply(lambda a: {
        "settings": {"clusterName": a[0], "interruptionQueue": a[1]},
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": a[2]}},
        "replicas": 2 if cfg.environment == "prod" else 1,
        "podSecurityContext": kx.POD_SECURITY_CONTEXT,
        "controller": {"resources": kx.resources("250m", "512Mi", "1", "1Gi"),
                       "securityContext": kx.CONTAINER_SECURITY_CONTEXT},
        "nodeSelector": {"conveyor.dev/pool": "system"},
    })  # fmt: skip
    release = kx.helm_release(f"{p}-karpenter", cfg.versions.karpenter, NAMESPACE, values,
                              pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[ns]))  # fmt: skip
    return k8s.apiextensions.CustomResource(
        f"{p}-nodeclass",
        api_version="karpenter.k8s.aws/v1",
        kind="EC2NodeClass",
        metadata={"name": "conveyor-gpu"},
        spec={
            "role": eks.node_role_name,
            "amiSelectorTerms": [{"alias": cfg.versions.karpenter_ami_alias}],
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": cfg.name}}],
            "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": cfg.name}}],
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"volumeSize": "200Gi", "volumeType": "gp3", "encrypted": True},
                }
            ],
            "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        },  # fmt: skip
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[release]),
    )


def node_pool(cfg: StackConfig, p: str, pool: GpuPool, name: str, capacity: str, weight: int,
              parent: pulumi.Resource, provider: k8s.Provider, nodeclass: pulumi.Resource) -> None:  # fmt: skip
    """One Karpenter NodePool: zero nodes until pods ask, tainted and labelled for the pool."""
    itype = cfg.pool_instance_type(pool)
    k8s.apiextensions.CustomResource(
        f"{p}-{name}",
        api_version="karpenter.sh/v1",
        kind="NodePool",
        metadata={"name": name},
        spec={
            "weight": weight,
            "template": {
                "metadata": {"labels": pool_labels(pool, name, capacity)},
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": "conveyor-gpu",
                    },
                    "taints": [GPU_TAINT],
                    "requirements": [
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity]},
                        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [itype]},
                    ],
                    "expireAfter": "720h",
                },
            },
            "limits": {"nvidia.com/gpu": str(pool.max_nodes * pool.gpus_per_node)},
            "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m"},
        },
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[nodeclass]),
    )


def pool_labels(pool: GpuPool, name: str, capacity: str) -> dict[str, str]:
    return {
        "conveyor.dev/pool": name,
        "conveyor.dev/capacity": capacity,
        "conveyor.dev/accelerator": pool.accelerator,
    }
