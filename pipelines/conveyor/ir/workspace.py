"""The run's workspace (kfp's ``PipelineConfig(workspace=...)``): one folder every task of a run shares.

A task reaches it through ``dsl.WORKSPACE_PATH_PLACEHOLDER``, passed as (or inside) an input value
or used in a container command. What the placeholder becomes is the one fact both executors need:
locally a folder under the run's own directory, on Argo the run's PVC mounted at kfp's path. A task
that reads the workspace is never served from the cache: what it wrote there belongs to the run that
ran it, and a later run's workspace starts empty, so a hit would leave its readers nothing to read.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import field_validator

from conveyor.ir.base import Frozen
from conveyor.ir.quantities import parse_memory

PLACEHOLDER = "{{$.workspace_path}}"
MOUNT_PATH = "/kfp-workspace"  # kfp's own mount point (kfp.dsl.constants.WORKSPACE_MOUNT_PATH)
VOLUME = "kfp-workspace"
_PVC_FIELDS = {"accessModes", "storageClassName", "volumeMode", "selector", "dataSource", "dataSourceRef",
               "volumeAttributesClassName", "resources"}


class WorkspaceSpec(Frozen):
    """The requested size and kfp's ``pvcSpecPatch`` (PVC spec fields, camelCase as in Kubernetes)."""

    size: str
    pvc_spec_patch: dict[str, Any] = {}

    @field_validator("size")
    @classmethod
    def _quantity(cls, size: str) -> str:
        try:
            parse_memory(size)
        except ValueError as exc:
            raise ValueError(f"workspace size {size!r}: {exc}") from None
        return size

    @field_validator("pvc_spec_patch")
    @classmethod
    def _pvc_fields(cls, patch: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(patch) - _PVC_FIELDS)
        if unknown:
            raise ValueError(f"workspace pvcSpecPatch: unknown PVC spec field(s) {unknown}; "
                             f"allowed: {sorted(_PVC_FIELDS)}")
        return patch

    def claim_spec(self) -> dict[str, Any]:
        """The PVC spec Argo creates for each run: ReadWriteOnce of ``size``, then the patch on top."""
        spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": self.size}}}
        return {**spec, **self.pvc_spec_patch}


def mentions(value: Any) -> bool:
    """Whether a value (an input value, an IR argument or command dumped to JSON) holds the placeholder."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return PLACEHOLDER in text


def component_uses(component: Any) -> str | None:
    """How a component reaches the workspace by itself (its container command, or an importer's
    ``download_to_workspace``), or None. Input values are checked apart, with :func:`mentions`."""
    impl = component.implementation
    if impl.kind == "container" and mentions(impl.model_dump(mode="json")):
        return f"component {component.name!r} uses the run's workspace in its command"
    if impl.kind == "importer" and impl.download_to_workspace:
        return f"component {component.name!r} downloads into the run's workspace"
    return None


def resolve(value: Any, workspace: str | None, what: str) -> Any:
    """``value`` with every placeholder (in strings, lists and dict values) replaced by ``workspace``."""
    if isinstance(value, str):
        if PLACEHOLDER not in value:
            return value
        if not workspace:
            raise ValueError(f"{what} reads dsl.WORKSPACE_PATH_PLACEHOLDER, but this run has no workspace; set "
                             "pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=...)) on the "
                             "pipeline")
        return value.replace(PLACEHOLDER, workspace)
    if isinstance(value, list):
        return [resolve(v, workspace, what) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, workspace, what) for k, v in value.items()}
    return value
