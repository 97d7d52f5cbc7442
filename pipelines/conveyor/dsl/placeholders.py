"""kfp's container placeholders: what a `@dsl.container_component` function receives and returns.

Each input/output placeholder *is* its kfp placeholder string (a `str` subclass), so f-strings such
as ``f"--name={name}"`` embed it exactly as in kfp; `ConcatPlaceholder` and `IfPresentPlaceholder`
become the IR's structured nodes. The grammar and the checks live in `conveyor.ir.container`.
"""

from __future__ import annotations

from typing import Any

from conveyor.ir.container import CommandPart, Concat, IfPresent
from conveyor.ir.errors import PipelineDefinitionError

PIPELINE_JOB_NAME_PLACEHOLDER = "{{$.pipeline_job_name}}"
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = "{{$.pipeline_job_resource_name}}"
PIPELINE_JOB_ID_PLACEHOLDER = "{{$.pipeline_job_uuid}}"
PIPELINE_TASK_NAME_PLACEHOLDER = "{{$.pipeline_task_name}}"
PIPELINE_TASK_ID_PLACEHOLDER = "{{$.pipeline_task_uuid}}"
PIPELINE_ROOT_PLACEHOLDER = "{{$.pipeline_root}}"
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_create_time_utc}}"
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = "{{$.pipeline_job_schedule_time_utc}}"
WORKSPACE_PATH_PLACEHOLDER = "{{$.workspace_path}}"


class _Placeholder(str):
    """A placeholder string; subclasses add the attribute access kfp offers."""


class InputValuePlaceholder(_Placeholder):
    def __new__(cls, input_name: str) -> InputValuePlaceholder:
        return super().__new__(cls, f"{{{{$.inputs.parameters['{input_name}']}}}}")


class _Metadata(_Placeholder):
    def __new__(cls, side: str, name: str) -> _Metadata:
        obj = super().__new__(cls, f"{{{{$.{side}.artifacts['{name}'].metadata}}}}")
        obj.side, obj.name = side, name
        return obj

    def __getitem__(self, key: Any) -> str:  # type: ignore[override]
        return f"{{{{$.{self.side}.artifacts['{self.name}'].metadata['{key}']}}}}"


class ArtifactPlaceholder(_Placeholder):
    """`Input[T]` / `Output[T]` inside a container component: `.path`, `.uri`, `.metadata`."""

    def __new__(cls, side: str, name: str) -> ArtifactPlaceholder:
        obj = super().__new__(cls, f"{{{{$.{side}.artifacts['{name}']}}}}")
        obj.side, obj.name = side, name
        return obj

    @property
    def path(self) -> str:
        return f"{{{{$.{self.side}.artifacts['{self.name}'].path}}}}"

    @property
    def uri(self) -> str:
        return f"{{{{$.{self.side}.artifacts['{self.name}'].uri}}}}"

    @property
    def metadata(self) -> _Metadata:
        return _Metadata(self.side, self.name)


def InputPathPlaceholder(name: str) -> str:  # noqa: N802 - kfp's class name
    return f"{{{{$.inputs.artifacts['{name}'].path}}}}"


def InputUriPlaceholder(name: str) -> str:  # noqa: N802
    return f"{{{{$.inputs.artifacts['{name}'].uri}}}}"


def OutputPathPlaceholder(name: str) -> str:  # noqa: N802
    return f"{{{{$.outputs.artifacts['{name}'].path}}}}"


def OutputUriPlaceholder(name: str) -> str:  # noqa: N802
    return f"{{{{$.outputs.artifacts['{name}'].uri}}}}"


def OutputParameterPlaceholder(name: str) -> str:  # noqa: N802
    return f"{{{{$.outputs.parameters['{name}'].output_file}}}}"


class ConcatPlaceholder:
    """Join the resolved items into one argument (kfp: items may hold other placeholders)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = list(items)

    def __str__(self) -> str:
        raise PipelineDefinitionError("ConcatPlaceholder cannot be used in an f-string; pass it as an argument")


class IfPresentPlaceholder:
    """`then` when input `input_name` is given to the task, else `else_` (nothing when None)."""

    def __init__(self, input_name: str, then: Any, else_: Any = None) -> None:
        self.input_name, self.then, self.else_ = input_name, then, else_

    def __str__(self) -> str:
        raise PipelineDefinitionError("IfPresentPlaceholder cannot be used in an f-string; pass it as an argument")


def _many(value: Any) -> tuple[CommandPart, ...]:
    if value is None:
        return ()
    return tuple(to_part(v) for v in (value if isinstance(value, list | tuple) else [value]))


def to_part(element: Any) -> CommandPart:
    """A ContainerSpec command/args element as IR: strings stay, numbers become text, structures nest."""
    if isinstance(element, ConcatPlaceholder):
        return Concat(items=tuple(to_part(i) for i in element.items))
    if isinstance(element, IfPresentPlaceholder):
        return IfPresent(input_name=element.input_name, then=_many(element.then), otherwise=_many(element.else_))
    if isinstance(element, str):
        return str(element)
    if isinstance(element, bool | int | float):
        return str(element)
    raise PipelineDefinitionError(
        f"a container command/args element must be a string, a number or a placeholder, got {element!r}")
