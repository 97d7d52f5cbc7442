"""conveyor.dsl: author pipelines exactly as with kfp v2 (`from conveyor import dsl`).

Decorators build IR (`conveyor.ir`) and nothing else; running is someone
else's job, so this package never imports an executor.
"""

from conveyor.dsl.channels import PipelineChannel
from conveyor.dsl.component import (
    ComponentCalledOutsidePipelineError,
    PythonComponent,
    component,
    notebook_component,
)
from conveyor.dsl.config import KubernetesWorkspaceConfig, PipelineConfig, WorkspaceConfig
from conveyor.dsl.container import ContainerSpec, container_component
from conveyor.dsl.control import Collected, Condition, Elif, Else, ExitHandler, If, OneOf, ParallelFor
from conveyor.dsl.importer import importer
from conveyor.dsl.pipeline import Pipeline, pipeline
from conveyor.dsl.placeholders import (
    PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
    PIPELINE_JOB_ID_PLACEHOLDER,
    PIPELINE_JOB_NAME_PLACEHOLDER,
    PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
    PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    PIPELINE_ROOT_PLACEHOLDER,
    PIPELINE_TASK_ID_PLACEHOLDER,
    PIPELINE_TASK_NAME_PLACEHOLDER,
    WORKSPACE_PATH_PLACEHOLDER,
    ConcatPlaceholder,
    IfPresentPlaceholder,
)
from conveyor.dsl.subpipeline import SubPipelineTask
from conveyor.dsl.task import PipelineTask
from conveyor.ir.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Markdown,
    Metrics,
    Model,
    get_uri,
)
from conveyor.ir.errors import PermanentError, PipelineDefinitionError, TransientError
from conveyor.ir.types import EmbeddedInput, Input, InputPath, Output, OutputPath, PipelineTaskFinalStatus

__all__ = [
    "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_JOB_ID_PLACEHOLDER",
    "PIPELINE_JOB_NAME_PLACEHOLDER",
    "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER",
    "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER",
    "PIPELINE_ROOT_PLACEHOLDER",
    "PIPELINE_TASK_ID_PLACEHOLDER",
    "PIPELINE_TASK_NAME_PLACEHOLDER",
    "WORKSPACE_PATH_PLACEHOLDER",
    "ConcatPlaceholder",
    "ContainerSpec",
    "IfPresentPlaceholder",
    "container_component",
    "get_uri",
    "WorkspaceConfig",
    "PipelineConfig",
    "KubernetesWorkspaceConfig",
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Collected",
    "ComponentCalledOutsidePipelineError",
    "Condition",
    "Dataset",
    "Elif",
    "EmbeddedInput",
    "Else",
    "ExitHandler",
    "If",
    "Input",
    "InputPath",
    "Markdown",
    "Metrics",
    "Model",
    "OneOf",
    "Output",
    "OutputPath",
    "ParallelFor",
    "PermanentError",
    "Pipeline",
    "PipelineChannel",
    "PipelineDefinitionError",
    "PipelineTask",
    "PipelineTaskFinalStatus",
    "PythonComponent",
    "SubPipelineTask",
    "TransientError",
    "component",
    "importer",
    "notebook_component",
    "pipeline",
]
