"""Turn the keyword arguments of a component call into IR arguments.

Checks that need only the call itself happen here, so the error points at
the line that made the call: unknown and missing arguments, and constants of
the wrong type. Checks that need the whole graph (kinds across tasks, loops,
cycles) happen in `conveyor.ir.validate` when the pipeline is finished.
"""

from __future__ import annotations

import json
from typing import Any

from conveyor.dsl.channels import ConstantChannel, PipelineChannel
from conveyor.dsl.context import BuildState
from conveyor.dsl.formatted import formatted_arg, refuse_tokens
from conveyor.ir import Constant, InputSpec, TaskFinalStatus
from conveyor.ir.types import value_matches


def _contains_channel(value: Any) -> bool:
    if isinstance(value, PipelineChannel):
        return True
    if isinstance(value, list | tuple):
        return any(_contains_channel(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_channel(v) for v in value.values())
    return False


def constant_or_error(state: BuildState, task: str, target: InputSpec, value: Any) -> Any:
    """A literal argument checked against the input's kind and type (a formatted string: its Concat)."""
    if getattr(value, "task_names", None) is not None:
        raise state.error(
            f"a task was passed; pass its output instead (task.output or task.outputs[...]), got {value!r}",
            task=task,
            argument=target.name,
        )
    if _contains_channel(value):
        raise state.error(
            "pipeline values nested inside a list or dict are not supported; pass the channel "
            "itself or build the structure inside a component",
            task=task,
            argument=target.name,
        )
    if isinstance(value, str) and (concat := formatted_arg(state, value, task, target.name)) is not None:
        if target.kind != "parameter" or target.type != "str":
            raise state.error(
                f"a formatted string {value!r:.80} is a str, but the input expects {target.kind} {target.type}; "
                "pass the pipeline value itself",
                task=task,
                argument=target.name,
            )
        return concat
    refuse_tokens(state, value, task, target.name)
    if target.kind == "artifact":
        raise state.error(
            f"expected an artifact ({target.type}) from an upstream task, got the constant {value!r}",
            task=task,
            argument=target.name,
        )
    if value is None and (target.optional or target.has_default):
        return Constant(value=None)
    if isinstance(value, tuple):
        value = list(value)
    if not value_matches(target.type, value):
        raise state.error(
            f"expected {target.type}, got {type(value).__name__} {value!r}", task=task, argument=target.name
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise state.error(
            f"constant {value!r} is not JSON-serialisable", task=task, argument=target.name
        ) from None
    return Constant(value=value)


def _unset_sub_pipeline_input(value: Any) -> bool:
    return isinstance(value, ConstantChannel) and value.value is None


def bind_arguments(
    state: BuildState, task: str, inputs: tuple[InputSpec, ...], kwargs: dict[str, Any]
) -> dict:
    """IR arguments for a call; final-status inputs are injected, as kfp does for exit tasks."""
    known = {i.name: i for i in inputs}
    for name in kwargs:
        if name not in known:
            allowed = sorted(n for n, i in known.items() if i.style != "final_status")
            raise state.error(f"unknown argument; allowed: {allowed}", task=task, argument=name)
    arguments: dict[str, Any] = {}
    for spec in inputs:
        if spec.style == "final_status":
            arguments[spec.name] = TaskFinalStatus()
            continue
        if spec.name not in kwargs:
            if spec.required:
                raise state.error(
                    f"missing required argument of type {spec.type}", task=task, argument=spec.name
                )
            continue
        value = kwargs[spec.name]
        if spec.kind == "artifact" and not spec.required and _unset_sub_pipeline_input(value):
            continue  # kfp: a sub-pipeline's unset optional artifact reaches its tasks as no argument
        if isinstance(value, PipelineChannel):
            arguments[spec.name] = value.to_arg()
        else:
            arguments[spec.name] = constant_or_error(state, task, spec, value)
    return arguments
