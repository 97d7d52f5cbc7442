"""Strings that a pipeline body formatted from pipeline values (`f"Hello {name}"`).

The channels format themselves as tokens (see `conveyor.ir.placeholders`); here a string handed to a
task becomes an IR `Concat` of literal text and the values the tokens stand for, checked against
what this build knows, so the value is filled in at run time locally and on Argo alike.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.context import BuildState
from conveyor.ir import Constant, LoopItem, PipelineParam, TaskOutput
from conveyor.ir.placeholders import leaked_token, split
from conveyor.ir.values import Concat


def _part(state: BuildState, fields: dict[str, str], task: str | None, argument: str | None) -> Any:
    if "loop" in fields:
        if fields["loop"] not in state.groups:
            raise state.error(f"formats the item of loop {fields['loop']!r}, which is not in this pipeline",
                              task=task, argument=argument)
        return LoopItem(loop_id=fields["loop"], field=fields.get("field") or None)
    name = fields.get("name", "")
    if not fields.get("task"):
        return PipelineParam(name=name)
    if fields["task"] not in state.tasks:
        raise state.error(f"formats an output of task {fields['task']!r}, which is not in this pipeline",
                          task=task, argument=argument)
    return TaskOutput(task=fields["task"], output=name)


def formatted_arg(state: BuildState, text: str, task: str | None, argument: str | None) -> Concat | None:
    """The run-time Concat a formatted string stands for, or None for a plain string."""
    pieces = split(text)
    if not any(isinstance(p, dict) for p in pieces):
        return None
    parts = [Constant(value=p) if isinstance(p, str) else _part(state, p, task, argument) for p in pieces]
    return Concat(parts=tuple(parts))


def refuse_tokens(state: BuildState, value: Any, task: str | None, argument: str) -> None:
    """A setting fixed at build time (display name, env value, ...) cannot hold a run-time value."""
    leaked = leaked_token(value)
    if leaked:
        raise state.error(
            f"{value!r:.120} holds the pipeline value {leaked}, which only has a value at run time; "
            f"{argument} is fixed when the pipeline is built. Pass the value to a task input and use it "
            "inside the component",
            task=task,
            argument=argument,
        )
