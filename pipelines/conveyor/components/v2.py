"""What kfp 2.x compiles (pipeline IR YAML) loaded as a component, or as a pipeline of several tasks.

Container executors keep their command/args (kfp's placeholder strings; `{"Concat": ...}` and
`{"IfPresent": ...}` JSON strings become the IR's structures). Python-function executors carry the
function source in their command: it is taken out, its `kfp` imports point at `conveyor`, and it runs
as a conveyor Python component. A DAG of several tasks, control flow included, replays as a pipeline
(`conveyor.components.dag`).
"""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

from conveyor.components.errors import ComponentSpecError
from conveyor.components.v1 import sanitize
from conveyor.dsl.container import SpecComponent, make_component
from conveyor.dsl.signature import read_signature
from conveyor.dsl.source import sha256
from conveyor.ir import ContainerImplementation, InputSpec, OutputSpec, PythonFunction
from conveyor.ir.artifacts import ARTIFACT_CLASSES
from conveyor.ir.container import Concat, IfPresent

PARAMETER_TYPES = {"STRING": "str", "NUMBER_INTEGER": "int", "NUMBER_DOUBLE": "float", "BOOLEAN": "bool",
                   "LIST": "list", "STRUCT": "dict", "TASK_FINAL_STATUS": "PipelineTaskFinalStatus"}


