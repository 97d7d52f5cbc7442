"""Violating and compliant fixtures for workload, namespace, RBAC, Helm and GPU-pool rules."""

from __future__ import annotations

from k8s_builders import (
    BINDING,
    CHART4,
    CLUSTER_ROLE,
    CRB,
    CRONJOB,
    DAEMONSET,
    DEPLOY,
    GKE_POOL,
    GOOD_POD_SPEC,
    KARPENTER,
    NETPOL,
    NODE_GROUP,
    NS,
    POD,
    RELEASE,
    ROLE,
    cronjob,
    deployment,
    gke_pool,
    karpenter,
    node_group,
    ns,
    release,
    sc,
)
from policy_harness import Case, Res, StackCase

CASES: list[Case] = [
    Case("k8s-no-privileged-containers", DEPLOY, deployment(), False),
    Case("k8s-no-privileged-containers", DEPLOY, deployment(sc(privileged=True)), True, says="privileged"),
    Case("k8s-no-privileged-containers", CRONJOB, cronjob(sc(privileged=True)), True, says="container app"),
    Case("k8s-no-host-namespaces", DEPLOY, deployment(), False),
    Case("k8s-no-host-namespaces", DEPLOY, deployment(hostNetwork=True), True, says="hostNetwork"),
    Case("k8s-no-host-namespaces", POD, {"spec": {**GOOD_POD_SPEC, "hostPID": True}}, True, says="hostPID"),
    Case("k8s-no-host-path", DEPLOY, deployment(volumes=[{"name": "tmp", "emptyDir": {}}]), False),
    Case(
        "k8s-no-host-path",
        DAEMONSET,
        {
            "spec": {
                "template": {
                    "spec": {**GOOD_POD_SPEC, "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}
                }
            }
        },
        True,
        says="hostPath /",
    ),
    Case("k8s-run-as-non-root", DEPLOY, deployment(), False),
    Case(
        "k8s-run-as-non-root",
        DEPLOY,
        deployment({"securityContext": {}}, securityContext={}),
        True,
        says="runAsNonRoot",
    ),
    Case("k8s-run-as-non-root", DEPLOY, deployment(sc(runAsUser=0)), True, says="UID 0"),
    Case("k8s-no-privilege-escalation", DEPLOY, deployment(), False),
    Case(
        "k8s-no-privilege-escalation",
        DEPLOY,
        deployment({"securityContext": {"runAsNonRoot": True}}),
        True,
        says="escalation",
    ),
    Case(
        "k8s-drop-all-capabilities",
        DEPLOY,
        deployment(sc(capabilities={"drop": ["all"], "add": ["NET_BIND_SERVICE"]})),
        False,
    ),
    Case(
        "k8s-drop-all-capabilities",
        DEPLOY,
        deployment(sc(capabilities={"drop": ["NET_RAW"]})),
        True,
        says="drop ALL",
    ),
    Case(
        "k8s-drop-all-capabilities",
        DEPLOY,
        deployment(sc(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]})),
        True,
        says="SYS_ADMIN",
    ),
    Case("k8s-seccomp-runtime-default", DEPLOY, deployment(), False),
    Case(
        "k8s-seccomp-runtime-default",
        DEPLOY,
        deployment(securityContext={"runAsNonRoot": True}),
        True,
        says="Unconfined",
    ),
    Case(
        "k8s-seccomp-runtime-default",
        DEPLOY,
        deployment(sc(seccompProfile={"type": "Unconfined"})),
        True,
        says="Unconfined",
    ),
    Case("k8s-resources-set", DEPLOY, deployment(), False),
    Case(
        "k8s-resources-set",
        DEPLOY,
        deployment({"resources": {"requests": {"cpu": "1"}}}),
        True,
        says="requests for memory",
    ),
    Case(
        "k8s-resources-set",
        DEPLOY,
        deployment({"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}),
        False,
        config={"limits": ["memory"]},
    ),
    Case("k8s-no-latest-image", DEPLOY, deployment({"image": "ghcr.io/acme/app@sha256:" + "a" * 64}), False),
    Case("k8s-no-latest-image", DEPLOY, deployment({"image": "localhost:5000/app:2.0"}), False),
    Case(
        "k8s-no-latest-image", DEPLOY, deployment({"image": "ghcr.io/acme/app:latest"}), True, says=":latest"
    ),
    Case("k8s-no-latest-image", DEPLOY, deployment({"image": "localhost:5000/app"}), True, says="no tag"),
    Case("k8s-namespace-pod-security", NS, ns("ml-a"), False),
    Case("k8s-namespace-pod-security", NS, ns("gpu-operator", "privileged"), False),
    Case("k8s-namespace-pod-security", NS, ns("ml-a", None), True, says="no pod-security"),
    Case("k8s-namespace-pod-security", NS, ns("ml-a", "privileged"), True, says="privilegedNamespaces"),
    Case(
        "k8s-rbac-no-wildcards",
        ROLE,
        {
            "rules": [
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflows"],
                    "verbs": ["get", "list", "watch", "create"],
                }
            ]
        },
        False,
    ),
    Case("k8s-rbac-no-wildcards", CLUSTER_ROLE, {"aggregationRule": {"clusterRoleSelectors": []}}, False),
    Case(
        "k8s-rbac-no-wildcards",
        ROLE,
        {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]},
        True,
        says="'*' in verbs",
    ),
    Case(
        "k8s-rbac-no-wildcards",
        CLUSTER_ROLE,
        {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]},
        True,
        says="resources",
    ),
    Case(
        "k8s-rbac-no-cluster-admin-service-accounts",
        CRB,
        {
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "a"}],
        },
        False,
    ),
    Case(
        "k8s-rbac-no-cluster-admin-service-accounts",
        CRB,
        {
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "User", "name": "alice"}],
        },
        False,
    ),
    Case(
        "k8s-rbac-no-cluster-admin-service-accounts",
        BINDING,
        {
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "wf", "namespace": "ml-a"}],
        },
        True,
        says="ml-a/wf",
    ),
    Case("helm-chart-version-pinned", RELEASE, release("argo-workflows", "0.45.26"), False),
    Case("helm-chart-version-pinned", RELEASE, release("./charts/local", None, None), False),
    Case("helm-chart-version-pinned", RELEASE, release("argo-workflows", None), True, says="no version"),
    Case("helm-chart-version-pinned", CHART4, release("argo-workflows", "^0.45"), True, says="exact"),
    Case("helm-repository-allowlist", RELEASE, release("argo-workflows"), False),
    Case(
        "helm-repository-allowlist",
        RELEASE,
        release("oci://public.ecr.aws/karpenter/karpenter", "1.1.1", None),
        False,
    ),
    Case(
        "helm-repository-allowlist",
        RELEASE,
        release("argo-workflows", repo="https://charts.example.com"),
        True,
        says="not allowlisted",
    ),
    Case(
        "helm-repository-allowlist",
        RELEASE,
        release("bitnami/postgresql", repo=None),
        True,
        says="names no repo",
    ),
    Case(
        "argo-server-auth-mode",
        RELEASE,
        release("argo-workflows", values={"server": {"authModes": ["client"]}}),
        False,
    ),
    Case(
        "argo-server-auth-mode",
        RELEASE,
        release("kube-prometheus-stack", values={"server": {"authModes": ["server"]}}),
        False,
    ),
    Case(
        "argo-server-auth-mode",
        RELEASE,
        release("argo-workflows", values={"server": {"authModes": ["sso", "server"]}}),
        True,
        says="'server'",
    ),
    Case(
        "argo-server-auth-mode",
        RELEASE,
        release("argo-workflows", values={"server": {"extraArgs": ["--auth-mode=server"]}}),
        True,
        says="'server'",
    ),
    Case("gpu-pool-tainted", NODE_GROUP, node_group("ON_DEMAND", ["g5.xlarge"]), False),
    Case("gpu-pool-tainted", NODE_GROUP, {"instanceTypes": ["m6i.large"]}, False),
    Case(
        "gpu-pool-tainted",
        NODE_GROUP,
        node_group("ON_DEMAND", ["g5.xlarge"], taints=[]),
        True,
        says="no nvidia.com",
    ),
    Case(
        "gpu-pool-tainted",
        GKE_POOL,
        gke_pool(False, taints=[{"key": "nvidia.com/gpu", "effect": "PREFER_NO_SCHEDULE"}]),
        True,
        says="NoSchedule",
    ),
    Case("gpu-pool-tainted", KARPENTER, karpenter(["spot", "on-demand"], taints=[]), True, says="taint"),
    Case("gpu-pool-tainted", KARPENTER, karpenter(["spot", "on-demand"]), False),
]

