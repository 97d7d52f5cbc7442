"""Submit-time cache resolution: the whole cached prefix of a run, before anything is scheduled.

Walks the DAG in topological order and decides each task by the local scheduler's own rules
(``conveyor.runtime.protocol.readiness``: exit members, ``.after``, arguments, enclosing
conditions), then the cache. A task whose inputs are all
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

from conveyor.ir.graph import all_exit_tasks, enclosing_loops, task_groups
from conveyor.ir.placeholders import join_parts
from conveyor.ir.spec import ConditionGroup, PipelineSpec
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
from conveyor.runtime.protocol.codec import artifact_ref, text_form
from conveyor.runtime.protocol.hits import verified
from conveyor.runtime.protocol.keys import task_key
from conveyor.runtime.protocol.readiness import NotReady, Rules, Unavailable, resolve_one_of
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

SUCCESS_STATUS = {"state": "SUCCEEDED", "error_code": None, "error_message": None, "pipeline_task_name": ""}


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
    """A ``readiness.View`` that knows only the cached prefix: anything else is ``NotReady``."""

    def __init__(self, spec: PipelineSpec, arguments: dict[str, Any], store: MetadataStore,
                 artifacts: ArtifactStore, max_staleness_s: float | None, run_id: str):
        self.spec, self.arguments, self.store, self.artifacts = spec, arguments, store, artifacts
        self.max_staleness_s, self.run_id = max_staleness_s, run_id
        self.rules = Rules(spec)
        self.result = Resolution(spec)
        self.items: dict[str, Any] = {}  # loop id -> the item being resolved

    def _loop_outputs(self, task: str, output: str) -> list[Any]:
        out = []
        for _, _, entry in self.result.loops[task]:
            outputs = entry.outputs
            out.append(outputs.get("artifacts", {}).get(output, outputs.get("parameters", {}).get(output)))
        return out

    def known(self, task: str) -> bool:
        return task in self.result.cached or task in self.result.loops or task in self.result.skipped

    def resolve(self, arg: Any) -> Any:
        if isinstance(arg, Constant):
            return arg.value
        if isinstance(arg, PipelineParam):
            return self.arguments[arg.name]
        if isinstance(arg, LoopItem):
            if arg.loop_id not in self.items:
                raise NotReady(arg.loop_id)
            item = self.items[arg.loop_id]
            return item[arg.field] if arg.field else item
        if isinstance(arg, Collected) and arg.task in self.result.loops:
            return self._loop_outputs(arg.task, arg.output)
        if isinstance(arg, TaskOutput | Collected):
            if arg.task in self.result.skipped:
                raise Unavailable(arg.task, "skipped")
            if arg.task not in self.result.cached or (isinstance(arg, Collected) and enclosing_loops(self.spec, arg.task)):
                raise NotReady(arg.task)
            value = self.result.output_value(arg.task, arg.output)
            return [value] if isinstance(arg, Collected) else value
        if isinstance(arg, TaskFinalStatus):
            return {**SUCCESS_STATUS, "pipeline_job_resource_name": self.run_id}
        if isinstance(arg, Concat):
            return join_parts([self.resolve(part) for part in arg.parts])
        if isinstance(arg, OneOf):  # a skipped branch passes, a cached one decides, any other waits
            return resolve_one_of(arg.items, self.resolve)
        raise NotReady(repr(arg))

    def after_status(self, task: str) -> str | None:
        if task in self.result.skipped:
            return "skipped"
        return None if task in self.result.cached or task in self.result.loops else "wait"

    def member_pending(self, member: str) -> bool:
        return not self.known(member)

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
            items = self.resolve(self.spec.groups[loop_id].items)
        except (NotReady, Unavailable, KeyError):
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
        verdict, reason = self.rules.readiness(task, self)
        if verdict == "skip":
            self.result.skipped[task] = reason or "skipped"
            return None
        if verdict != "run":  # wait: not decidable before submit; fail: the cluster reports it
            return None
        params, arts = self.rules.inputs(task, self)
        if len(params) + len(arts) < len(self.spec.tasks[task].arguments):
            return None  # an input left to its default (ignore_upstream_failure): the cluster decides
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
    exit_tasks = set(all_exit_tasks(spec))
    order = topological_order(spec)
    for task in order:
        if task not in exit_tasks:
            resolver.decide(task)
    members_done = all(resolver.known(t) for t in order if t not in exit_tasks)
    if members_done:  # the final status is known: SUCCEEDED, as for a fully cached local run
        for task in order:
            if task in exit_tasks:
                resolver.decide(task)
    return resolver.result
