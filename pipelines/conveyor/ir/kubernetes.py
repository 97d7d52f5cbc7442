"""Pod-level settings of `conveyor.kubernetes` (kfp-kubernetes): what a task's pod mounts and carries.

Only *references* live here (secret and key names, never values), so the spec - which is stored in
metadata and embedded in Workflows - holds no secret. The Argo compiler maps each field onto the
pod spec; the local executor reads secrets from the environment or a mapping file, maps PVCs onto
folders, and records (and ignores) what only a cluster can honour.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from conveyor.ir.base import DeclaredImplementation, Frozen
from conveyor.ir.values import Arg


class SecretEnv(Frozen):
    """Env var `env` = key `key` of Secret `secret_name`."""

    secret_name: str
    key: str
    env: str
    optional: bool = False


class SecretVolume(Frozen):
    """Every key of Secret `secret_name` as a file under `mount_path`."""

    secret_name: str
    mount_path: str
    optional: bool = False


class ConfigMapEnv(Frozen):
    config_map_name: str
    key: str
    env: str
    optional: bool = False


class ConfigMapVolume(Frozen):
    config_map_name: str
    mount_path: str
    optional: bool = False


class PvcMount(Frozen):
    """A PersistentVolumeClaim at `mount_path`; its name may come from a pipeline parameter or an
    upstream task (kfp's `CreatePVC().outputs['name']`)."""

    pvc_name: Arg
    mount_path: str
    sub_path: str | None = None


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

    @property
    def empty(self) -> bool:
        return self == KubernetesSettings()


ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
PVC_NAME_OUTPUT = "name"


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
