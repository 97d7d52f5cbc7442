"""Kubernetes workloads: pods the program declares meet the Pod Security "restricted" profile.

Why: containers default to running as whatever user the image says (often root), with privilege
escalation allowed, the runtime's default capability set, no seccomp profile and no resource
bounds. Every workload kind embeds the same PodSpec at a different path; `pod_specs` finds it for
Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and PodTemplates so each
rule reads containers in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._core import Context, Rule, as_list, get, resource_rule, truthy

RULES: list[Rule] = []

_TEMPLATE_PATH = ("spec", "template", "spec")
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:PodTemplate": ("template", "spec"),
    "kubernetes:core/v1:ReplicationController": _TEMPLATE_PATH,
    "kubernetes:apps/v1:Deployment": _TEMPLATE_PATH,
    "kubernetes:apps/v1:StatefulSet": _TEMPLATE_PATH,
    "kubernetes:apps/v1:DaemonSet": _TEMPLATE_PATH,
    "kubernetes:apps/v1:ReplicaSet": _TEMPLATE_PATH,
    "kubernetes:batch/v1:Job": _TEMPLATE_PATH,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The PodSpec embedded in a workload, or {} when the program left it out."""
    return get(props, *POD_SPEC_PATHS.get(resource_type, ("spec",)), default={})


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(display name, container) for every init, app and ephemeral container."""
    for key in CONTAINER_LISTS:
        for i, c in enumerate(as_list(get(spec, key))):
            yield f"{key[:-1]} {get(c, 'name', default=i)}", c


def _workload_rule(**meta: Any) -> Any:
    return resource_rule(RULES, types=WORKLOAD_TYPES, **meta)


@_workload_rule(
    id="k8s-no-privileged-containers",
    description="No container runs privileged.",
    severity="critical",
    remediation="Remove securityContext.privileged (or set it to false).",
)
def no_privileged(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for label, c in containers(pod_spec(ctx.resource_type, props)):
        if truthy(get(c, "securityContext", "privileged"), default=False):
            yield f"{label} is privileged"


@_workload_rule(
    id="k8s-no-host-namespaces",
    description="Pods do not share the node's network, PID or IPC namespace.",
    severity="critical",
    remediation="Remove hostNetwork, hostPID and hostIPC from the pod spec.",
)
def no_host_namespaces(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    spec = pod_spec(ctx.resource_type, props)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(get(spec, key), default=False):
            yield f"{key} is true"


@_workload_rule(
    id="k8s-no-host-path",
    description="Pods mount no hostPath volumes (a path on the node is a path to escape).",
    severity="high",
    remediation="Use emptyDir, a PVC, a ConfigMap or a CSI volume instead of hostPath.",
)
def no_host_path(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for v in as_list(get(pod_spec(ctx.resource_type, props), "volumes")):
        if get(v, "hostPath") is not None:
            yield f"volume {get(v, 'name', default='?')} mounts hostPath {get(v, 'hostPath', 'path', default='?')}"


def _effective(spec: Mapping[str, Any], c: Mapping[str, Any], key: str) -> Any:
    """A container's securityContext value, falling back to the pod's (Kubernetes' precedence)."""
    value = get(c, "securityContext", key)
    return value if value is not None else get(spec, "securityContext", key)


@_workload_rule(
    id="k8s-run-as-non-root",
    description="Every container must run as non-root (runAsNonRoot, and never runAsUser 0).",
    severity="high",
    remediation="Set securityContext.runAsNonRoot=true (pod or container) and a non-zero runAsUser.",
)
def run_as_non_root(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    spec = pod_spec(ctx.resource_type, props)
    for label, c in containers(spec):
        if not truthy(_effective(spec, c, "runAsNonRoot"), default=False):
            yield f"{label} does not set runAsNonRoot"
        user = _effective(spec, c, "runAsUser")
        if user is not None and float(user) == 0:
            yield f"{label} runs as UID 0"


@_workload_rule(
    id="k8s-no-privilege-escalation",
    description="Containers set allowPrivilegeEscalation=false (the default allows setuid escalation).",
    severity="high",
    remediation="Set securityContext.allowPrivilegeEscalation=false on every container.",
)
def no_privilege_escalation(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for label, c in containers(pod_spec(ctx.resource_type, props)):
        if truthy(get(c, "securityContext", "allowPrivilegeEscalation"), default=True):
            yield f"{label} allows privilege escalation"


@_workload_rule(
    id="k8s-drop-all-capabilities",
    description="Containers drop ALL capabilities and add back at most NET_BIND_SERVICE.",
    severity="medium",
    remediation="Set securityContext.capabilities.drop=['ALL'].",
)
def drop_all_capabilities(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for label, c in containers(pod_spec(ctx.resource_type, props)):
        caps = get(c, "securityContext", "capabilities", default={})
        if "ALL" not in [str(x).upper() for x in as_list(get(caps, "drop"))]:
            yield f"{label} does not drop ALL capabilities"
        added = [str(x) for x in as_list(get(caps, "add")) if str(x).upper() != "NET_BIND_SERVICE"]
        if added:
            yield f"{label} adds capabilities {', '.join(added)}"


@_workload_rule(
    id="k8s-seccomp-runtime-default",
    description="Containers run under the RuntimeDefault (or a Localhost) seccomp profile.",
    severity="medium",
    remediation="Set the pod's securityContext.seccompProfile.type=RuntimeDefault.",
)
def seccomp_runtime_default(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    spec = pod_spec(ctx.resource_type, props)
    for label, c in containers(spec):
        profile = get(_effective(spec, c, "seccompProfile"), "type")
        if profile not in ("RuntimeDefault", "Localhost"):
            yield f"{label} seccomp profile is {profile or 'unset (Unconfined)'}"


@_workload_rule(
    id="k8s-resources-set",
    description="Containers declare resource requests and limits, so the scheduler can pack and bound them.",
    severity="medium",
    config={
        "requests": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cpu", "memory"],
            "description": "Resources every container must request.",
        },
        "limits": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["cpu", "memory"],
            "description": "Resources every container must limit.",
        },
    },
    remediation="Set resources.requests and resources.limits for cpu and memory.",
)
def resources_set(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for label, c in containers(pod_spec(ctx.resource_type, props)):
        if label.startswith("ephemeralContainer"):
            continue  # the API forbids resources on ephemeral containers
        for kind in ("requests", "limits"):
            have = get(c, "resources", kind, default={})
            missing = [r for r in ctx.config[kind] if get(have, r) is None]
            if missing:
                yield f"{label} has no {kind} for {', '.join(missing)}"


def image_tag_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None. A digest pins it; so does any tag but latest."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses :latest"
    return None


@_workload_rule(
    id="k8s-no-latest-image",
    description="Container images are pinned to a tag other than latest, or to a digest.",
    severity="medium",
    remediation="Reference images as repo:version or repo@sha256:digest.",
)
def no_latest_image(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    for label, c in containers(pod_spec(ctx.resource_type, props)):
        image = str(get(c, "image", default=""))
        problem = image_tag_problem(image) if image else "has no image"
        if problem:
            yield f"{label} image {image!r} {problem}"
