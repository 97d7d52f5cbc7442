"""Pod-level settings of `conveyor.kubernetes` (kfp-kubernetes): what a task's pod mounts and carries.

Only *references* live here (secret and key names, never values), so the spec - which is stored in
metadata and embedded in Workflows - holds no secret. The Argo compiler maps each field onto the
pod spec; the local executor reads secrets from the environment or a mapping file, maps PVCs onto
folders, and records (and ignores) what only a cluster can honour.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from conveyor.ir.base import Frozen
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
