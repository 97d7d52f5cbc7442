"""Shared Kubernetes building blocks (no ComponentResource here): secure pod defaults, Helm releases
and their air-gapped alternatives (`sources.<part>`: a local chart, manifests, or provided).

Why: every workload the program declares must pass the policy pack (non-root, no privilege
escalation, all capabilities dropped, seccomp RuntimeDefault, requests+limits, pinned chart from an
allowlisted repo). Writing those fragments once keeps the components from drifting apart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.config import ALLOWED_CHART_REPOS, ChartPin, Source

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
    source: Source | None = None,
) -> k8s.helm.v3.Release:
    """A Helm release pinned to `pin` (chart, exact version, allowlisted repository), or to the
    air-gapped `source.chart` (a local chart directory or archive, or an OCI mirror of the pin)."""
    if source is not None and source.chart:
        chart = source.chart if source.chart.startswith("oci://") else _path(source.chart)
        return k8s.helm.v3.Release(
            name, name=release_name or pin.chart, chart=chart,
            version=pin.version if chart.startswith("oci://") else None, namespace=namespace, values=values,
            atomic=source.wait, skip_await=not source.wait, cleanup_on_fail=True, max_history=10, timeout=900,
            opts=opts,
        )  # fmt: skip
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


# Kinds without a namespace: everything else in a manifest set lands in the part's namespace.
CLUSTER_SCOPED = frozenset({
    "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass",
    "PersistentVolume", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "IngressClass", "RuntimeClass",
})  # fmt: skip


class _ManifestLoader(yaml.SafeLoader):
    """YAML 1.1's `=` ("value" tag) is plain text to Kubernetes (CRD enums list it, e.g. `- =`)."""


_ManifestLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _path(raw: str) -> str:
    return os.path.expandvars(os.path.expanduser(raw))


def _rewrite_images(doc: dict[str, Any], images: dict[str, str]) -> None:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec"))
    for c in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
        name = c.get("image", "").split("@")[0]
        if ":" in name.rsplit("/", 1)[-1]:  # a tag, not a registry port
            name = name.rsplit(":", 1)[0]
        if name in images:
            c["image"] = images[name]


def _harden(doc: dict[str, Any]) -> None:
    """Upstream manifests get the platform's pod defaults where they leave them unset (the policy pack
    requires seccomp RuntimeDefault and requests+limits): nothing upstream set is overridden."""
    pod = doc.get("spec", {}).get("template", {}).get("spec")
    if not isinstance(pod, dict):
        return
    pod.setdefault("securityContext", {}).setdefault("seccompProfile", {"type": "RuntimeDefault"})
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        limits = resources()
        current = c.setdefault("resources", {})
        for kind in ("requests", "limits"):
            current.setdefault(kind, {})
            for k, v in limits[kind].items():
                current[kind].setdefault(k, v)


def _add_env(doc: dict[str, Any], env: dict[str, dict[str, str]]) -> None:
    """The chart's ``extraEnv`` for manifests: variables for the named containers, where unset."""
    pod = doc.get("spec", {}).get("template", {}).get("spec")
    if not isinstance(pod, dict):
        return
    for c in pod.get("containers", []):
        have = {e.get("name") for e in c.get("env", [])}
        c.setdefault("env", []).extend(
            {"name": k, "value": v} for k, v in sorted(env.get(c.get("name"), {}).items()) if k not in have)
        if not c["env"]:
            del c["env"]


def manifest_objects(
    paths: list[str], namespace: str, skip: frozenset[tuple[str, str]] = frozenset(), wait: bool = True,
    images: dict[str, str] | None = None, env: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The objects of YAML files/directories (kustomization.yaml skipped), in the part's namespace.

    `skip` holds (kind, name) pairs the component declares itself (e.g. Argo's controller ConfigMap,
    which carries the stack's settings instead of upstream's empty one).
    """
    files: list[Path] = []
    for raw in paths:
        p = Path(_path(raw))
        if p.is_dir():
            files += sorted(f for f in p.glob("*.y*ml") if f.name != "kustomization.yaml")
        elif p.is_file():
            files.append(p)
        else:
            raise ValueError(f"sources manifests: {raw!r} does not exist; allowed: YAML files or directories")
    objs = []
    for f in files:
        for doc in yaml.load_all(f.read_text(), Loader=_ManifestLoader):  # noqa: S506 (a SafeLoader)
            if not doc or (doc.get("kind"), doc.get("metadata", {}).get("name")) in skip:
                continue
            meta = doc.setdefault("metadata", {})
            if doc.get("kind") not in CLUSTER_SCOPED:
                meta.setdefault("namespace", namespace)
            if doc.get("kind") in ("RoleBinding", "ClusterRoleBinding"):  # as kustomize's `namespace:` does
                for subject in doc.get("subjects", []):
                    if subject.get("kind") == "ServiceAccount":
                        subject["namespace"] = namespace
            if not wait:
                meta.setdefault("annotations", {})["pulumi.com/skipAwait"] = "true"
            _rewrite_images(doc, images or {})
            _add_env(doc, env or {})
            _harden(doc)
            objs.append(doc)
    if not objs:
        raise ValueError(f"sources manifests: no Kubernetes objects in {paths}")
    return objs


def install(
    name: str,
    pin: ChartPin,
    source: Source | None,
    namespace: str,
    values: pulumi.Input[dict[str, Any]],
    opts: pulumi.ResourceOptions,
    release_name: str | None = None,
    skip: frozenset[tuple[str, str]] = frozenset(),
    env: dict[str, dict[str, str]] | None = None,
) -> pulumi.Resource | None:
    """One Helm-installed part, from wherever `source` says; None when the cluster provides it.

    `env` (container name -> variables) is what the chart's values already carry, for manifests."""
    if source is not None and source.provided:
        return None
    if source is not None and source.manifests:
        objs = manifest_objects(source.manifests, namespace, skip, source.wait, source.images, env)
        # v1 ConfigGroup: its children are registered by this program (so mocks, the offline policy
        # runner and the real engine all see the same objects), not constructed inside the provider.
        return k8s.yaml.ConfigGroup(name, yaml=[yaml.safe_dump_all(objs, sort_keys=False)], opts=opts)
    return helm_release(name, pin, namespace, values, opts, release_name=release_name, source=source)


def after(*parts: pulumi.Resource | None) -> pulumi.Input[list[pulumi.Resource]]:
    """A `depends_on` that waits for every object of a manifest set, not just its group.

    A v1 ConfigGroup registers its children only after decoding, so depending on the group alone
    lets a CustomResource race the CRD it needs; its `resources` output resolves once they exist.
    """
    present = [p for p in parts if p is not None]
    groups = [p.resources.apply(lambda d: list(d.values())) for p in present if isinstance(p, k8s.yaml.ConfigGroup)]
    plain = [p for p in present if not isinstance(p, k8s.yaml.ConfigGroup)]
    if not groups:
        return plain
    return pulumi.Output.all(*groups).apply(lambda lists: plain + [r for lst in lists for r in lst])
