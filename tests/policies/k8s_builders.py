"""Resource builders and type tokens for the Kubernetes, Helm and GPU-pool rule fixtures (the tables are in cases_k8s.py)."""

from __future__ import annotations

import copy

DEPLOY = "kubernetes:apps/v1:Deployment"
POD = "kubernetes:core/v1:Pod"
CRONJOB = "kubernetes:batch/v1:CronJob"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
NS = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
QUOTA = "kubernetes:core/v1:ResourceQuota"
SVC = "kubernetes:core/v1:Service"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
RELEASE = "kubernetes:helm.sh/v3:Release"
CHART4 = "kubernetes:helm.sh/v4:Chart"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GKE_POOL = "gcp:container/nodePool:NodePool"
KARPENTER = "kubernetes:karpenter.sh/v1:NodePool"

GOOD_CONTAINER = {
    "name": "app",
    "image": "ghcr.io/acme/app:1.2.3",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
    },
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
}
GOOD_POD_SPEC = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [GOOD_CONTAINER],
}


def deployment(container: dict | None = None, **pod: object) -> dict:
    spec = {**copy.deepcopy(GOOD_POD_SPEC), **pod}
    if container is not None:
        spec["containers"] = [{**copy.deepcopy(GOOD_CONTAINER), **container}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {"spec": spec}},
    }


def cronjob(container: dict) -> dict:
    return {
        "spec": {
            "schedule": "@daily",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            **copy.deepcopy(GOOD_POD_SPEC),
                            "containers": [{**copy.deepcopy(GOOD_CONTAINER), **container}],
                        }
                    }
                }
            },
        }
    }


def sc(**values: object) -> dict:
    return {"securityContext": {**GOOD_CONTAINER["securityContext"], **values}}


def ns(name: str, level: str | None = "restricted", **labels: str) -> dict:
    all_labels = {**({"pod-security.kubernetes.io/enforce": level} if level else {}), **labels}
    return {"metadata": {"name": name, "labels": all_labels}}


def release(
    chart: str,
    version: str | None = "1.2.3",
    repo: str | None = "https://argoproj.github.io/argo-helm",
    values: dict | None = None,
) -> dict:
    props: dict = {"chart": chart, "values": values or {}}
    if version is not None:
        props["version"] = version
    if repo is not None:
        props["repositoryOpts"] = {"repo": repo}
    return props


GPU_TAINT_AWS = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
GPU_TAINT_K8S = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]


def node_group(capacity: str, types: list[str], taints: list | None = None) -> dict:
    return {
        "clusterName": "c",
        "capacityType": capacity,
        "instanceTypes": types,
        "amiType": "AL2023_x86_64_NVIDIA",
        "taints": GPU_TAINT_AWS if taints is None else taints,
        "scalingConfig": {"minSize": 0, "maxSize": 2, "desiredSize": 0},
    }


def gke_pool(spot: bool, accelerator: str = "nvidia-l4", taints: list | None = None) -> dict:
    return {
        "cluster": "c",
        "nodeConfig": {
            "machineType": "g2-standard-8",
            "spot": spot,
            "serviceAccount": "n@p",
            "guestAccelerators": [{"type": accelerator, "count": 1}],
            "taints": GPU_TAINT_AWS if taints is None else taints,
        },
    }


def karpenter(capacity: list[str], taints: list | None = None) -> dict:
    return {
        "spec": {
            "template": {
                "spec": {
                    "requirements": [
                        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": capacity},
                        {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": ["a10g"]},
                    ],
                    "taints": GPU_TAINT_K8S if taints is None else taints,
                }
            },
            "limits": {"nvidia.com/gpu": 8},
        }
    }


def service(kind: str, annotations: dict | None = None, **spec) -> dict:
    return {"metadata": {"name": "ui", "namespace": "ml-a", "annotations": annotations or {}},
            "spec": {"type": kind, "ports": [{"port": 80}], **spec}}
