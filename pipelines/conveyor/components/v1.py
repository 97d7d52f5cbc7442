"""v1 component specs: `name`, `inputs`, `outputs`, `implementation: container:` with dict placeholders."""

from __future__ import annotations

import json
import re
from typing import Any

from conveyor.components.errors import ComponentSpecError
from conveyor.dsl.container import SpecComponent, make_component
from conveyor.ir import ContainerImplementation, InputSpec, OutputSpec
from conveyor.ir.artifacts import ARTIFACT_CLASSES
from conveyor.ir.container import Concat, IfPresent

# kfp's own rule (dsl/types/type_utils.is_parameter_type): the short type name (`typing.List[int]` ->
# `List`; a mapping type such as `{GCSPath: {...}}`: its one key), lower-cased, names a parameter type;
# `PipelineTaskFinalStatus` is the exit task's status; anything else is an artifact class.
PARAMETER_TYPES = {"integer": "int", "int": "int", "double": "float", "float": "float", "string": "str",
                   "str": "str", "text": "str", "bool": "bool", "boolean": "bool", "dict": "dict", "list": "list",
                   "jsonobject": "dict", "jsonarray": "list"}
FINAL_STATUS = "PipelineTaskFinalStatus"


def _type_name(type_: Any) -> str | None:
    if isinstance(type_, dict) and type_:
        type_ = next(iter(type_))
    if not isinstance(type_, str):
        return None
    return type_.removeprefix("typing.").split("[", 1)[0]


def parameter_type(type_: Any) -> str | None:
    """The IR type of a v1 parameter type (None, untyped, is a str as before); None for an artifact."""
    if type_ is None:
        return "str"
    name = _type_name(type_)
    return PARAMETER_TYPES.get(name.lower()) if name else None


def sanitize(name: str) -> str:
    """kfp's Python names for spec names: `Input 1` -> `input_1`."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _artifact_type(type_: Any) -> str:
    name = _type_name(type_)
    return name if name in ARTIFACT_CLASSES else "Artifact"


def _part(item: Any, key: str, names: dict[str, str], outputs: dict[str, str]) -> Any:
    if isinstance(item, str | int | float):
        return str(item)
    if not isinstance(item, dict) or len(item) != 1:
        raise ComponentSpecError(f"{key}: expected a string or a one-key placeholder mapping, got {item!r}")
    (kind, value), = item.items()
    ref = lambda: names.get(value) or _unknown(key, kind, value, names)  # noqa: E731
    if kind == "inputValue":
        return f"{{{{$.inputs.parameters['{ref()}']}}}}"
    if kind == "inputPath":
        return f"{{{{$.inputs.artifacts['{ref()}'].path}}}}"
    if kind == "inputUri":
        return f"{{{{$.inputs.artifacts['{ref()}'].uri}}}}"
    if kind == "outputPath":
        name = ref()
        return (f"{{{{$.outputs.parameters['{name}'].output_file}}}}" if outputs.get(name) == "parameter"
                else f"{{{{$.outputs.artifacts['{name}'].path}}}}")
    if kind == "outputUri":
        return f"{{{{$.outputs.artifacts['{ref()}'].uri}}}}"
    sub = lambda items, where: tuple(_part(i, f"{key}.{where}", names, outputs) for i in _list(items))  # noqa: E731
    if kind == "concat":
        return Concat(items=sub(value, "concat"))
    if kind == "if":
        cond = (value or {}).get("cond", {})
        if not isinstance(cond, dict) or "isPresent" not in cond:
            raise ComponentSpecError(f"{key}.if.cond: only {{isPresent: NAME}} is supported, got {cond!r}")
        present = names.get(cond["isPresent"]) or _unknown(key, "isPresent", cond["isPresent"], names)
        return IfPresent(input_name=present, then=sub(value.get("then"), "if.then"),
                         otherwise=sub(value.get("else"), "if.else"))
    raise ComponentSpecError(f"{key}: unknown placeholder {kind!r}; allowed: inputValue, inputPath, inputUri, "
                             "outputPath, outputUri, concat, if")


def _list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _unknown(key: str, kind: str, value: Any, names: dict[str, str]) -> str:
    raise ComponentSpecError(f"{key}: {{{kind}: {value!r}}} names no declared input/output; declared: {sorted(names)}")


def load_v1(data: dict[str, Any]) -> SpecComponent:
    name = data.get("name")
    if not name:
        raise ComponentSpecError("component spec: `name` is required")
    container = (data.get("implementation") or {}).get("container")
    if not isinstance(container, dict):
        raise ComponentSpecError(f"component {name!r}: `implementation.container` is required (a mapping with image)")
    if not container.get("image"):
        raise ComponentSpecError(f"component {name!r}: `implementation.container.image` is required")
    names = {}
    for side in ("inputs", "outputs"):
        for i, item in enumerate(data.get(side) or []):
            if not isinstance(item, dict) or "name" not in item:
                raise ComponentSpecError(f"component {name!r}: `{side}[{i}]` needs a `name`")
            names[item["name"]] = sanitize(item["name"])
    outputs, kinds = [], {}
    for item in data.get("outputs") or []:
        py, type_ = sanitize(item["name"]), item.get("type")
        if type_ is not None and (ptype := parameter_type(type_)):
            kinds[py] = "parameter"
            outputs.append(OutputSpec(name=py, kind="parameter", type=ptype, style="path"))
        else:
            kinds[py] = "artifact"
            outputs.append(OutputSpec(name=py, kind="artifact", type=_artifact_type(type_), style="artifact"))
    cmd = [_part(c, "implementation.container.command", names, kinds) for c in _list(container.get("command"))]
    args = [_part(a, "implementation.container.args", names, kinds) for a in _list(container.get("args"))]
    text = repr((cmd, args))
    inputs = []
    for item in data.get("inputs") or []:
        type_ = item.get("type")
        py = sanitize(item["name"])
        extra = {"has_default": True, "default": item["default"]} if "default" in item else {}
        if item.get("optional"):
            extra.update(optional=True, has_default=True)
        if type_ == FINAL_STATUS:
            inputs.append(InputSpec(name=py, kind="parameter", type=FINAL_STATUS, style="final_status"))
        elif (ptype := parameter_type(type_)) and f"$.inputs.artifacts['{py}']" not in text:
            extra = _typed_default(extra, ptype, name, py)
            inputs.append(InputSpec(name=py, kind="parameter", type=ptype, **extra))
        else:
            inputs.append(InputSpec(name=py, kind="artifact", type=_artifact_type(type_), style="artifact",
                                    optional=bool(extra.get("optional"))))
    env = {str(k): str(v) for k, v in (container.get("env") or {}).items()}
    impl = ContainerImplementation(image=container["image"], command=tuple(cmd), args=tuple(args), env=env)
    spec = make_component(sanitize(name), inputs, outputs, impl, data.get("description"), base_image=impl.image)
    return SpecComponent(spec)


def _typed_default(extra: dict, type_name: str, comp: str, inp: str) -> dict:
    """v1 defaults are strings; give them their declared type."""
    if "default" in extra and isinstance(extra["default"], str) and type_name != "str":
        try:
            extra["default"] = json.loads(extra["default"].lower() if type_name == "bool" else extra["default"])
        except ValueError:
            raise ComponentSpecError(f"component {comp!r}: input {inp!r} default {extra['default']!r} "
                                     f"is not a {type_name}") from None
    return extra
