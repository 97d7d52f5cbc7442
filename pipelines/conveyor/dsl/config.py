"""`dsl.PipelineConfig` / `dsl.WorkspaceConfig`: kfp's pipeline-level settings, checked and compiled.

A workspace is a volume every task of a run shares (`dsl.WORKSPACE_PATH_PLACEHOLDER`): a folder
under the run's directory locally, a PVC of the requested size per run on Argo (see
`conveyor.ir.workspace`, where what the placeholder becomes is decided).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conveyor.ir import PipelineDefinitionError, parse_memory
from conveyor.ir.workspace import WorkspaceSpec


@dataclasses.dataclass(frozen=True)
class KubernetesWorkspaceConfig:
    """kfp's PVC settings for the workspace (`pvcSpecPatch`), merged into the claim Argo creates."""

    pvcSpecPatch: dict[str, Any] | None = None  # noqa: N815 - kfp's keyword


@dataclasses.dataclass(frozen=True)
class WorkspaceConfig:
    """`dsl.WorkspaceConfig(size="10Gi")`; a bad size is refused when the pipeline is declared."""

    size: str
    kubernetes: KubernetesWorkspaceConfig | None = None

    def __post_init__(self) -> None:
        try:
            parse_memory(self.size)
        except ValueError as exc:
            raise ValueError(f"dsl.WorkspaceConfig size {self.size!r}: {exc}") from None


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """`@dsl.pipeline(pipeline_config=dsl.PipelineConfig(workspace=...))`."""

    workspace: WorkspaceConfig | None = None


def workspace_spec(config: Any, pipeline: str) -> WorkspaceSpec | None:
    """The IR of `@dsl.pipeline(pipeline_config=...)`; a wrong type or field names the keyword."""
    if config is None:
        return None
    if not isinstance(config, PipelineConfig):
        raise PipelineDefinitionError(f"pipeline_config must be a dsl.PipelineConfig, got {config!r}",
                                      pipeline=pipeline, argument="pipeline_config")
    workspace = config.workspace
    if workspace is None:
        return None
    if not isinstance(workspace, WorkspaceConfig):
        raise PipelineDefinitionError(f"PipelineConfig(workspace=...) must be a dsl.WorkspaceConfig, got {workspace!r}",
                                      pipeline=pipeline, argument="pipeline_config")
    patch = (workspace.kubernetes.pvcSpecPatch if workspace.kubernetes else None) or {}
    try:
        return WorkspaceSpec(size=workspace.size, pvc_spec_patch=dict(patch))
    except ValueError as exc:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in getattr(exc, "errors", lambda: [])()) or exc
        raise PipelineDefinitionError(str(reason), pipeline=pipeline, argument="pipeline_config") from None
