"""Namespaces, exposure and RBAC: every namespace declares a Pod Security level, team namespaces are
fenced by a NetworkPolicy and capped by a ResourceQuota, no Service is reachable from outside the
network, and no RBAC object hands out wildcards or cluster-admin to workloads.

Why: without the `pod-security.kubernetes.io/enforce` label a namespace admits privileged pods;
without a NetworkPolicy every pod in a team namespace accepts traffic from every other namespace;
without a ResourceQuota one team's runaway ParallelFor takes every GPU of the cluster; a public
LoadBalancer or NodePort puts a training pod's debug port (or the metadata database) on the internet;
a `*` verb or resource silently grows with every new API, and cluster-admin bound to a service
account makes one compromised pod the owner of the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._core import Context, Rule, StackContext, StackResource, as_list, get, resource_rule, stack_rule

RULES: list[Rule] = []

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
SERVICE = "kubernetes:core/v1:Service"
# Annotations that make a cloud load balancer internal (AWS in-tree and LB controller, GKE, Azure).
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("Internal",),
    "cloud.google.com/load-balancer-type": ("Internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}
ROLE_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)
BINDING_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("privileged", "baseline", "restricted")


def namespace_name(props: Mapping[str, Any], fallback: str) -> str:
    """The namespace's Kubernetes name; an autonamed one is known only by its Pulumi name."""
    return str(get(props, "metadata", "name", default=fallback))


@resource_rule(
    RULES,
    id="k8s-namespace-pod-security",
    description="Every namespace sets a Pod Security admission enforce label (privileged only where allowed).",
    severity="high",
    types=(NAMESPACE,),
    config={
        "privilegedNamespaces": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["kube-system", "gpu-operator", "nvidia-device-plugin", "monitoring"],
            "description": "Namespaces allowed to enforce 'privileged' (node agents: GPU operator, node-exporter).",
        },
    },
    remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline).",
)
def namespace_pod_security(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    name = namespace_name(props, ctx.name)
    level = get(props, "metadata", "labels", PSA_ENFORCE)
    if level is None:
        yield f"namespace {name} has no {PSA_ENFORCE} label; it admits privileged pods"
    elif level not in PSA_LEVELS:
        yield f"namespace {name}: {PSA_ENFORCE}={level!r} is not one of {', '.join(PSA_LEVELS)}"
    elif level == "privileged" and name not in ctx.config["privilegedNamespaces"]:
        yield f"namespace {name} enforces 'privileged' but is not in privilegedNamespaces"


# Which namespaces are a team's: shared by every rule about team namespaces.
TEAM_NAMESPACES = {
    "teamLabel": {
        "type": "string",
        "default": "conveyor.dev/team",
        "description": "A namespace carrying this label is a team namespace.",
    },
    "teamNamespacePattern": {
        "type": "string",
        "default": "^ml-",
        "description": "Regex on the namespace name marking team namespaces ('' for none).",
    },
    "teamNamespaces": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Extra namespace names treated as team namespaces.",
    },
}


def _is_team_namespace(ns: StackResource, ctx: StackContext) -> bool:
    labels = get(ns.props, "metadata", "labels", default={})
    if get(labels, ctx.config["teamLabel"]) is not None:
        return True
    name = namespace_name(ns.props, ns.name)
    pattern = ctx.config["teamNamespacePattern"]
    return name in ctx.config["teamNamespaces"] or bool(pattern and re.search(str(pattern), name))


def _object_in(obj: StackResource, ns: StackResource) -> bool:
    """Whether a namespaced object lives in `ns`: by name, or (autonamed) by its metadata dependency."""
    target = get(obj.props, "metadata", "namespace")
    if target is not None and get(ns.props, "metadata", "name") is not None:
        return str(target) == namespace_name(ns.props, ns.name)
    return ns.urn in (obj.property_dependencies.get("metadata") or obj.dependencies)


def _team_namespaces_without(kind: str, resources: Sequence[StackResource], ctx: StackContext) -> Iterator[StackResource]:
    objects = [r for r in resources if r.type == kind]
    for ns in resources:
        if ns.type == NAMESPACE and _is_team_namespace(ns, ctx) and not any(_object_in(o, ns) for o in objects):
            yield ns


@stack_rule(
    RULES,
    id="k8s-team-namespace-network-policy",
    description="Every team namespace has at least one NetworkPolicy (e.g. default-deny ingress).",
    severity="high",
    config=TEAM_NAMESPACES,
    remediation="Declare a NetworkPolicy in the namespace (default-deny, then allow what the team needs).",
)
def team_namespace_network_policy(
    resources: Sequence[StackResource], ctx: StackContext
) -> Iterator[tuple[str, str]]:
    for ns in _team_namespaces_without(NETWORK_POLICY, resources, ctx):
        yield ns.urn, f"team namespace {namespace_name(ns.props, ns.name)} has no NetworkPolicy"


