"""Build state of the pipeline being defined, held in a ContextVar (not a global).

Calling a pipeline function opens a state; component calls and control-flow
blocks record into it. A ContextVar keeps concurrent builds (threads, asyncio
tasks) apart and restores the outer state when a nested build ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from conveyor.ir import ComponentSpec, PipelineDefinitionError

if TYPE_CHECKING:
    from conveyor.dsl.task import PipelineTask


@dataclasses.dataclass
class BuildState:
    """Everything recorded while one top-level pipeline function runs."""

    pipeline: str
    tasks: dict[str, PipelineTask] = dataclasses.field(default_factory=dict)
    components: dict[str, ComponentSpec] = dataclasses.field(default_factory=dict)
    groups: dict[str, Any] = dataclasses.field(default_factory=dict)  # id -> ir group model
    group_stack: list[str] = dataclasses.field(default_factory=list)
    prefixes: list[str] = dataclasses.field(default_factory=list)
    counters: dict[str, int] = dataclasses.field(default_factory=dict)
    # Conditions of the If/Elif chain most recently closed under each parent group.
    chains: dict[str | None, list[Any] | None] = dataclasses.field(default_factory=dict)
    # Tasks created since each open sub-pipeline call began (for .after on sub-pipeline tasks).
    recorders: list[list[str]] = dataclasses.field(default_factory=list)

    @property
    def current_group(self) -> str | None:
        return self.group_stack[-1] if self.group_stack else None

    def error(
        self, message: str, task: str | None = None, argument: str | None = None
    ) -> PipelineDefinitionError:
        return PipelineDefinitionError(message, pipeline=self.pipeline, task=task, argument=argument)

    def next_id(self, base: str) -> str:
        """`for-loop-1`, `condition-2`, ...: unique group ids in this pipeline."""
        self.counters[base] = self.counters.get(base, 0) + 1
        return f"{base}-{self.counters[base]}"

    def task_name(self, base: str) -> str:
        """kfp-style unique task name (`train`, `train-2`), prefixed inside inlined sub-pipelines."""
        name = ".".join([*self.prefixes, base])
        if name not in self.tasks:
            return name
        n = 2
        while f"{name}-{n}" in self.tasks:
            n += 1
        return f"{name}-{n}"

    def add_component(self, spec: ComponentSpec) -> str:
        """Register a component spec; equal specs share a key, different ones with one name get `-2`."""
        key, n = spec.name, 2
        while key in self.components and self.components[key] != spec:
            key = f"{spec.name}-{n}"
            n += 1
        self.components[key] = spec
        return key

    def add_task(self, task: PipelineTask) -> None:
        self.tasks[task.name] = task
        self.chains[self.current_group] = None
        for recorder in self.recorders:
            recorder.append(task.name)

    def add_group(self, group: Any) -> None:
        self.groups[group.id] = group


_STATE: ContextVar[BuildState | None] = ContextVar("conveyor_pipeline_build", default=None)


def current_state() -> BuildState | None:
    return _STATE.get()


def require_state(what: str) -> BuildState:
    state = _STATE.get()
    if state is None:
        raise PipelineDefinitionError(
            f"{what} can only be used inside a @dsl.pipeline function while it is being built"
        )
    return state


@contextlib.contextmanager
def building(state: BuildState) -> Iterator[BuildState]:
    token = _STATE.set(state)
    try:
        yield state
    finally:
        _STATE.reset(token)


@contextlib.contextmanager
def in_group(state: BuildState, group_id: str) -> Iterator[None]:
    state.group_stack.append(group_id)
    try:
        yield
    finally:
        state.group_stack.pop()
