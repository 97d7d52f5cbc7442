"""GPU pools: every GPU pool repels non-GPU pods with a taint, and every spot pool has a fallback.

Why: an untainted GPU node attracts ordinary pods that then hold the most expensive machines in
the fleet; and a spot-only pool can lose all its capacity at once, leaving GPU tasks pending
forever. Pools come in three shapes: EKS managed node groups, GKE node pools and Karpenter
NodePools (on AWS, where one NodePool allowing both `spot` and `on-demand` is its own fallback).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._core import Context, Rule, StackContext, StackResource, as_list, get, resource_rule, stack_rule, truthy

RULES: list[Rule] = []

EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
KARPENTER_NODE_POOLS = ("kubernetes:karpenter.sh/v1:NodePool", "kubernetes:karpenter.sh/v1beta1:NodePool")
POOL_TYPES = (EKS_NODE_GROUP, GKE_NODE_POOL, *KARPENTER_NODE_POOLS)
AWS_GPU_FAMILIES = (
    "p2",
    "p3",
    "p3dn",
    "p4d",
    "p4de",
    "p5",
    "p5e",
    "p5en",
    "p6",
    "g3",
    "g3s",
    "g4dn",
    "g4ad",
    "g5",
    "g5g",
    "g6",
    "g6e",
    "g6f",
    "gr6",
    "gr6f",
)
GCP_GPU_MACHINE_PREFIXES = ("a2-", "a3-", "a4-", "g2-", "g4-")
KARPENTER_GPU_KEYS = (
    "karpenter.k8s.aws/instance-gpu-count",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-manufacturer",
)
CAPACITY_KEY = "karpenter.sh/capacity-type"
NO_SCHEDULE = ("NoSchedule", "NO_SCHEDULE", "NoExecute", "NO_EXECUTE")


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def _requirements(props: Mapping[str, Any]) -> dict[str, list[str]]:
    """Karpenter `In` requirements as key -> allowed values (other operators widen, so skip them)."""
    reqs: dict[str, list[str]] = {}
    for r in as_list(get(props, "spec", "template", "spec", "requirements")):
        if get(r, "operator") in ("In", "Gt", "Exists"):
            reqs[str(get(r, "key"))] = [str(v) for v in as_list(get(r, "values"))]
    return reqs


@dataclass(frozen=True)
class Pool:
    """A cloud-neutral view of one pool: GPU or not, capacity types, accelerator, taints, cluster."""

    gpu: bool
    capacity: frozenset[str]
    accelerator: frozenset[str]
    taints: tuple[tuple[str, str], ...]
    cluster: str


def describe(resource_type: str, props: Mapping[str, Any]) -> Pool:
    """Normalise any pool shape; `accelerator` is what a fallback must match (GPU or instance types)."""
    if resource_type == EKS_NODE_GROUP:
        types = [str(t) for t in as_list(get(props, "instanceTypes"))]
        ami = str(get(props, "amiType", default="")).upper()
        gpu = "GPU" in ami or "NVIDIA" in ami or any(_family(t) in AWS_GPU_FAMILIES for t in types)
        capacity = "spot" if get(props, "capacityType") == "SPOT" else "on-demand"
        taints = tuple((str(get(t, "key")), str(get(t, "effect"))) for t in as_list(get(props, "taints")))
        return Pool(
            gpu, frozenset([capacity]), frozenset(types), taints, str(get(props, "clusterName", default=""))
        )
    if resource_type == GKE_NODE_POOL:
        node = get(props, "nodeConfig", default={})
        accels = [str(get(a, "type")) for a in as_list(get(node, "guestAccelerators")) if get(a, "type")]
        machine = str(get(node, "machineType", default=""))
        gpu = bool(accels) or machine.startswith(GCP_GPU_MACHINE_PREFIXES)
        spot = truthy(get(node, "spot"), default=False) or truthy(get(node, "preemptible"), default=False)
        taints = tuple((str(get(t, "key")), str(get(t, "effect"))) for t in as_list(get(node, "taints")))
        return Pool(
            gpu,
            frozenset(["spot" if spot else "on-demand"]),
            frozenset(accels or [machine]),
            taints,
            str(get(props, "cluster", default="")),
        )
    reqs = _requirements(props)
    families = reqs.get("karpenter.k8s.aws/instance-family", []) + [
        _family(t) for t in reqs.get("node.kubernetes.io/instance-type", [])
    ]
    gpu = (
        any(k in reqs for k in KARPENTER_GPU_KEYS)
        or any(f in AWS_GPU_FAMILIES for f in families)
        or (get(props, "spec", "limits", "nvidia.com/gpu") is not None)
    )
    accel = (
        reqs.get("karpenter.k8s.aws/instance-gpu-name")
        or families
        or reqs.get("node.kubernetes.io/instance-type", [])
    )
    taints = tuple(
        (str(get(t, "key")), str(get(t, "effect")))
        for t in as_list(get(props, "spec", "template", "spec", "taints"))
    )
    capacity = frozenset(reqs.get(CAPACITY_KEY, ["on-demand"]))
    return Pool(gpu, capacity, frozenset(accel), taints, "")


@resource_rule(
    RULES,
    id="gpu-pool-tainted",
    description="Every GPU node pool carries a NoSchedule taint (nvidia.com/gpu) so only GPU pods land there.",
    severity="high",
    types=POOL_TYPES,
    config={
        "taintKey": {
            "type": "string",
            "default": "nvidia.com/gpu",
            "description": "The taint key GPU pools must carry.",
        }
    },
    remediation="Add taint {key: nvidia.com/gpu, value: present, effect: NoSchedule} to the pool.",
)
def gpu_pool_tainted(props: Mapping[str, Any], ctx: Context) -> Iterator[str]:
    pool = describe(ctx.resource_type, props)
    if not pool.gpu:
        return
    key = ctx.config["taintKey"]
    if not any(k == key and effect in NO_SCHEDULE for k, effect in pool.taints):
        yield f"GPU pool {ctx.name} has no {key} NoSchedule taint"


def _is_fallback(spot: Pool, other: Pool) -> bool:
    return (
        "on-demand" in other.capacity
        and other.cluster == spot.cluster
        and bool(spot.accelerator & other.accelerator)
    )


@stack_rule(
    RULES,
    id="gpu-spot-pool-fallback",
    description="Every spot pool has an on-demand fallback with the same accelerator in the same cluster.",
    severity="high",
    remediation="Add an on-demand twin pool (scale-to-zero), or let the Karpenter NodePool allow on-demand too.",
)
def spot_pool_fallback(resources: Sequence[StackResource], ctx: StackContext) -> Iterator[tuple[str, str]]:
    pools = [(r, describe(r.type, r.props)) for r in resources if r.type in POOL_TYPES]
    for res, pool in pools:
        if "spot" not in pool.capacity or "on-demand" in pool.capacity:
            continue  # on-demand only, or a Karpenter pool that falls back to on-demand by itself
        if not any(_is_fallback(pool, other) for r, other in pools if r is not res):
            what = ", ".join(sorted(pool.accelerator)) or "its instance types"
            yield res.urn, f"spot pool {res.name} ({what}) has no on-demand fallback pool"
