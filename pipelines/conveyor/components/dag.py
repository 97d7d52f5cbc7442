"""A kfp-compiled pipeline's DAG replayed as a conveyor pipeline, control flow included.

Each DAG task is called in dependency order. A task whose component has an executor becomes a
component call. A task whose component is itself a DAG becomes the block kfp compiled it from:
`triggerPolicy.condition` gives `dsl.If` (kfp writes Elif/Else as negations, which read the same),
`parameterIterator` gives `dsl.ParallelFor` (with `iteratorPolicy.parallelismLimit`), a DAG that a
sibling's `taskFinalStatus` points at gives `dsl.ExitHandler`, and any other DAG (condition
branches, sub-pipelines) is inlined. A DAG's outputs are what its `dag.outputs` select:
`valueFromParameter`/one artifact selector, several selectors or `valueFromOneof` as `dsl.OneOf`, and
the outputs of a loop as `dsl.Collected`. `ALL_UPSTREAM_TASKS_COMPLETED` on a task that is not an
exit task is `.ignore_upstream_failure()`. What kfp never writes (artifact iterators, nested
collections) is refused, naming the key.
"""

from __future__ import annotations

import json
from graphlib import CycleError, TopologicalSorter
from typing import Any

from conveyor import dsl
from conveyor.components.conditions import parse_condition
from conveyor.components.errors import ComponentSpecError
from conveyor.components.v2 import _io
from conveyor.dsl.channels import ConditionExpr, PipelineChannel, as_operand
from conveyor.dsl.container import pipeline_from_body
from conveyor.dsl.context import current_state

COMPLETED = "ALL_UPSTREAM_TASKS_COMPLETED"


class _Group:
    """A replayed DAG task: what its DAG exports, and the tasks it added (for `.after`)."""

    def __init__(self, outputs: dict[str, Any], task_names: list[str]) -> None:
        self.outputs, self.task_names = outputs, task_names


def _producers(task: dict) -> set[str]:
    found = set(task.get("dependentTasks") or [])
    for side in ("parameters", "artifacts"):
        for arg in ((task.get("inputs") or {}).get(side) or {}).values():
            for key in ("taskOutputParameter", "taskOutputArtifact", "taskFinalStatus"):
                if key in arg:
                    found.add(arg[key]["producerTask"])
    return found


def _item_field(selector: str, value: Any, where: str) -> Any:
    """kfp's `parseJson(string_value)["field"]` on a loop item: the item's field."""
    prefix = "parseJson(string_value)["
    if not (selector.startswith(prefix) and selector.endswith("]")):
        raise ComponentSpecError(f"{where}.parameterExpressionSelector: {selector!r} is not a field of the loop item")
    return value[json.loads(selector[len(prefix):-1])]


def _argument(arg: dict, where: str, kwargs: dict, made: dict) -> Any:
    if "componentInputParameter" in arg or "componentInputArtifact" in arg:
        value = kwargs[arg.get("componentInputParameter") or arg["componentInputArtifact"]]
        if "parameterExpressionSelector" in arg:
            value = _item_field(arg["parameterExpressionSelector"], value, where)
        return value
    if "runtimeValue" in arg:
        return arg["runtimeValue"].get("constant")
    if "taskOutputParameter" in arg:
        ref = arg["taskOutputParameter"]
        return made[ref["producerTask"]].outputs[ref["outputParameterKey"]]
    if "taskOutputArtifact" in arg:
        ref = arg["taskOutputArtifact"]
        return made[ref["producerTask"]].outputs[ref["outputArtifactKey"]]
    raise ComponentSpecError(f"{where}: unsupported argument {sorted(arg)}; allowed: componentInputParameter, "
                             "componentInputArtifact, runtimeValue, taskOutputParameter, taskOutputArtifact, "
                             "taskFinalStatus")


def _selected(sel: dict, made: dict, key: str) -> Any:
    return made[sel["producerSubtask"]].outputs[sel[key]]


