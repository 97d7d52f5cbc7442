"""`@dsl.container_component` and `dsl.ContainerSpec`; components whose IR is known up front.

The decorated function is called once, at decoration time, with a placeholder for each input and
output; the `ContainerSpec` it returns becomes the IR's `ContainerImplementation` (as in kfp).
`SpecComponent` is also what `conveyor.components.load_component_from_*` returns for a container
or Python component read from YAML. `one_task_pipeline` wraps any component as a pipeline of one
task, which `Compiler().compile(component, ...)` and `conveyor run FILE:COMPONENT` use (as kfp does).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conveyor.dsl.component import PythonComponent, task_base_name
from conveyor.dsl.placeholders import (
    ArtifactPlaceholder,
    InputPathPlaceholder,
    InputValuePlaceholder,
    OutputParameterPlaceholder,
    OutputPathPlaceholder,
    to_part,
)
from conveyor.dsl.signature import read_signature
from conveyor.ir import ComponentSpec, InputSpec, OutputSpec, PipelineDefinitionError
from conveyor.ir.artifacts import artifact_class
from conveyor.ir.container import ContainerImplementation, check_container
from conveyor.ir.types import Input


@dataclass
class ContainerSpec:
    """What a container component runs: kfp's `dsl.ContainerSpec(image, command, args)`."""

    image: str
    command: Sequence[Any] | None = None
    args: Sequence[Any] | None = None
    env: dict[str, str] = field(default_factory=dict)


class SpecComponent(PythonComponent):
    """A component built from a ready `ComponentSpec`; called in a pipeline it adds a task."""

    def __init__(self, spec: ComponentSpec, python_func: Callable[..., Any] | None = None) -> None:
        self.python_func = python_func
        self.name = spec.name
        self.description = spec.description
        self.inputs, self.outputs = spec.inputs, spec.outputs
        self.base_image, self.packages_to_install = spec.base_image, spec.packages_to_install
        self.cache_output_for_seconds, self.cache_version = spec.cache_ttl_seconds, spec.cache_version
        self._spec = spec
        if python_func is not None:
            self.__wrapped__ = python_func
            self.__doc__, self.__name__ = python_func.__doc__, python_func.__name__

    @property
    def component_spec(self) -> ComponentSpec:
        return self._spec  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<component {self.name}>"


def _placeholder_for(item: InputSpec | OutputSpec, side: str) -> Any:
    if side == "inputs":
        if item.style == "path":
            return InputPathPlaceholder(item.name)
        return ArtifactPlaceholder("inputs", item.name) if item.kind == "artifact" else InputValuePlaceholder(item.name)
    if item.kind == "parameter":
        return OutputParameterPlaceholder(item.name)
    return ArtifactPlaceholder("outputs", item.name) if item.style == "artifact" else OutputPathPlaceholder(item.name)


def _without_return(func: Callable[..., Any]) -> Callable[..., Any]:
    """The same function minus its `-> dsl.ContainerSpec` annotation, for the signature reader."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__annotations__ = {k: v for k, v in getattr(func, "__annotations__", {}).items() if k != "return"}
    return copy


def container_spec_to_ir(spec: Any, component: str) -> ContainerImplementation:
    if not isinstance(spec, ContainerSpec):
        raise PipelineDefinitionError(
            f"container component {component!r} must return dsl.ContainerSpec(image=..., command=..., args=...), "
            f"got {spec!r}")
    return ContainerImplementation(image=spec.image, command=tuple(to_part(c) for c in spec.command or ()),
                                   args=tuple(to_part(a) for a in spec.args or ()), env=dict(spec.env))


def make_component(name: str, inputs: Sequence[InputSpec], outputs: Sequence[OutputSpec],
                   impl: Any, description: str | None = None, **extra: Any) -> ComponentSpec:
    """A checked ComponentSpec: a container's placeholders must name its own inputs and outputs."""
    if isinstance(impl, ContainerImplementation):
        check_container(impl, inputs, outputs, name)
    return ComponentSpec(name=name, description=description, inputs=tuple(inputs), outputs=tuple(outputs),
                         implementation=impl, **extra)


def container_component(func: Callable[..., Any]) -> SpecComponent:
    """Decorator: the function returns a `dsl.ContainerSpec` built from its placeholder arguments."""
    if not inspect.isfunction(func):
        raise TypeError(f"@dsl.container_component decorates a function, got {func!r}")
    inputs, outputs = read_signature(_without_return(func), func.__name__)
    args = {i.name: _placeholder_for(i, "inputs") for i in inputs}
    args.update({o.name: _placeholder_for(o, "outputs") for o in outputs})
    impl = container_spec_to_ir(func(**args), func.__name__)
    spec = make_component(func.__name__, inputs, outputs, impl, inspect.getdoc(func), base_image=impl.image)
    return SpecComponent(spec, func)


_PY_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def pipeline_from_body(name: str, inputs: Sequence[InputSpec], body: Callable[..., Any],
                       description: str | None = None) -> Any:
    """A `Pipeline` whose inputs are `inputs` and whose body is `body(**inputs)` (for specs built from data)."""
    from conveyor.dsl.pipeline import Pipeline

    params, notes = [], {}
    for item in inputs:
        annotation = Input[artifact_class(item.type)] if item.kind == "artifact" else _PY_TYPES.get(item.type, Any)
        default = item.default if item.has_default else (None if item.optional else inspect.Parameter.empty)
        params.append(inspect.Parameter(item.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
        notes[item.name] = annotation
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__annotations__ = notes
    body.__name__ = body.__qualname__ = name.replace("-", "_")
    return Pipeline(body, name=task_base_name(name), description=description)


def one_task_pipeline(component: PythonComponent) -> Any:
    """A pipeline whose inputs are the component's and whose one task calls it (kfp compiles a
    component the same way); its outputs are the component's outputs."""
    spec = component.component_spec

    def body(**kwargs: Any) -> dict[str, Any] | None:
        task = component(**kwargs)
        return {o.name: task.outputs[o.name] for o in spec.outputs} or None

    return pipeline_from_body(spec.name, spec.inputs, body, spec.description)