def _need(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ComponentSpecError(f"{where}: `{key}` is required")
    return data[key]


def _artifact_type(defn: dict) -> str:
    title = (defn.get("artifactType") or {}).get("schemaTitle", "system.Artifact")
    name = title.split(".")[-1]
    return name if name in ARTIFACT_CLASSES else "Artifact"


def _io(comp: dict, where: str) -> tuple[list[InputSpec], list[OutputSpec]]:
    inputs, outputs = [], []
    for name, defn in ((comp.get("inputDefinitions") or {}).get("parameters") or {}).items():
        ptype = defn.get("parameterType")
        if ptype not in PARAMETER_TYPES:
            raise ComponentSpecError(f"{where}.inputDefinitions.parameters.{name}.parameterType: {ptype!r}; "
                                     f"allowed: {sorted(PARAMETER_TYPES)}")
        extra: dict[str, Any] = {}
        if "defaultValue" in defn:
            default = defn["defaultValue"]
            if ptype == "NUMBER_INTEGER" and isinstance(default, float) and default.is_integer():
                default = int(default)  # the IR's protobuf numbers are all doubles
            extra = {"has_default": True, "default": default}
        if defn.get("isOptional"):
            extra.update(optional=True, has_default=True)
        style = "final_status" if ptype == "TASK_FINAL_STATUS" else "value"
        inputs.append(InputSpec(name=name, kind="parameter", type=PARAMETER_TYPES[ptype], style=style, **extra))
    for name, defn in ((comp.get("inputDefinitions") or {}).get("artifacts") or {}).items():
        inputs.append(InputSpec(name=name, kind="artifact", type=_artifact_type(defn), style="artifact",
                                is_list=bool(defn.get("isArtifactList")), optional=bool(defn.get("isOptional"))))
    for name, defn in ((comp.get("outputDefinitions") or {}).get("parameters") or {}).items():
        ptype = defn.get("parameterType")
        if ptype not in PARAMETER_TYPES:
            raise ComponentSpecError(f"{where}.outputDefinitions.parameters.{name}.parameterType: {ptype!r}")
        outputs.append(OutputSpec(name=name, kind="parameter", type=PARAMETER_TYPES[ptype], style="path"))
    for name, defn in ((comp.get("outputDefinitions") or {}).get("artifacts") or {}).items():
        outputs.append(OutputSpec(name=name, kind="artifact", type=_artifact_type(defn), style="artifact"))
    return inputs, outputs


def _struct(node: Any, where: str) -> Any:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Concat" in node:
        return Concat(items=tuple(_struct(i, where) for i in node["Concat"]))
    if isinstance(node, dict) and "IfPresent" in node:
        body = node["IfPresent"]
        many = lambda v: tuple(_struct(i, where) for i in ([] if v is None else v if isinstance(v, list) else [v]))  # noqa: E731
        return IfPresent(input_name=_need(body, "InputName", where), then=many(body.get("Then")),
                         otherwise=many(body.get("Else")))
    raise ComponentSpecError(f"{where}: expected a string, Concat or IfPresent, got {node!r}")


def _part(item: Any, where: str) -> Any:
    if isinstance(item, str) and item.startswith(('{"Concat"', '{"IfPresent"')):
        try:
            return _struct(json.loads(item), where)
        except json.JSONDecodeError:
            return item
    return str(item)


_KFP_IMPORT = re.compile(r"^(\s*)(from|import)\s+kfp\b", re.M)


def _python_source(container: dict, where: str) -> tuple[str, str] | None:
    """(function name, source) of a kfp Python-function executor, or None for a plain container."""
    args = [str(a) for a in container.get("args") or []]
    if "--function_to_execute" not in args:
        return None
    function = args[args.index("--function_to_execute") + 1]
    sources = [c for c in container.get("command") or [] if re.search(rf"^def {re.escape(function)}\(", str(c), re.M)]
    if not sources:
        raise ComponentSpecError(f"{where}.command: no element defines function {function!r}")
    source = _KFP_IMPORT.sub(lambda m: f"{m.group(1)}{m.group(2)} conveyor", sources[0])
    source = re.sub(r"^(\s*)import conveyor$", r"\1import conveyor as kfp", source, flags=re.M)
    return function, source


def load_executor(comp_key: str, comp: dict, executors: dict) -> SpecComponent:
    where = f"components.{comp_key}"
    label = _need(comp, "executorLabel", where)
    if label not in executors:
        raise ComponentSpecError(f"{where}.executorLabel: {label!r} is not in deploymentSpec.executors")
    container = _need(executors[label], "container", f"deploymentSpec.executors.{label}")
    cwhere = f"deploymentSpec.executors.{label}.container"
    image = _need(container, "image", cwhere)
    name = sanitize(comp_key.removeprefix("comp-"))
    python = _python_source(container, cwhere)
    if python is not None:
        function, source = python
        namespace: dict[str, Any] = {"__name__": "__conveyor_loaded__"}
        try:
            exec(compile(source, f"<{where}>", "exec"), namespace)  # noqa: S102 - the spec's own component code
        except Exception as exc:  # noqa: BLE001 - reported with the key
            raise ComponentSpecError(f"{cwhere}.command: the embedded function does not load: {exc}") from None
        func = namespace[function]
        inputs, outputs = read_signature(getattr(func, "python_func", func), name)
        impl = PythonFunction(function=function, source=source, source_digest=sha256(source), deps_digest="")
        spec = make_component(name, inputs, outputs, impl, inspect.getdoc(func), base_image=image)
        return SpecComponent(spec)
    inputs, outputs = _io(comp, where)
    env = {e["name"]: str(e.get("value", "")) for e in container.get("env") or []}
    impl = ContainerImplementation(image=image, command=tuple(_part(c, cwhere) for c in container.get("command") or ()),
                                   args=tuple(_part(a, cwhere) for a in container.get("args") or ()), env=env)
    return SpecComponent(make_component(name, inputs, outputs, impl, comp.get("description"), base_image=image))


def load_v2(data: dict[str, Any]) -> Any:
    components = _need(data, "components", "pipeline spec")
    executors = (data.get("deploymentSpec") or {}).get("executors") or {}
    root = _need(data, "root", "pipeline spec")
    tasks = _need(_need(root, "dag", "root"), "tasks", "root.dag")
    loaded = {key: load_executor(key, comp, executors) for key, comp in components.items()
              if "executorLabel" in comp}
    if len(tasks) == 1:
        (task,) = tasks.values()
        ref = task.get("componentRef", {}).get("name")
        if ref in loaded:
            return loaded[ref]
    from conveyor.components.dag import dag_pipeline

    name = (data.get("pipelineInfo") or {}).get("name") or "loaded-pipeline"
    return dag_pipeline(name, root, components, loaded)
