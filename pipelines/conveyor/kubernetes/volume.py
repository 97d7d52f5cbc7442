"""kfp-kubernetes' `kfp.kubernetes.volume`: `add_ephemeral_volume` here, `mount_pvc`, `CreatePVC` and
`DeletePVC` re-exported so the module imports as in kfp.

On Argo an ephemeral volume is a pod volume with `ephemeral.volumeClaimTemplate` (access modes, size,
storage class, the claim's labels and annotations): Kubernetes makes the claim with the pod and deletes
it with the pod. Locally it is a fresh folder per attempt, like an emptyDir.
"""

from __future__ import annotations

from typing import Any

from conveyor.ir.kubernetes import ACCESS_MODES
from conveyor.kubernetes import (
    _append,
    _error,
    _mount_path,
    _name,
    _quantity,
    _str_map,
    _volume_name,
    mount_pvc,
)
from conveyor.kubernetes.pvc import CreatePVC, DeletePVC


def add_ephemeral_volume(task: Any, volume_name: str, mount_path: str, access_modes: list[str], size: str,
                         storage_class_name: str | None = None, labels: dict[str, str] | None = None,
                         annotations: dict[str, str] | None = None) -> Any:
    if (not isinstance(access_modes, (list, tuple)) or not access_modes
            or any(mode not in ACCESS_MODES for mode in access_modes)):
        raise _error(task, f"must be a non-empty list of {', '.join(ACCESS_MODES)}, got {access_modes!r}", "access_modes")
    return _append(task, "ephemeral_volumes", {
        "volume_name": _volume_name(task, volume_name), "mount_path": _mount_path(task, mount_path),
        "access_modes": list(access_modes), "size": _quantity(task, size, "size"),
        "storage_class_name": None if storage_class_name is None else _name(task, storage_class_name, "storage_class_name"),
        "labels": _str_map(task, labels, "labels"), "annotations": _str_map(task, annotations, "annotations"),
    })


__all__ = ["CreatePVC", "DeletePVC", "add_ephemeral_volume", "mount_pvc"]
