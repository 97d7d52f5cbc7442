"""Where a task's pod runs: node selectors, tolerations, and the spot -> on-demand fallback.

GPU pools come from the profile (the platform's stack outputs), so pipelines
name an accelerator, not a node label. A task on a spot pool gets a
``podSpecPatch`` keyed on Argo's ``{{retries}}``: the first attempt runs on
spot, every retry on the pool's on-demand fallback, so a spot interruption
never fails a run while on-demand capacity exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from conveyor.compiler.argo.options import CompileError
from conveyor.ir import TaskSpec
from conveyor.profile import Profile


@dataclass
class Placement:
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    pod_spec_patch: str | None = None
    pool: str | None = None
    spot_fallback: str | None = None
    gpus: int = 0


def _norm(accelerator: str) -> str:
    text = accelerator.strip().lower().replace("_", "-")
    return text[len("nvidia-") :] if text.startswith("nvidia-") else text


def _tolerations_for(pool: Any) -> list[dict[str, Any]]:
    out = []
    for taint in pool.taints:
        tol: dict[str, Any] = {"key": taint.key, "effect": taint.effect}
        if taint.value is None:
            tol["operator"] = "Exists"
        else:
            tol.update(operator="Equal", value=taint.value)
        out.append(tol)
    return out


def _choose_pool(task: TaskSpec, pools: list[Any], prefer_spot: bool, what: str, gpus: int) -> Any | None:
    selector = task.node_selector
    for pool in pools:
        shared = set(selector) & set(pool.labels)
        if shared and all(selector[k] == pool.labels[k] for k in shared):
            return pool
    if not gpus or not pools:
        return None
    wanted = task.resources.accelerator_type
    candidates = [p for p in pools if wanted is None or _norm(p.accelerator) == _norm(wanted)]
    if not candidates:
        offered = sorted({p.accelerator for p in pools})
        raise CompileError(
            f"{what}: accelerator {wanted!r} is not offered by any GPU pool; pools offer {offered}"
        )

    def rank(pool: Any) -> int:
        is_spot = pool.capacity == "spot"
        if prefer_spot:
            return 0 if is_spot and pool.fallback else 1 if not is_spot else 2
        return 0 if not is_spot else 1

    return sorted(candidates, key=rank)[0]


def place(task: TaskSpec, profile: Profile | None, prefer_spot: bool, what: str) -> Placement:
    """Node selector, tolerations and spot fallback patch for ``task`` under ``profile``."""
    res = task.resources
    gpus = res.accelerator_count or (1 if res.accelerator_type else 0)
    placement = Placement(node_selector=dict(task.node_selector), gpus=gpus)
    for tol in task.tolerations:
        entry = {"key": tol.key, "operator": tol.operator, "value": tol.value, "effect": tol.effect}
        if tol.toleration_seconds is not None:
            entry["tolerationSeconds"] = tol.toleration_seconds
        placement.tolerations.append({k: v for k, v in entry.items() if v is not None})
    pools = list(getattr(profile, "gpu_pools", None) or [])
    pool = _choose_pool(task, pools, prefer_spot, what, gpus)
    if pool is None:
        return placement
    placement.pool = pool.name
    placement.node_selector.update(pool.labels)
    _add_tolerations(placement, _tolerations_for(pool))
    if pool.capacity == "spot" and pool.fallback:
        fallback = profile.pool(pool.fallback)
        placement.spot_fallback = fallback.name
        _add_tolerations(placement, _tolerations_for(fallback))
        if set(pool.labels) != set(fallback.labels):
            raise CompileError(
                f"{what}: spot pool {pool.name!r} and its fallback {fallback.name!r} must use the same label keys "
                f"to switch between them; got {sorted(pool.labels)} and {sorted(fallback.labels)}"
            )
        differing = {k: (v, fallback.labels[k]) for k, v in pool.labels.items() if fallback.labels[k] != v}
        if not differing:
            raise CompileError(
                f"{what}: spot pool {pool.name!r} and fallback {fallback.name!r} have identical labels"
            )
        patch = {
            "nodeSelector": {
                key: f"{{{{=asInt(retries) < 1 ? '{spot}' : '{ondemand}'}}}}"
                for key, (spot, ondemand) in sorted(differing.items())
            }
        }
        placement.pod_spec_patch = json.dumps(patch, sort_keys=True)
    return placement


def _add_tolerations(placement: Placement, extra: list[dict[str, Any]]) -> None:
    for tol in extra:
        if tol not in placement.tolerations:
            placement.tolerations.append(tol)
