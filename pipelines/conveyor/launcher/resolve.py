"""Submit-time cache resolution: the whole cached prefix of a run, before anything is scheduled.

Walks the DAG in topological order exactly as the local scheduler decides a task: ``.after``
first, then arguments, then enclosing conditions, then the cache. A task whose inputs are all
known - constants, pipeline arguments, outputs of tasks already resolved as cached - gets its
key from the same function the pod and the scheduler use (``conveyor.runtime.protocol.keys.task_key``); a hit
whose artifacts still verify is *cached*, and its outputs feed the keys downstream. A condition
that is already decidable and false makes its tasks *skipped*. Everything else (loop bodies,
uncached tasks and what depends on them) is left for the cluster, where each pod checks the
cache again. A task in one ParallelFor whose items are already known (a literal list, a
pipeline argument, a cached output) resolves per item, like the local scheduler's iterations
``task[0]``, ``task[1]``...: when every item is a verified hit the loop is cached as a whole and its
``Collected`` outputs (in item order) feed the keys downstream.

When every task resolves, no Workflow is needed at all. Exit tasks resolve last, with the
final status a fully cached run has locally (SUCCEEDED), so they hit the same cache entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conveyor.ir.conditions import evaluate
from conveyor.ir.errors import ConditionEvaluationError
from conveyor.ir.graph import enclosing_loops, task_groups
from conveyor.ir.placeholders import join_parts
from conveyor.ir.spec import ConditionGroup, ExitHandlerGroup, PipelineSpec
from conveyor.ir.values import (
    Collected,
    Concat,
    Constant,
    LoopItem,
    PipelineParam,
    TaskFinalStatus,
    TaskOutput,
)
from conveyor.runtime.protocol.codec import artifact_ref, text_form
from conveyor.runtime.protocol.hits import verified
from conveyor.runtime.protocol.keys import task_key
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

SUCCESS_STATUS = {"state": "SUCCEEDED", "error_code": None, "error_message": None, "pipeline_task_name": ""}


class _Unknown(Exception):
    """A value only the cluster can produce."""


class _Skip(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Resolution:
    """What the client already knows about a run: cached tasks (with their entries) and skipped ones."""

    spec: PipelineSpec
    cached: dict[str, CacheEntry] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # task -> reason
    # Tasks inside a loop whose every item hit: task -> [(instance id, key, entry)] in item order.
    # Never injected into a partial Workflow (the compiler cannot drop one iteration); when the
    # run is not complete the loop runs again and its pods find these same entries.
    loops: dict[str, list[tuple[str, str, CacheEntry]]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.cached) + len(self.loops) + len(self.skipped) == len(self.spec.tasks)

    def injected(self) -> dict[str, dict[str, str]]:
        """CompileOptions.cached: each cached task's outputs in the text forms the pods read."""
        out: dict[str, dict[str, str]] = {}
        for task, entry in self.cached.items():
            texts = {k: text_form(v) for k, v in entry.outputs.get("parameters", {}).items()}
            for name, art in entry.outputs.get("artifacts", {}).items():
                texts[name] = artifact_ref(art, entry.source_run_id, entry.source_task_id, name)
            out[task] = texts
        return out

    def output_value(self, task: str, output: str) -> Any:
        outputs = self.cached[task].outputs
        if output in outputs.get("artifacts", {}):
            return outputs["artifacts"][output]
        return outputs["parameters"][output]


