"""Run kfp-kubernetes' `CreatePVC` / `DeletePVC` locally: the claim is a folder under CONVEYOR_HOME/pvcs.

As on a cluster, creating a claim that exists and deleting one that does not are errors. That is why
kfp pipelines name per-run claims with `pvc_name_suffix`: `<a new UUID><suffix>`, as kfp's driver names them.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from conveyor.ir.errors import PermanentError
from conveyor.ir.kubernetes import PVC_NAME_OUTPUT, PvcImplementation, claim_name
from conveyor.ir.spec import ComponentSpec
from conveyor.runtime.kube_local import LocalKubernetesError, pvc_folder
from conveyor.stores.metadata.urls import conveyor_home


def run_pvc(component: ComponentSpec, params: dict[str, Any], outputs: dict[str, Any]) -> None:
    impl = component.implementation
    assert isinstance(impl, PvcImplementation)
    try:
        if impl.action == "create":
            name = claim_name(params.get("pvc_name"), params.get("pvc_name_suffix"), str(uuid.uuid4()))
            folder = pvc_folder(conveyor_home(), name)
            if folder.exists():
                raise PermanentError(f"CreatePVC: claim {name!r} already exists locally ({folder}); delete it "
                                     "with DeletePVC or by hand, or name per-run claims with pvc_name_suffix")
            _populate(folder, params.get("data_source"))
            Path(outputs[PVC_NAME_OUTPUT]).write_text(name)
            return
        name = str(params.get("pvc_name") or "")
        folder = pvc_folder(conveyor_home(), name)
        if not folder.is_dir():
            raise PermanentError(f"DeletePVC: there is no claim {name!r} locally ({folder})")
        shutil.rmtree(folder)
    except (ValueError, LocalKubernetesError) as exc:
        raise PermanentError(f"{component.name}: {exc}") from None


def _populate(folder: Path, source: dict[str, Any] | None) -> None:
    """A new claim: empty, or a clone of another local claim (``dataSource`` kind PersistentVolumeClaim).
    A VolumeSnapshot has no local counterpart, so that fails before anything is created."""
    if not source:
        folder.mkdir(parents=True)
        return
    if source.get("kind") != "PersistentVolumeClaim" or source.get("apiGroup"):
        raise PermanentError(f"CreatePVC: data_source {source!r}: locally a claim can only be cloned from another "
                             "claim (kind PersistentVolumeClaim); snapshots exist only on a cluster")
    origin = pvc_folder(conveyor_home(), str(source.get("name")))
    if not origin.is_dir():
        raise PermanentError(f"CreatePVC: data_source claim {source.get('name')!r} does not exist locally ({origin})")
    shutil.copytree(origin, folder, symlinks=True)
