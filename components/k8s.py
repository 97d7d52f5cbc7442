"""Shared Kubernetes building blocks (no ComponentResource here): secure pod defaults, Helm releases.

Why: every workload the program declares must pass the policy pack (non-root, no privilege
escalation, all capabilities dropped, seccomp RuntimeDefault, requests+limits, pinned chart from an
allowlisted repo). Writing those fragments once keeps the components from drifting apart.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import ALLOWED_CHART_REPOS, ChartPin

POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def resources(
    cpu: str = "100m", memory: str = "128Mi", cpu_limit: str = "1", memory_limit: str = "512Mi"
) -> dict:
    """Requests and limits; the policy pack rejects containers without both."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def secure(
    cpu: str = "100m", memory: str = "128Mi", cpu_limit: str = "1", memory_limit: str = "512Mi"
) -> dict[str, Any]:
    """Chart values fragment: the keys most charts use for pod/container security and resources."""
    return {
        "podSecurityContext": dict(POD_SECURITY_CONTEXT),
        "securityContext": dict(CONTAINER_SECURITY_CONTEXT),
        "resources": resources(cpu, memory, cpu_limit, memory_limit),
    }


def namespace_labels(level: str = "restricted", **extra: str) -> dict[str, str]:
    """Pod Security admission labels; team namespaces enforce `restricted`."""
    labels = {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    labels.update(extra)
    return labels


def namespace(
    name: str, ns: str, level: str, opts: pulumi.ResourceOptions, **labels: str
) -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(
        name, metadata={"name": ns, "labels": namespace_labels(level, **labels)}, opts=opts
    )


def helm_release(
    name: str,
    pin: ChartPin,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
) -> k8s.helm.v3.Release:
    """A Helm release pinned to `pin` (chart, exact version, allowlisted repository)."""
    if pin.repo not in ALLOWED_CHART_REPOS:
        raise ValueError(
            f"chart repo {pin.repo!r} for {pin.chart} is not allowlisted; allowed: {ALLOWED_CHART_REPOS}"
        )
    oci = pin.repo.startswith("oci://")
    return k8s.helm.v3.Release(
        name,
        name=release_name or pin.chart,
        chart=f"{pin.repo}/{pin.chart}" if oci else pin.chart,
        version=pin.version,
        repository_opts=None if oci else {"repo": pin.repo},
        namespace=namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        max_history=10,
        timeout=900,
        opts=opts,
    )
