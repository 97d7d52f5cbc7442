"""`@dsl.pipeline`: a function whose body wires tasks; built lazily into an IR PipelineSpec.

Calling a pipeline inside another pipeline inlines it: its tasks join the
outer build with a name prefix, so executors see one flat DAG. The build runs
on first access to `.pipeline_spec`, then is cached.
"""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Callable
from typing import Any

from conveyor.dsl.bind import constant_or_error
from conveyor.dsl.channels import (
    ConcatChannel,
    ConstantChannel,
    FinalStatusChannel,
    PipelineChannel,
    PipelineParamChannel,
)
from conveyor.dsl.component import task_base_name
from conveyor.dsl.config import PipelineConfig, workspace_spec
from conveyor.dsl.context import BuildState, building, current_state
from conveyor.dsl.signature import default_fields, strip_optional, type_hints
from conveyor.dsl.subpipeline import SubPipelineTask
from conveyor.ir import SINGLE_OUTPUT, InputSpec, PipelineDefinitionError, PipelineSpec, validate
from conveyor.ir.types import FINAL_STATUS_TYPE, INPUT_MARKER, PipelineTaskFinalStatus, normalize_type
from conveyor.ir.values import Concat

_PY_DEFAULT_TYPES = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
    tuple: "list",
}


def _pipeline_inputs(func: Callable[..., Any], pipeline: str) -> tuple[InputSpec, ...]:
    hints = type_hints(func)
    inputs = []
    for param in inspect.signature(func).parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise PipelineDefinitionError(
                "*args/**kwargs are not supported", pipeline=pipeline, argument=param.name
            )
        tp, _ = strip_optional(hints.get(param.name, inspect.Parameter.empty))
        style = "value"
        if tp is PipelineTaskFinalStatus:  # a pipeline used as an exit task receives the final status
            inputs.append(InputSpec(name=param.name, kind="parameter", type=FINAL_STATUS_TYPE, style="final_status"))
            continue
        if tp is inspect.Parameter.empty:
            default = param.default
            kind, type_name = "parameter", _PY_DEFAULT_TYPES.get(type(default), "str")
        else:
            if typing.get_origin(tp) is typing.Annotated:
                inner, *markers = typing.get_args(tp)
                tp, style = inner, ("artifact" if INPUT_MARKER in markers else "value")
            try:
                kind, type_name = normalize_type(tp)
            except TypeError as exc:
                raise PipelineDefinitionError(str(exc), pipeline=pipeline, argument=param.name) from None
        try:
            extra = default_fields(param, kind, type_name)
        except ValueError as exc:
            raise PipelineDefinitionError(str(exc), pipeline=pipeline, argument=param.name) from None
        inputs.append(
            InputSpec(
                name=param.name,
                kind=kind,
                type=type_name,
                style="artifact" if kind == "artifact" else style,
                **extra,
            )
        )
    return tuple(inputs)


def _returned_channels(result: Any, state: BuildState) -> dict[str, PipelineChannel]:
    if result is None:
        return {}
    if isinstance(result, PipelineChannel):
        return {SINGLE_OUTPUT: result}
    if isinstance(result, dict) or (isinstance(result, tuple) and hasattr(result, "_fields")):
        channels = dict(result) if isinstance(result, dict) else dict(zip(result._fields, result))
        for name, value in channels.items():
            if not isinstance(value, PipelineChannel):
                raise state.error(f"pipeline output {name!r} must be a task output, got {value!r}")
        return channels
    if getattr(result, "task_names", None) is not None:
        raise state.error(f"a pipeline returns task outputs (task.output), not a task: got {result!r}")
    raise state.error(f"a pipeline returns a task output or a NamedTuple of them, got {result!r}")