def _dag_outputs(outputs: dict, made: dict, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, ref in (outputs.get("parameters") or {}).items():
        if "valueFromParameter" in ref:
            found[name] = _selected(ref["valueFromParameter"], made, "outputParameterKey")
        elif "valueFromOneof" in ref:
            sels = ref["valueFromOneof"].get("parameterSelectors") or []
            found[name] = dsl.OneOf(*[_selected(s, made, "outputParameterKey") for s in sels])
        else:
            raise ComponentSpecError(f"{where}.outputs.parameters.{name}: expected valueFromParameter or "
                                     "valueFromOneof")
    for name, ref in (outputs.get("artifacts") or {}).items():
        sels = ref.get("artifactSelectors") or []
        if not sels:
            raise ComponentSpecError(f"{where}.outputs.artifacts.{name}: artifactSelectors is empty")
        chans = [_selected(s, made, "outputArtifactKey") for s in sels]
        found[name] = chans[0] if len(chans) == 1 else dsl.OneOf(*chans)
    return found


class _Replay:
    def __init__(self, components: dict[str, Any], loaded: dict[str, Any]) -> None:
        self.components, self.loaded = components, loaded

    def dag(self, component: dict, kwargs: dict[str, Any], where: str) -> dict[str, Any]:
        """Replay one DAG's tasks; returns what its `dag.outputs` export."""
        tasks = component["dag"]["tasks"]
        try:
            order = list(TopologicalSorter({t: _producers(task) & set(tasks) for t, task in tasks.items()})
                         .static_order())
        except CycleError as exc:
            raise ComponentSpecError(f"{where}.tasks: dependency cycle {exc.args[1]}") from None
        exits = {t: task for t, task in tasks.items()
                 if any("taskFinalStatus" in a for a in ((task.get("inputs") or {}).get("parameters") or {}).values())}
        made: dict[str, Any] = {}
        for tname in order:
            if tname in made:
                continue
            if tname in exits and not self._handler_of(exits[tname]):
                raise ComponentSpecError(f"{where}.tasks.{tname}: taskFinalStatus needs a producerTask")
            handled = [e for e, task in exits.items() if self._handler_of(task) == tname]
            for exit_name in handled:  # kfp's exit task is called before its ExitHandler block opens
                made[exit_name] = self.task(exits[exit_name], kwargs, made, f"{where}.tasks.{exit_name}", exit=True)
            made[tname] = self.task(tasks[tname], kwargs, made, f"{where}.tasks.{tname}",
                                    handler=[made[e] for e in handled])
        return _dag_outputs(component["dag"].get("outputs") or {}, made, f"{where}")

    @staticmethod
    def _handler_of(task: dict) -> str | None:
        for arg in ((task.get("inputs") or {}).get("parameters") or {}).values():
            if "taskFinalStatus" in arg:
                return arg["taskFinalStatus"].get("producerTask")
        return None

    def task(self, task: dict, kwargs: dict, made: dict, where: str, exit: bool = False,
             handler: list[Any] | None = None) -> Any:
        if "artifactIterator" in task:
            raise ComponentSpecError(f"{where}.artifactIterator: looping over artifacts is not supported")
        ref = (task.get("componentRef") or {}).get("name")
        component = self.components.get(ref)
        if component is None:
            raise ComponentSpecError(f"{where}.componentRef.name: {ref!r} is not in `components`")
        args = {k: _argument(v, f"{where}.inputs.{side}.{k}", kwargs, made)
                for side in ("parameters", "artifacts")
                for k, v in ((task.get("inputs") or {}).get(side) or {}).items()
                if "taskFinalStatus" not in v}
        policy = task.get("triggerPolicy") or {}
        condition = policy.get("condition")
        state = current_state()
        before = set(state.tasks)  # type: ignore[union-attr]
        if condition:
            cond = parse_condition(condition, lambda name: as_operand(args[name]) if name in args else
                                   as_operand(kwargs[name]), f"{where}.triggerPolicy.condition")
            with dsl.If(ConditionExpr(cond)):
                outputs = self.call(task, component, ref, args, made, where, handler)
        else:
            outputs = self.call(task, component, ref, args, made, where, handler)
        names = [n for n in state.tasks if n not in before]  # type: ignore[union-attr]
        result = outputs if "dag" not in component else _Group(outputs, names)
        if policy.get("strategy") == COMPLETED and not exit:
            for name in names:
                state.tasks[name].ignore_upstream_failure()  # type: ignore[union-attr]
        return result

    def call(self, task: dict, component: dict, ref: str, args: dict, made: dict, where: str,
             handler: list[Any] | None) -> Any:
        if "dag" not in component:
            if ref not in self.loaded:
                raise ComponentSpecError(f"{where}.componentRef.name: {ref!r} has neither an executor nor a dag")
            called = self.loaded[ref](**args)
            deps = [made[d] for d in task.get("dependentTasks") or [] if d in made and not isinstance(made[d], _Group)]
            if deps:  # DAG-group dependencies come from the data they export (kfp allows no other)
                called.after(*deps)
            return called
        inner = f"components.{ref}.dag"
        if handler:
            with dsl.ExitHandler(handler[0]):
                return self.dag(component, args, inner)
        iterator = task.get("parameterIterator")
        if not iterator:
            return self.dag(component, args, inner)
        items = iterator.get("items") or {}
        if "inputParameter" in items:
            source = args[items["inputParameter"]]
        elif "raw" in items:
            source = json.loads(items["raw"])
        else:
            raise ComponentSpecError(f"{where}.parameterIterator.items: expected inputParameter or raw")
        limit = (task.get("iteratorPolicy") or {}).get("parallelismLimit")
        with dsl.ParallelFor(source, parallelism=limit) as item:
            exported = self.dag(component, {**args, iterator["itemInput"]: item}, inner)
        collected = {}
        for key, value in exported.items():
            if not isinstance(value, PipelineChannel) or getattr(value, "task_name", None) is None:
                raise ComponentSpecError(f"{inner}.outputs.{key}: only a task's own output can be collected "
                                         "from a loop (nested loops' collections are not supported)")
            collected[key] = dsl.Collected(value)
        return collected


def dag_pipeline(name: str, root: dict, components: dict[str, Any], loaded: dict[str, Any]) -> Any:
    if "dag" not in root or "tasks" not in root["dag"]:
        raise ComponentSpecError("root.dag.tasks: `tasks` is required")
    inputs, _ = _io(root, "root")
    replay = _Replay(components, loaded)

    def body(**kwargs: Any) -> dict[str, Any] | None:
        return replay.dag(root, kwargs, "root.dag") or None

    return pipeline_from_body(name, inputs, body, root.get("description"))
