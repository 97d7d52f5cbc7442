"""The root DAG of a kfp-compiled pipeline as a conveyor pipeline: tasks called in dependency order.

Plain wiring loads: `componentInputParameter`/`componentInputArtifact`, `runtimeValue.constant`,
`taskOutputParameter`/`taskOutputArtifact` and `dependentTasks`. Conditions, loops and nested DAGs in
a loaded spec are refused naming the key (write them in Python with dsl.If / dsl.ParallelFor).
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from typing import Any

from conveyor.components.errors import ComponentSpecError
from conveyor.components.v2 import _io
from conveyor.dsl.container import pipeline_from_body

UNSUPPORTED = ("triggerPolicy", "iteratorPolicy", "parameterIterator", "artifactIterator")


def _producers(task: dict) -> set[str]:
    found = set(task.get("dependentTasks") or [])
    for side in ("parameters", "artifacts"):
        for arg in ((task.get("inputs") or {}).get(side) or {}).values():
            for key in ("taskOutputParameter", "taskOutputArtifact"):
                if key in arg:
                    found.add(arg[key]["producerTask"])
    return found


def _argument(arg: dict, where: str, kwargs: dict, tasks: dict) -> Any:
    if "componentInputParameter" in arg:
        return kwargs[arg["componentInputParameter"]]
    if "componentInputArtifact" in arg:
        return kwargs[arg["componentInputArtifact"]]
    if "runtimeValue" in arg:
        return arg["runtimeValue"].get("constant")
    if "taskOutputParameter" in arg:
        ref = arg["taskOutputParameter"]
        return tasks[ref["producerTask"]].outputs[ref["outputParameterKey"]]
    if "taskOutputArtifact" in arg:
        ref = arg["taskOutputArtifact"]
        return tasks[ref["producerTask"]].outputs[ref["outputArtifactKey"]]
    raise ComponentSpecError(f"{where}: unsupported argument {sorted(arg)}; allowed: componentInputParameter, "
                             "componentInputArtifact, runtimeValue, taskOutputParameter, taskOutputArtifact")


def _outputs(outputs: dict, made: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's outputs (`root.dag.outputs`): which task output each one is."""
    found = {}
    for name, ref in (outputs.get("parameters") or {}).items():
        src = ref.get("valueFromParameter")
        if src is None:
            raise ComponentSpecError(f"root.dag.outputs.parameters.{name}: only valueFromParameter is supported")
        found[name] = made[src["producerSubtask"]].outputs[src["outputParameterKey"]]
    for name, ref in (outputs.get("artifacts") or {}).items():
        (src, *more) = ref.get("artifactSelectors") or [None]
        if src is None or more:
            raise ComponentSpecError(f"root.dag.outputs.artifacts.{name}: exactly one artifactSelector is supported")
        found[name] = made[src["producerSubtask"]].outputs[src["outputArtifactKey"]]
    return found


def dag_pipeline(name: str, root: dict, loaded: dict[str, Any]) -> Any:
    dag = root["dag"]["tasks"]
    for tname, task in dag.items():
        for key in UNSUPPORTED:
            if key in task:
                raise ComponentSpecError(f"root.dag.tasks.{tname}.{key}: control flow in a loaded spec is not "
                                         "supported; write the pipeline in Python with dsl.If / dsl.ParallelFor")
        ref = (task.get("componentRef") or {}).get("name")
        if ref not in loaded:
            raise ComponentSpecError(f"root.dag.tasks.{tname}.componentRef.name: {ref!r} is not a component "
                                     "with an executor (nested DAGs are not supported)")
    try:
        order = list(TopologicalSorter({t: _producers(task) for t, task in dag.items()}).static_order())
    except CycleError as exc:
        raise ComponentSpecError(f"root.dag.tasks: dependency cycle {exc.args[1]}") from None
    inputs, _ = _io(root, "root")

    def body(**kwargs: Any) -> dict[str, Any] | None:
        made: dict[str, Any] = {}
        for tname in order:
            task = dag[tname]
            where = f"root.dag.tasks.{tname}.inputs"
            args = {k: _argument(v, f"{where}.{side}.{k}", kwargs, made)
                    for side in ("parameters", "artifacts")
                    for k, v in ((task.get("inputs") or {}).get(side) or {}).items()}
            made[tname] = loaded[task["componentRef"]["name"]](**args)
            deps = [made[d] for d in task.get("dependentTasks") or []]
            if deps:
                made[tname].after(*deps)
        return _outputs(root["dag"].get("outputs") or {}, made) or None

    return pipeline_from_body(name, inputs, body, (root.get("description")))
