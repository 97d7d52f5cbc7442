"""Pod-level settings of `conveyor.kubernetes` (kfp-kubernetes): what a task's pod mounts and carries.

Only *references* live here (secret and key names, never values), so the spec - which is stored in
metadata and embedded in Workflows - holds no secret. The Argo compiler maps each field onto the
pod spec; the local executor reads secrets from the environment or a mapping file, maps PVCs onto
folders, and records (and ignores) what only a cluster can honour.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from conveyor.ir.base import DeclaredImplementation, Frozen
from conveyor.ir.values import Arg, Constant

# A secret, config map or claim name: a string fixed at build time (kept a plain string, so the specs
# and digests of pipelines that name their secrets literally stay as they were), or where it comes from
# at run time (a pipeline parameter, a loop item, an upstream task's output).
Name = str | Arg


class SecretEnv(Frozen):
    """Env var `env` = key `key` of Secret `secret_name`."""

    secret_name: Name
    key: str
    env: str
    optional: bool = False


class SecretVolume(Frozen):
    """Every key of Secret `secret_name` as a file under `mount_path`."""

    secret_name: Name
    mount_path: str
    optional: bool = False


class ConfigMapEnv(Frozen):
    config_map_name: Name
    key: str
    env: str
    optional: bool = False


class ConfigMapVolume(Frozen):
    config_map_name: Name
    mount_path: str
    optional: bool = False


class PvcMount(Frozen):
    """A PersistentVolumeClaim at `mount_path`; its name may come from a pipeline parameter or an
    upstream task (kfp's `CreatePVC().outputs['name']`)."""

    pvc_name: Arg
    mount_path: str
    sub_path: str | None = None


class EmptyDirMount(Frozen):
    """kfp's `empty_dir_mount`: a scratch volume that lives as long as the pod (one attempt)."""

    volume_name: str
    mount_path: str
    medium: str | None = None  # None/"" (node disk), "Memory", "HugePages" or "HugePages-<size>"
    size_limit: str | None = None


class EphemeralVolume(Frozen):
    """kfp's `add_ephemeral_volume`: a generic ephemeral volume, a claim made for the pod and deleted with it."""

    volume_name: str
    mount_path: str
    access_modes: tuple[str, ...]
    size: str
    storage_class_name: str | None = None  # None: the cluster's default class
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class FieldPathEnv(Frozen):
    """kfp's `use_field_path_as_env`: env var `env` = the pod's field `field_path` (the Downward API)."""

    env: str
    field_path: str


class NodeSelectorRequirement(Frozen):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: tuple[str, ...] = ()


class NodeAffinityTerm(Frozen):
    """One `add_node_affinity` call (required, or preferred with `weight`), or the `nodeAffinity` object
    of `add_node_affinity_json` (camelCase, as in the pod spec)."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = ()
    match_fields: tuple[NodeSelectorRequirement, ...] = ()
    weight: int | None = None
    node_affinity_json: dict[str, Any] | None = None


class SecurityContext(Frozen):
    """kfp's `set_security_context`: the main container's identity."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    run_as_non_root: bool | None = None


class KubernetesSettings(Frozen):
    secret_env: tuple[SecretEnv, ...] = ()
    secret_volumes: tuple[SecretVolume, ...] = ()
    config_map_env: tuple[ConfigMapEnv, ...] = ()
    config_map_volumes: tuple[ConfigMapVolume, ...] = ()
    pvc_mounts: tuple[PvcMount, ...] = ()
    image_pull_policy: Literal["Always", "Never", "IfNotPresent"] | None = None
    image_pull_secrets: tuple[str, ...] = ()
    pod_labels: dict[str, str] = Field(default_factory=dict)
    pod_annotations: dict[str, str] = Field(default_factory=dict)
    empty_dir_mounts: tuple[EmptyDirMount, ...] = ()
    ephemeral_volumes: tuple[EphemeralVolume, ...] = ()
    field_path_env: tuple[FieldPathEnv, ...] = ()
    node_affinity: tuple[NodeAffinityTerm, ...] = ()
    security_context: SecurityContext | None = None

    @property
    def empty(self) -> bool:
        return self == KubernetesSettings()


# Fields added after specs were first stored: left out of a spec's JSON while unset, so the digests (and
# cache keys) of pipelines that do not use them stay as they were.
LATER_FIELDS = {"empty_dir_mounts": [], "ephemeral_volumes": [], "field_path_env": [], "node_affinity": [],
                "security_context": None}


# What a container's env `fieldRef` may name (the Kubernetes Downward API for env vars).
FIELD_PATH = re.compile(r"metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[^']+'\]"
                        r"|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs)")
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PVC_NAME_OUTPUT = "name"


def name_args(settings: KubernetesSettings) -> dict[str, Any]:
    """Key (`pvc-0`, `secret-env-1`, `configmap-volume-0`, ...) -> the IR argument of every secret, config
    map or claim name not fixed at build time: what a task waits for, and what Argo passes its pod."""
    found: dict[str, Any] = {}
    for key, items, attr in (("pvc", settings.pvc_mounts, "pvc_name"), ("secret-env", settings.secret_env, "secret_name"),
                             ("secret-volume", settings.secret_volumes, "secret_name"),
                             ("configmap-env", settings.config_map_env, "config_map_name"),
                             ("configmap-volume", settings.config_map_volumes, "config_map_name")):
        for i, item in enumerate(items):
            value = getattr(item, attr)
            if not isinstance(value, str | Constant):
                found[f"{key}-{i}"] = value
    return found


class PvcImplementation(DeclaredImplementation):
    """kfp-kubernetes' `CreatePVC` / `DeletePVC`: a claim made or removed as a task of the pipeline.

    Inputs are kfp's (`access_modes`, `size`, `pvc_name`, `pvc_name_suffix`, `storage_class_name`,
    `volume_name`, `annotations`; `pvc_name` for delete); create's output `name` is the claim's name.
    On Argo each becomes a resource template; locally the claim is the folder every `mount_pvc` uses."""

    kind: Literal["kubernetes_pvc"] = "kubernetes_pvc"
    action: Literal["create", "delete"]


def claim_name(pvc_name: str | None, pvc_name_suffix: str | None, unique: str) -> str:
    """kfp's naming: `pvc_name` as given, else `<unique id><pvc_name_suffix>` (or the id alone); not both."""
    if pvc_name and pvc_name_suffix:
        raise ValueError("CreatePVC takes at most one of pvc_name and pvc_name_suffix, got "
                         f"pvc_name={pvc_name!r}, pvc_name_suffix={pvc_name_suffix!r}")
    return pvc_name or f"{unique}{pvc_name_suffix or ''}"
