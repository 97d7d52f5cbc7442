"""`dsl.PipelineConfig` / `dsl.WorkspaceConfig`: kfp's pipeline-level settings, kept and checked.

A workspace is a volume every task of a run shares (`dsl.WORKSPACE_PATH_PLACEHOLDER`); conveyor
records the requested size here, and the placeholders resolve to a per-run folder locally.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conveyor.ir import parse_memory


@dataclasses.dataclass(frozen=True)
class KubernetesWorkspaceConfig:
    """kfp's PVC settings for the workspace (`pvcSpecPatch`); recorded, applied on Argo later."""

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
