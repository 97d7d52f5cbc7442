"""Submit-time cache resolution: the whole cached prefix of a run, before anything is scheduled.

Walks the DAG in topological order and decides each task by the local scheduler's own rules
(``conveyor.runtime.protocol.readiness``: exit members, ``.after``, arguments, enclosing
conditions), then the cache. A task whose inputs are all
known - constants, pipeline arguments, outputs of tasks already resolved as cached - gets its
key from the same function the pod and the scheduler use (``conveyor.runtime.protocol.keys.task_key``); a hit
whose artifacts still verify is *cached*, and its outputs feed the keys downstream. A condition
that is already decidable and false makes its tasks *skipped*. Everything else (loop bodies,
uncached tasks and what depends on them) is left for the cluster, where each pod checks the
cache again.

When every task resolves, no Workflow is needed at all. Exit tasks resolve last, with the
final status a fully cached run has locally (SUCCEEDED), so they hit the same cache entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conveyor.ir.graph import all_exit_tasks, enclosing_loops
from conveyor.ir.placeholders import join_parts
from conveyor.ir.spec import PipelineSpec
from conveyor.ir.values import Collected, Concat, Constant, PipelineParam, TaskFinalStatus, TaskOutput
from conveyor.runtime.protocol.codec import artifact_ref, text_form
from conveyor.runtime.protocol.hits import verified
from conveyor.runtime.protocol.keys import task_key
from conveyor.runtime.protocol.readiness import NotReady, Rules, Unavailable
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

    @property
    def complete(self) -> bool:
        return len(self.cached) + len(self.skipped) == len(self.spec.tasks)

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

    def _known(self, task: str) -> bool:
        return task in self.result.cached or task in self.result.skipped

    def resolve(self, arg: Any) -> Any:
        if isinstance(arg, Constant):
            return arg.value
        if isinstance(arg, PipelineParam):
            return self.arguments[arg.name]
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
        raise NotReady(repr(arg))  # loop items: only inside loops, which run on the cluster

    def after_status(self, task: str) -> str | None:
        if task in self.result.skipped:
            return "skipped"
        return None if task in self.result.cached else "wait"

    def member_pending(self, member: str) -> bool:
        return not self._known(member)

    def decide(self, task: str) -> None:
        if enclosing_loops(self.spec, task):
            return
        verdict, reason = self.rules.readiness(task, self)
        if verdict == "skip":
            self.result.skipped[task] = reason or "skipped"
            return
        if verdict != "run":  # wait: not decidable before submit; fail: the cluster reports it
            return
        params, arts = self.rules.inputs(task, self)
        if len(params) + len(arts) < len(self.spec.tasks[task].arguments):
            return  # an input left to its default (ignore_upstream_failure): the cluster decides
        key = task_key(self.spec, task, params, arts)
        entry = None if key is None else verified(self.store, self.artifacts, key, None, self.max_staleness_s)
        if entry is None:
            return
        self.result.cached[task] = entry
        self.result.keys[task] = key


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
    members_done = all(t in resolver.result.cached or t in resolver.result.skipped for t in order if t not in exit_tasks)
    if members_done:  # the final status is known: SUCCEEDED, as for a fully cached local run
        for task in order:
            if task in exit_tasks:
                resolver.decide(task)
    return resolver.result
