"""Read a component function's signature into IR inputs and outputs.

Everything the runtime needs to call the function (which parameters get an
artifact object, a path, a plain value or the final status, and where each
output comes from) is recorded here, so the spec alone is enough to run it.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any

from conveyor.ir import SINGLE_OUTPUT, Artifact, InputSpec, OutputSpec, PipelineDefinitionError
from conveyor.ir.types import (
    EMBEDDED_MARKER,
    INPUT_MARKER,
    OUTPUT_MARKER,
    InputPath,
    OutputPath,
    PipelineTaskFinalStatus,
    normalize_type,
    value_matches,
)


def _fail(component: str, message: str, argument: str | None = None) -> PipelineDefinitionError:
    where = f"component {component!r}" + (f", argument {argument!r}" if argument else "")
    return PipelineDefinitionError(f"{where}: {message}")


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """Resolved annotations (with Annotated extras); falls back to raw ones if a name cannot resolve."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # forward refs to local names: use what Python stored
        return dict(getattr(func, "__annotations__", {}))


def strip_optional(tp: Any) -> tuple[Any, bool]:
    """`Optional[int]` → (int, True)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return tp, False


def _list_of(tp: Any) -> Any | None:
    """`List[Dataset]` → Dataset; anything else → None."""
    if typing.get_origin(tp) is list and typing.get_args(tp):
        return typing.get_args(tp)[0]
    return None


def _defaults(param: inspect.Parameter, component: str, kind: str, type_name: str) -> dict[str, Any]:
    try:
        return default_fields(param, kind, type_name)
    except ValueError as exc:
        raise _fail(component, str(exc), param.name) from None


def _kind_type(component: str, name: str, tp: Any) -> tuple[str, str]:
    try:
        return normalize_type(tp)
    except TypeError as exc:
        raise _fail(component, str(exc), name) from None


def default_fields(param: inspect.Parameter, kind: str, type_name: str) -> dict[str, Any]:
    """InputSpec fields for a parameter's default; ValueError if the default does not fit its type."""
    if param.default is inspect.Parameter.empty:
        return {}
    default = param.default
    if kind == "artifact":
        if default is not None:
            raise ValueError("an artifact input can only default to None")
        return {"optional": True}
    if default is None:
        return {"optional": True, "has_default": True, "default": None}
    if not value_matches(type_name, list(default) if isinstance(default, tuple) else default):
        raise ValueError(f"default {default!r} is not a {type_name}")
    try:
        json.dumps(default, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError(f"default {default!r} is not JSON-serialisable") from None
    return {"has_default": True, "default": list(default) if isinstance(default, tuple) else default}


def read_signature(
    func: Callable[..., Any], component: str
) -> tuple[tuple[InputSpec, ...], tuple[OutputSpec, ...]]:
    """Inputs and outputs of a component function, or a PipelineDefinitionError naming the argument."""
    hints = type_hints(func)
    inputs: list[InputSpec] = []
    outputs: list[OutputSpec] = []
    for param in inspect.signature(func).parameters.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise _fail(component, "*args/**kwargs are not supported; declare each input", param.name)
        if param.name not in hints:
            raise _fail(
                component, "has no type annotation; annotate it (int, str, Input[Dataset], ...)", param.name
            )
        tp, optional = strip_optional(hints[param.name])
        if isinstance(tp, OutputPath):
            kind, type_name = _kind_type(component, param.name, tp.type)
            outputs.append(OutputSpec(name=param.name, kind=kind, type=type_name, style="path"))
            continue
        if isinstance(tp, InputPath):
            kind, type_name = _kind_type(component, param.name, tp.type)
            extra = _defaults(param, component, kind, type_name)
            inputs.append(InputSpec(name=param.name, kind=kind, type=type_name, style="path", **extra))
            continue
        if tp is PipelineTaskFinalStatus:
            inputs.append(
                InputSpec(
                    name=param.name, kind="parameter", type="PipelineTaskFinalStatus", style="final_status"
                )
            )
            continue
        if typing.get_origin(tp) is typing.Annotated:
            inner, *markers = typing.get_args(tp)
            if EMBEDDED_MARKER in markers:  # filled from the component's own asset: see embedded_inputs
                continue
            if OUTPUT_MARKER in markers:
                kind, type_name = _kind_type(component, param.name, inner)
                if kind != "artifact":
                    raise _fail(
                        component,
                        "Output[...] needs an artifact type; use OutputPath(...) for params",
                        param.name,
                    )
                outputs.append(OutputSpec(name=param.name, kind="artifact", type=type_name, style="artifact"))
                continue
            if INPUT_MARKER in markers:
                element = _list_of(inner)
                kind, type_name = _kind_type(component, param.name, element if element is not None else inner)
                if kind != "artifact":
                    raise _fail(
                        component, "Input[...] needs an artifact type like Input[Dataset]", param.name
                    )
                extra = _defaults(param, component, kind, type_name)
                inputs.append(
                    InputSpec(
                        name=param.name,
                        kind="artifact",
                        type=type_name,
                        style="artifact",
                        is_list=element is not None,
                        **extra,
                    )
                )
                continue
            tp = inner
        element = _list_of(tp)
        if _is_artifact(tp) or (element is not None and _is_artifact(element)):
            # kfp's pythonic artifacts: a plain `Dataset` / `List[Dataset]` parameter is an input
            kind, type_name = _kind_type(component, param.name, element if element is not None else tp)
            extra = _defaults(param, component, kind, type_name)
            inputs.append(InputSpec(name=param.name, kind="artifact", type=type_name, style="artifact",
                                    is_list=element is not None, **extra))
            continue
        kind, type_name = _kind_type(component, param.name, tp)
        extra = _defaults(param, component, kind, type_name)
        if optional and not extra:
            raise _fail(component, "Optional[...] parameters need a default (usually None)", param.name)
        inputs.append(InputSpec(name=param.name, kind=kind, type=type_name, style="value", **extra))
    outputs.extend(_return_outputs(hints.get("return", inspect.Signature.empty), component))
    _check_unique(component, inputs, outputs)
    return tuple(inputs), tuple(outputs)


def embedded_inputs(func: Callable[..., Any], component: str) -> dict[str, str]:
    """`EmbeddedInput[T]` parameters and their artifact types (not inputs a caller passes)."""
    found: dict[str, str] = {}
    for name, tp in type_hints(func).items():
        if typing.get_origin(tp) is typing.Annotated and EMBEDDED_MARKER in typing.get_args(tp)[1:]:
            inner = typing.get_args(tp)[0]
            found[name] = inner.__name__ if _is_artifact(inner) else "Artifact"
    return found


def _return_outputs(tp: Any, component: str) -> list[OutputSpec]:
    if tp in (None, type(None), inspect.Signature.empty):
        return []
    if hasattr(tp, "_fields"):
        try:
            fields = typing.get_type_hints(tp)
        except Exception:  # unresolvable forward refs: fall back to their text ("float", "Model")
            fields = {k: getattr(v, "__forward_arg__", v) for k, v in tp.__annotations__.items()}
        result = []
        for field, field_type in fields.items():
            kind, type_name = _kind_type(component, f"return.{field}", field_type)
            result.append(OutputSpec(name=field, kind=kind, type=type_name, style="return_field"))
        return result
    element = _list_of(tp)
    if element is not None and _is_artifact(element):
        raise _fail(component, "a component cannot return a list of artifacts (kfp refuses it too); return "
                    "one artifact, or collect them in the pipeline with dsl.Collected(...)", "return")
    kind, type_name = _kind_type(component, "return", tp)
    return [OutputSpec(name=SINGLE_OUTPUT, kind=kind, type=type_name, style="return")]


def _is_artifact(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Artifact)


def _check_unique(component: str, inputs: list[InputSpec], outputs: list[OutputSpec]) -> None:
    seen: set[str] = {i.name for i in inputs}
    for output in outputs:
        if output.name in seen:
            raise _fail(component, "the name is used by more than one input/output", output.name)
        seen.add(output.name)
