"""From the text Argo passes on the argv back to the typed values the local scheduler would resolve.

The cache key is computed from these values, so they must equal - type included - what
``conveyor.executor.graph.RunGraph.resolve`` gives for the same run locally: a float pipeline
parameter is a float even when its default was written ``1``; an artifact is its stored dict
(uri + digest); an exit task's final status has the local keys and states.

Text forms (shared with the compiler and the launcher): a ``str`` is raw, anything else is JSON;
an artifact is :func:`artifact_ref` - its stored dict, or, when its metadata is large, a reference
to the producing task's recorded outputs that :func:`decode_artifact` looks up in the metadata store.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from conveyor.ir.errors import PermanentError
from conveyor.ir.graph import enclosing_loops
from conveyor.ir.placeholders import concat_part_name, join_parts
from conveyor.ir.spec import InputSpec, PipelineSpec
from conveyor.ir.values import (
    Collected,
    Concat,
    Constant,
    LoopItem,
    OneOf,
    PipelineParam,
    TaskFinalStatus,
    TaskOutput,
)
from conveyor.runtime.pod.argv import PodArgs, PodUsageError
from conveyor.runtime.protocol.codec import artifact_ref, decode_artifact, parse_json_leniently, text_form
from conveyor.stores.metadata.api import MetadataStore

_SUFFIXES = re.compile(r"(\([^()]*\))+$")  # Argo's attempt and loop-item suffixes: task(0), task(1:a)(0)

__all__ = ["ARGO_STATES", "InputResolver", "artifact_ref", "decode_artifact", "decode_value", "instance_id", "text_form"]

ARGO_STATES = {"succeeded": "SUCCEEDED", "failed": "FAILED", "error": "FAILED"}


def decode_value(type_name: str, text: str, what: str, lenient: bool = False) -> Any:
    if type_name == "str":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if lenient:
            return text
        raise PermanentError(f"{what}: {text[:80]!r} is not a JSON {type_name}") from None


def instance_id(spec: PipelineSpec, args: PodArgs) -> str:
    """The task id a pod records under: the task name, plus (inside loops) a digest of its inputs.

    Argo gives a loop iteration no index, so the id is derived from what the iteration receives;
    it is stable across retries of the same iteration, which is what attempt numbering needs.
    """
    if not enclosing_loops(spec, args.task):
        return args.task
    material = json.dumps({"inputs": args.inputs, "loops": args.loop_indices}, sort_keys=True)
    return f"{args.task}[{hashlib.sha256(material.encode()).hexdigest()[:10]}]"


class InputResolver:
    """Resolves one task's arguments the way the local graph does."""

    def __init__(self, spec: PipelineSpec, args: PodArgs, store: MetadataStore | None):
        self.spec, self.args, self.store = spec, args, store
        self.task = spec.tasks[args.task]
        self.component = spec.component_of(args.task)

    def resolve(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(parameters, artifacts) as the scheduler puts them in a request."""
        params: dict[str, Any] = {}
        arts: dict[str, Any] = {}
        for inp in self.component.inputs:
            if inp.name not in self.task.arguments or inp.name in self.args.omitted:
                continue  # an omitted input takes the component's default, as locally (readiness.OMITTED)
            value = self._value(inp, self.task.arguments[inp.name])
            (arts if inp.kind == "artifact" else params)[inp.name] = value
        return params, arts

    def _text(self, name: str) -> str:
        if name not in self.args.inputs:
            raise PodUsageError(f"task {self.args.task!r}: input {name!r} was not passed (--input {name}=...)")
        return self.args.inputs[name]

    def _value(self, inp: InputSpec, arg: Any) -> Any:
        what = f"task {self.args.task!r} input {inp.name!r}"
        if isinstance(arg, Constant):
            return arg.value
        if isinstance(arg, TaskFinalStatus):
            return self.final_status(self._text(inp.name))
        if isinstance(arg, LoopItem) and arg.loop_id in self.args.loop_indices:
            return self._indexed_item(arg, what)
        if isinstance(arg, Concat):  # each run-time part came in its own input, typed as locally
            return join_parts([self._value(InputSpec(name=concat_part_name(inp.name, i), kind="parameter",
                                                     type="any"), part)
                               for i, part in enumerate(arg.parts)])
        text = self._text(inp.name)
        if isinstance(arg, Collected):
            produced = self.spec.component_of(arg.task).output(arg.output)
            depth = len(enclosing_loops(self.spec, arg.task)) - len(
                set(enclosing_loops(self.spec, arg.task)) & set(enclosing_loops(self.spec, self.args.task)))
            return self._collected(text, depth, produced.kind if produced else inp.kind,
                                   produced.type if produced else inp.type, what)
        if inp.kind == "artifact":
            return decode_artifact(text, self.store, what)
        if isinstance(arg, PipelineParam):
            return self._pipeline_param(arg.name, text, what)
        if isinstance(arg, OneOf):  # the branch that ran (Argo picked it); every branch has one type
            arg = arg.items[0]
        if isinstance(arg, TaskOutput):
            produced = self.spec.component_of(arg.task).output(arg.output)
            return decode_value(produced.type if produced else inp.type, text, what)
        return decode_value(inp.type, text, what, lenient=True)  # a loop item Argo substituted

    def _pipeline_param(self, name: str, text: str, what: str) -> Any:
        declared = self.spec.input(name)
        if declared is None:
            raise PermanentError(f"{what}: pipeline parameter {name!r} is not declared")
        if text == "null" and (declared.optional or (declared.has_default and declared.default is None)):
            return None
        value = decode_value(declared.type, text, what)
        if declared.type == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # what bind_arguments does locally
        return value

    def _indexed_item(self, arg: LoopItem, what: str) -> Any:
        group = self.spec.groups.get(arg.loop_id)
        items = getattr(getattr(group, "items", None), "value", None)
        index = self.args.loop_indices[arg.loop_id]
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise PodUsageError(f"{what}: --loop-index {arg.loop_id}={index} names no item of that loop")
        item = items[index]
        if arg.field is None:
            return item
        if not isinstance(item, dict) or arg.field not in item:
            raise PermanentError(f"{what}: item {index} has no field {arg.field!r}")
        return item[arg.field]

    def _collected(self, value: Any, depth: int, kind: str, type_name: str, what: str) -> Any:
        def leaf(v: Any) -> Any:
            if kind == "artifact":
                return decode_artifact(v, self.store, what)
            return decode_value(type_name, v, what, lenient=True) if isinstance(v, str) else v

        def level(v: Any, d: int) -> Any:
            if d == 0:
                return leaf(v)
            if isinstance(v, str):
                v = parse_json_leniently(v)
            if not isinstance(v, list):
                raise PermanentError(f"{what}: expected a JSON list of collected outputs, got {str(v)[:80]!r}")
            return [level(x, d - 1) for x in v]

        if depth == 0:  # the producer's loops are all bound here: a single value, collected as one
            return [leaf(value)]
        return level(value, depth)

    def _failed_task(self, failures: list[dict[str, Any]]) -> tuple[str, str]:
        """(task, message) of the first task that failed, from Argo's ``{{workflow.failures}}``.

        Argo lists every failed node in map order: the workflow's own DAG node (displayName = the
        workflow's name), condition and loop groups, a retried task's Retry node ("No more retries
        left") and its attempts (``task(0)``, ``task(1:item)``). Every entry has a podName (Argo
        generates one for any node), so the task is found by name: the entry whose displayName, less
        its ``(...)`` suffixes, is a task of the spec; the earliest to finish, with the message of
        its last attempt."""
        def base(entry: dict[str, Any]) -> str:
            return _SUFFIXES.sub("", str(entry.get("displayName") or ""))

        named = sorted((f for f in failures if base(f) in self.spec.tasks),
                       key=lambda f: str(f.get("finishedAt") or "~"))  # unknown end: last
        if not named:  # no task among them (a group or the workflow itself failed): no name to give
            return "", next((str(f["message"]) for f in failures if f.get("message")), "")
        task = base(named[0])
        attempts = [f for f in named if base(f) == task and f.get("displayName") != task]
        return task, str((attempts[-1] if attempts else named[0]).get("message") or "")

    def final_status(self, text: str) -> dict[str, Any]:
        """The exit task's status with the local keys: SUCCEEDED/FAILED, error code and message."""
        data = parse_json_leniently(text)
        data = data if isinstance(data, dict) else {}
        raw = str(data.get("state") or "")
        state = ARGO_STATES.get(raw.lower(), raw.upper() or "FAILED")
        status: dict[str, Any] = {"state": state, "error_code": None, "error_message": None,
                                  "pipeline_task_name": "", "pipeline_job_resource_name": self.args.run_id}
        if state == "SUCCEEDED":
            return status
        failures = parse_json_leniently(self.args.workflow_failures)
        failures = [f for f in failures if isinstance(f, dict)] if isinstance(failures, list) else []
        name, message = self._failed_task(failures)
        status.update(error_code=1, pipeline_task_name=name,
                      error_message=f"task {name}: {message or 'failed'}" if name
                      else f"the workflow failed: {message}" if message else "the workflow failed")
        return status