@stack_rule(
    RULES,
    id="k8s-team-namespace-quota",
    description="Every team namespace has a ResourceQuota (CPU, memory and GPU caps per team).",
    severity="high",
    config=TEAM_NAMESPACES,
    remediation="Declare the team in conveyor:teams (the platform adds its quota), or add a ResourceQuota.",
)
def team_namespace_quota(resources: Sequence[StackResource], ctx: StackContext) -> Iterator[tuple[str, str]]:
    for ns in _team_namespaces_without(RESOURCE_QUOTA, resources, ctx):
        yield ns.urn, f"team namespace {namespace_name(ns.props, ns.name)} has no ResourceQuota; one team can take every GPU"


def _internal(annotations: Mapping[str, Any]) -> bool:
    return any(str(annotations.get(key)) in values for key, values in INTERNAL_LB_ANNOTATIONS.items())


@resource_rule(
    RULES,
    id="k8s-no-public-services",
    description="No Service of type LoadBalancer or NodePort is reachable from anywhere (internal LB or source ranges).",
    severity="high",
    types=(SERVICE,),
    config={
        "allowedPublicServices": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "namespace/name of Services deliberately exposed (e.g. an ingress controller).",
        },
    },
    remediation="Use ClusterIP behind `kubectl port-forward` or an ingress, an internal load balancer annotation, "
                "or spec.loadBalancerSourceRanges.",
)
def no_public_services(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    kind = get(props, "spec", "type", default="ClusterIP")
    where = f"{get(props, 'metadata', 'namespace', default='default')}/{get(props, 'metadata', 'name', default=ctx.name)}"
    if kind not in ("LoadBalancer", "NodePort") or where in ctx.config["allowedPublicServices"]:
        return
    if kind == "NodePort":
        yield f"Service {where} is a NodePort: it listens on every node's address"
        return
    ranges = [str(r) for r in as_list(get(props, "spec", "loadBalancerSourceRanges"))]
    if _internal(get(props, "metadata", "annotations", default={}) or {}):
        return
    if not ranges or any(r in ("0.0.0.0/0", "::/0") for r in ranges):
        yield f"Service {where} is a public LoadBalancer (no internal annotation, no loadBalancerSourceRanges)"


@resource_rule(
    RULES,
    id="k8s-rbac-no-wildcards",
    description="Roles and ClusterRoles name their verbs and resources; no '*'.",
    severity="high",
    types=ROLE_TYPES,
    remediation="List the exact verbs (get, list, watch, ...) and resources the subject needs.",
)
def rbac_no_wildcards(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    if get(props, "aggregationRule") is not None:
        return  # rules are filled in by the aggregation controller, not declared here
    for i, rule in enumerate(as_list(get(props, "rules"))):
        for field in ("verbs", "resources", "apiGroups"):
            if "*" in [str(x) for x in as_list(get(rule, field))]:
                if field == "apiGroups" and "*" not in [str(x) for x in as_list(get(rule, "resources"))]:
                    continue  # named resources across groups are still a bounded grant
                yield f"rule {i} uses '*' in {field}"


def _service_account_subjects(subjects: Any) -> list[str]:
    found = []
    for s in as_list(subjects):
        kind, name = get(s, "kind"), str(get(s, "name", default=""))
        if kind == "ServiceAccount":
            found.append(f"{get(s, 'namespace', default='?')}/{name}")
        elif kind == "Group" and name.startswith("system:serviceaccounts"):
            found.append(name)
    return found


@resource_rule(
    RULES,
    id="k8s-rbac-no-cluster-admin-service-accounts",
    description="No RoleBinding or ClusterRoleBinding gives cluster-admin to a service account.",
    severity="critical",
    types=BINDING_TYPES,
    config={
        "forbiddenRoles": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cluster-admin"],
            "description": "ClusterRoles that must never be bound to service accounts.",
        }
    },
    remediation="Bind a Role with only the verbs the workload needs.",
)
def no_cluster_admin_for_service_accounts(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    role = get(props, "roleRef", "name")
    if get(props, "roleRef", "kind") != "ClusterRole" or role not in ctx.config["forbiddenRoles"]:
        return
    subjects = _service_account_subjects(get(props, "subjects"))
    if subjects:
        yield f"binds {role} to service account(s) {', '.join(subjects)}"