class Pipeline:
    """A pipeline definition (kfp's GraphComponent): `.pipeline_spec` is its IR."""

    def __init__(
        self, func: Callable[..., Any], name: str | None = None, description: str | None = None,
        config: PipelineConfig | None = None,
    ) -> None:
        self.python_func = func
        self.workspace = workspace_spec(config, task_base_name(name or func.__name__))
        self.name = name or task_base_name(func.__name__)
        self.description = description if description is not None else inspect.getdoc(func)
        self.inputs = _pipeline_inputs(func, self.name)
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func
        self._spec: PipelineSpec | None = None
        self._lock = threading.Lock()

    @property
    def pipeline_spec(self) -> PipelineSpec:
        """The validated IR, built on first access; authoring errors surface here."""
        with self._lock:
            if self._spec is None:
                self._spec = self._build()
            return self._spec

    def _build(self) -> PipelineSpec:
        state = BuildState(pipeline=self.name)
        status = [i.name for i in self.inputs if i.style == "final_status"]
        if status:
            raise state.error(
                f"takes dsl.PipelineTaskFinalStatus ({', '.join(status)}), so it only runs as the exit task of "
                "another pipeline: call it there and pass the task to dsl.ExitHandler(...)", argument=status[0])
        with building(state):
            channels = {i.name: PipelineParamChannel(i.name, i.kind, i.type) for i in self.inputs}
            result = self.python_func(**channels)
            returned = _returned_channels(result, state)
        outputs = {}
        for name, channel in returned.items():
            arg = channel.to_arg()
            if arg.kind not in ("task_output", "collected", "one_of"):
                raise state.error(f"pipeline output {name!r} must come from a task, got {channel!r}")
            outputs[name] = arg
        spec = PipelineSpec(
            name=self.name,
            description=self.description,
            inputs=self.inputs,
            outputs=outputs,
            components=state.components,
            tasks={name: task.to_spec() for name, task in state.tasks.items()},
            groups=state.groups,
            workspace=self.workspace,
        )
        return validate(spec)

    def __conveyor_spec__(self, pipeline_parameters: dict[str, Any] | None = None) -> PipelineSpec:
        """The IR with `pipeline_parameters` as new input defaults (kfp's `compile(..., pipeline_parameters=)`)."""
        return self.pipeline_spec.with_defaults(pipeline_parameters or {})

    def __call__(self, *args: Any, **kwargs: Any) -> SubPipelineTask:
        state = current_state()
        if state is None:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} was called directly; run it with conveyor.run({self.__name__}, "
                "arguments={...}), or call it inside another @dsl.pipeline to use it as a component"
            )
        return self._inline(state, args, kwargs)

    def _inline(self, state: BuildState, args: tuple[Any, ...], kwargs: dict[str, Any]) -> SubPipelineTask:
        base = task_base_name(self.name)
        key = f"pipeline:{'.'.join([*state.prefixes, base])}"
        state.counters[key] = state.counters.get(key, 0) + 1
        prefix = base if state.counters[key] == 1 else f"{base}-{state.counters[key]}"
        label = ".".join([*state.prefixes, prefix])
        if args:
            raise state.error("pipelines take keyword arguments only", task=label)
        known = {i.name: i for i in self.inputs}
        for name in kwargs:
            if name not in known:
                raise state.error(f"unknown argument; allowed: {sorted(known)}", task=label, argument=name)
        channels: dict[str, PipelineChannel] = {}
        for spec in self.inputs:
            if spec.style == "final_status":
                if spec.name in kwargs:
                    raise state.error("the final status is passed in by dsl.ExitHandler; do not pass it",
                                      task=label, argument=spec.name)
                channels[spec.name] = FinalStatusChannel()
                continue
            if spec.name in kwargs:
                value = kwargs[spec.name]
                if not isinstance(value, PipelineChannel):
                    arg = constant_or_error(state, label, spec, value)
                    value = (ConcatChannel(value, arg) if isinstance(arg, Concat)
                             else ConstantChannel(arg.value, spec.type))
                channels[spec.name] = value
            elif spec.required:
                raise state.error(
                    f"missing required argument of type {spec.type}", task=label, argument=spec.name
                )
            else:
                channels[spec.name] = ConstantChannel(spec.default, spec.type)
        recorder: list[str] = []
        state.prefixes.append(prefix)
        state.recorders.append(recorder)
        try:
            result = self.python_func(**channels)
        finally:
            state.prefixes.pop()
            state.recorders.remove(recorder)
        return SubPipelineTask(state, label, recorder, _returned_channels(result, state))

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"


def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: Any = None,
) -> Any:
    """Decorator, bare or with arguments, as in kfp. `pipeline_root` and `display_name` are accepted
    for compatibility (artifact locations come from the profile); `pipeline_config` gives the run a
    workspace (dsl.PipelineConfig)."""

    def wrap(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name, description=description, config=pipeline_config)

    return wrap(func) if func is not None else wrap