STACK_CASES: list[StackCase] = [
    StackCase(
        "k8s-team-namespace-network-policy",
        [
            Res(NS, "team-a", ns("ml-a")),
            Res(NETPOL, "deny", {"metadata": {"namespace": "ml-a"}}),
            Res(NS, "argo", ns("argo")),
        ],
        (),
    ),
    StackCase(
        "k8s-team-namespace-network-policy",
        [
            Res(NS, "team-a", ns("ml-a")),
            Res(NS, "team-b", ns("research", **{"conveyor.dev/team": "b"})),
            Res(NETPOL, "deny", {"metadata": {"namespace": "ml-a"}}),
        ],
        ("team-b",),
        says="research",
    ),
    StackCase(
        "k8s-team-namespace-network-policy",
        [Res(NS, "team-x", ns("x")), Res(NETPOL, "deny", {"metadata": {"namespace": "other"}})],
        ("team-x",),
        config={"teamNamespaces": ["x"]},
        says="no NetworkPolicy",
    ),
    StackCase(
        "gpu-spot-pool-fallback",
        [
            Res(NODE_GROUP, "a10g-spot", node_group("SPOT", ["g5.xlarge", "g5.2xlarge"])),
            Res(NODE_GROUP, "a10g-od", node_group("ON_DEMAND", ["g5.2xlarge"])),
        ],
        (),
    ),
    StackCase("gpu-spot-pool-fallback", [Res(KARPENTER, "gpu", karpenter(["spot", "on-demand"]))], ()),
    StackCase(
        "gpu-spot-pool-fallback",
        [Res(GKE_POOL, "l4-spot", gke_pool(True)), Res(GKE_POOL, "l4-od", gke_pool(False))],
        (),
        stack="dev-gcp",
    ),
    StackCase(
        "gpu-spot-pool-fallback",
        [Res(GKE_POOL, "l4-spot", gke_pool(True)), Res(GKE_POOL, "a100-od", gke_pool(False, "nvidia-a100"))],
        ("l4-spot",),
        stack="dev-gcp",
        says="nvidia-l4",
    ),
    StackCase(
        "gpu-spot-pool-fallback",
        [
            Res(KARPENTER, "gpu-spot", karpenter(["spot"])),
            Res(NODE_GROUP, "a10g-spot", node_group("SPOT", ["g5.xlarge"])),
        ],
        ("gpu-spot", "a10g-spot"),
        says="no on-demand fallback",
    ),
]
