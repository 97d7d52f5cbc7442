"""The handle returned when a pipeline is called inside another pipeline.

It looks like a task: `.output`, `.outputs[name]`, `.after(...)`; setters
(`set_caching_options`, `set_retry`, ...) apply to every inlined task.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.channels import PipelineChannel
from conveyor.dsl.context import BuildState
from conveyor.dsl.task import after_names


class SubPipelineTask:
    """An inlined sub-pipeline call; `task_names` are the tasks it added."""

    def __init__(
        self, state: BuildState, name: str, task_names: list[str], outputs: dict[str, PipelineChannel]
    ):
        self.state, self.name, self.task_names = state, name, list(task_names)
        self._outputs = outputs

    @property
    def outputs(self) -> dict[str, PipelineChannel]:
        return _Outputs(self, self._outputs)

    @property
    def output(self) -> PipelineChannel:
        if len(self._outputs) != 1:
            raise self.state.error(
                f"sub-pipeline has {len(self._outputs)} outputs {sorted(self._outputs)}; use .outputs[name]",
                task=self.name,
            )
        return next(iter(self._outputs.values()))

    def _inner(self) -> list[Any]:
        return [self.state.tasks[n] for n in self.task_names]

    def after(self, *tasks: Any) -> SubPipelineTask:
        upstream = [n for t in tasks for n in after_names(t, self.state, self.name)]
        for task in self._inner():
            task.after_tasks.extend(n for n in upstream if n not in task.after_tasks and n != task.name)
        return self

    def __getattr__(self, attr: str) -> Any:
        if not (attr.startswith("set_") or attr.startswith("add_")):
            raise AttributeError(attr)

        def apply(*args: Any, **kwargs: Any) -> SubPipelineTask:
            for task in self._inner():
                getattr(task, attr)(*args, **kwargs)
            return self

        return apply

    def __repr__(self) -> str:
        return f"<sub-pipeline {self.name} ({len(self.task_names)} tasks)>"


class _Outputs(dict):
    def __init__(self, owner: SubPipelineTask, channels: dict[str, PipelineChannel]) -> None:
        super().__init__(channels)
        self._owner = owner

    def __missing__(self, key: str) -> PipelineChannel:
        raise self._owner.state.error(
            f"sub-pipeline has no output {key!r}; its outputs: {sorted(self)}", task=self._owner.name
        )