class _Resolver:
    def __init__(self, spec: PipelineSpec, arguments: dict[str, Any], store: MetadataStore,
                 artifacts: ArtifactStore, max_staleness_s: float | None, run_id: str):
        self.spec, self.arguments, self.store, self.artifacts = spec, arguments, store, artifacts
        self.max_staleness_s, self.run_id = max_staleness_s, run_id
        self.result = Resolution(spec)
        self.items: dict[str, Any] = {}  # loop id -> the item being resolved

    def _loop_outputs(self, task: str, output: str) -> list[Any]:
        out = []
        for _, _, entry in self.result.loops[task]:
            outputs = entry.outputs
            out.append(outputs.get("artifacts", {}).get(output, outputs.get("parameters", {}).get(output)))
        return out

    def value(self, arg: Any) -> Any:
        if isinstance(arg, Constant):
            return arg.value
        if isinstance(arg, PipelineParam):
            return self.arguments[arg.name]
        if isinstance(arg, LoopItem):
            if arg.loop_id not in self.items:
                raise _Unknown(arg.loop_id)
            item = self.items[arg.loop_id]
            return item[arg.field] if arg.field else item
        if isinstance(arg, Collected) and arg.task in self.result.loops:
            return self._loop_outputs(arg.task, arg.output)
        if isinstance(arg, TaskOutput | Collected):
            if arg.task in self.result.skipped:
                raise _Skip(f"upstream {arg.task} skipped")
            if arg.task not in self.result.cached or (isinstance(arg, Collected) and enclosing_loops(self.spec, arg.task)):
                raise _Unknown(arg.task)
            value = self.result.output_value(arg.task, arg.output)
            return [value] if isinstance(arg, Collected) else value
        if isinstance(arg, TaskFinalStatus):
            return {**SUCCESS_STATUS, "pipeline_job_resource_name": self.run_id}
        if isinstance(arg, Concat):
            return join_parts([self.value(part) for part in arg.parts])
        raise _Unknown(repr(arg))  # loop items: only inside loops, which run on the cluster

    def decide(self, task: str) -> None:
        loops = enclosing_loops(self.spec, task)
        if loops:
            if len(loops) == 1:
                self.decide_loop(task, loops[0])
            return
        found = self.lookup(task)
        if found is not None:
            self.result.keys[task], self.result.cached[task] = found

    def decide_loop(self, task: str, loop_id: str) -> None:
        """Every item of the (single, known) loop must hit; conditions inside loops stay on the cluster."""
        if any(isinstance(self.spec.groups[g], ConditionGroup) for g in task_groups(self.spec, task)):
            return
        try:
            items = self.value(self.spec.groups[loop_id].items)
        except (_Unknown, _Skip, KeyError):
            return
        if not isinstance(items, list) or not items:
            return
        hits = []
        try:
            for index, item in enumerate(items):
                self.items[loop_id] = item
                found = self.lookup(task)
                if found is None or task in self.result.skipped:
                    self.result.skipped.pop(task, None)
                    return
                hits.append((f"{task}[{index}]", *found))
        finally:
            self.items.pop(loop_id, None)
        self.result.loops[task] = hits

    def lookup(self, task: str) -> tuple[str, CacheEntry] | None:
        """(key, verified entry) of ``task`` with the values known now; None: not (yet) decidable or a miss."""
        spec_task = self.spec.tasks[task]
        try:
            for after in spec_task.after:
                if after in self.result.skipped:
                    raise _Skip(f"upstream {after} skipped")
                if after not in self.result.cached and after not in self.result.loops:
                    raise _Unknown(after)
            component = self.spec.component_of(task)
            params: dict[str, Any] = {}
            arts: dict[str, Any] = {}
            for name, arg in spec_task.arguments.items():
                value = self.value(arg)
                inp = component.input(name)
                (arts if inp is not None and inp.kind == "artifact" else params)[name] = value
            for gid in reversed(task_groups(self.spec, task)):
                group = self.spec.groups[gid]
                if isinstance(group, ConditionGroup) and not evaluate(group.condition, self.value):
                    raise _Skip(f"condition {gid} is false")
        except _Skip as skip:
            self.result.skipped[task] = skip.reason
            return None
        except (_Unknown, ConditionEvaluationError):
            return None
        key = task_key(self.spec, task, params, arts)
        entry = None if key is None else verified(self.store, self.artifacts, key, None, self.max_staleness_s)
        return None if entry is None else (key, entry)


def resolve_cached(spec: PipelineSpec, arguments: dict[str, Any], store: MetadataStore, artifacts: ArtifactStore,
                   *, run_id: str, max_staleness_s: float | None = None, use_cache: bool = True) -> Resolution:
    """The cached prefix of ``spec`` run with (bound, typed) ``arguments`` against these stores."""
    from conveyor.ir.graph import topological_order

    resolver = _Resolver(spec, arguments, store, artifacts, max_staleness_s, run_id)
    if not use_cache:
        return resolver.result
    exit_tasks = {g.exit_task for g in spec.groups.values() if isinstance(g, ExitHandlerGroup)}
    order = topological_order(spec)
    for task in order:
        if task not in exit_tasks:
            resolver.decide(task)
    done = {*resolver.result.cached, *resolver.result.loops, *resolver.result.skipped}
    members_done = all(t in done for t in order if t not in exit_tasks)
    if members_done:  # the final status is known: SUCCEEDED, as for a fully cached local run
        for task in order:
            if task in exit_tasks:
                resolver.decide(task)
    return resolver.result
