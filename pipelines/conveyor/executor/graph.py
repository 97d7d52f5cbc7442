"""The run-time view of a pipeline: task instances, their dependencies and resolved inputs.

The IR describes tasks once; a run has *instances*: `train[2]` is the third iteration of the
loop around `train`, `fit[0][1]` sits in two nested loops. Loops over upstream outputs can only
be expanded once that output exists, so expansion is incremental: the scheduler calls `expand()`
after every completion and new instances appear as their loops' items become known.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from conveyor.ir.errors import ConditionEvaluationError
from conveyor.ir.graph import task_groups
from conveyor.ir.placeholders import join_parts
from conveyor.ir.spec import ParallelForGroup, PipelineSpec
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
from conveyor.runtime import kube_local
from conveyor.runtime.protocol.readiness import NotReady, Rules, Unavailable, Verdict, resolve_one_of

Ctx = tuple[tuple[str, int], ...]  # ((loop_id, index), ...), outermost loop first

TERMINAL = frozenset({"succeeded", "cached", "skipped", "failed"})
COMPLETED = frozenset({"succeeded", "cached"})


def instance_id(task: str, ctx: Ctx) -> str:
    return task + "".join(f"[{index}]" for _, index in ctx)


@dataclass
class Instance:
    id: str
    task: str
    ctx: Ctx
    status: str = "waiting"  # waiting | ready | running | retry_wait | cache_wait | + TERMINAL
    outputs: dict[str, Any] = field(default_factory=lambda: {"parameters": {}, "artifacts": {}})
    attempts: int = 0  # attempts in this execution (what the retry budget counts)
    attempt_offset: int = 0  # attempts recorded before a resume, so numbers stay unique
    error: str | None = None
    failure_class: str | None = None
    reason: str | None = None  # why skipped
    request: dict[str, Any] = field(default_factory=dict)  # resolved parameters and artifacts
    cache_key: str | None = None
    cost_usd: float | None = None
    saved_s: float | None = None
    saved_usd: float | None = None
    peak_rss_mb: float | None = None
    duration_s: float | None = None
    ready_at: float | None = None  # monotonic time it became ready to launch
    queue_wait_s: float | None = None  # ready -> started, for the queue-wait metric


class RunGraph:
    def __init__(self, spec: PipelineSpec, arguments: dict[str, Any], run_id: str):
        self.spec = spec
        self.arguments = arguments
        self.run_id = run_id
        self.instances: dict[str, Instance] = {}
        self._loops = {t: [g for g in reversed(task_groups(spec, t))
                           if isinstance(spec.groups[g], ParallelForGroup)] for t in spec.tasks}
        self.rules = Rules(spec)
        self._items: dict[tuple[str, Ctx], list[Any]] = {}
        self._gathered: dict[tuple[str, str, Ctx], tuple[int, list[Any]]] = {}  # Collected scans so far
        self._expanded: set[str] = set()
        self.draining = False  # the run failed: exit handlers stop waiting for what cannot start
        self.final_status: dict[str, Any] = {"state": "SUCCEEDED", "error_code": None, "error_message": None,
                                             "pipeline_task_name": ""}

    # -- loops and expansion -----------------------------------------------------------------
    def loops_of(self, task: str) -> list[str]:
        return self._loops[task]

    def _loop_items(self, loop_id: str, prefix: Ctx) -> list[Any]:
        key = (loop_id, prefix)
        if key not in self._items:
            group = self.spec.groups[loop_id]
            value = self.resolve(group.items, prefix, kind="parameter")
            if isinstance(value, dict):
                value = list(value.items())
            if not isinstance(value, list | tuple):
                raise ConditionEvaluationError(
                    f"ParallelFor {loop_id!r}: items must be a list, got {type(value).__name__} {value!r:.80}")
            self._items[key] = list(value)
        return self._items[key]

    def _contexts(self, loops: list[str], prefix: Ctx = ()) -> list[Ctx] | None:
        """Every context for this loop chain, or None while some loop's items are unknown."""
        if not loops:
            return [prefix]
        try:
            items = self._loop_items(loops[0], prefix)
        except NotReady:
            return None
        except Unavailable:
            return []
        out: list[Ctx] = []
        for index in range(len(items)):
            sub = self._contexts(loops[1:], prefix + ((loops[0], index),))
            if sub is None:
                return None
            out.extend(sub)
        return out

    def expand(self) -> list[Instance]:
        """Create every instance whose loops are now known; returns the new ones."""
        new: list[Instance] = []
        for task in self.spec.tasks:
            if task in self._expanded:
                continue
            contexts = self._contexts(self._loops[task])
            if contexts is None:
                continue
            self._expanded.add(task)
            for ctx in contexts:
                inst = Instance(instance_id(task, ctx), task, ctx)
                self.instances[inst.id] = inst
                new.append(inst)
        return new

    def fully_expanded(self) -> bool:
        return len(self._expanded) == len(self.spec.tasks)

    def unexpanded(self) -> list[str]:
        return [t for t in self.spec.tasks if t not in self._expanded]

    # -- resolution --------------------------------------------------------------------------
    def _producer(self, task: str, ctx: Ctx) -> Instance:
        loops = self._loops[task]
        sub = tuple(pair for pair in ctx if pair[0] in loops)
        inst = self.instances.get(instance_id(task, sub))
        if inst is None:
            raise NotReady(task)
        return inst

    def _output_of(self, inst: Instance, output: str) -> Any:
        if inst.status not in TERMINAL:
            raise NotReady(inst.id)
        if inst.status not in COMPLETED:
            raise Unavailable(inst.id, inst.status)
        if output in inst.outputs["artifacts"]:
            return inst.outputs["artifacts"][output]
        return inst.outputs["parameters"][output]

    def _collected(self, task: str, output: str, ctx: Ctx) -> list[Any]:
        inner = [loop for loop in self._loops[task] if loop not in dict(ctx)]
        prefix = tuple(pair for pair in ctx if pair[0] in self._loops[task])

        def gather(loops: list[str], at: Ctx) -> list[Any]:
            if task not in self._expanded:
                raise NotReady(task)
            items = self._loop_items(loops[0], at)
            if len(loops) > 1:
                return [gather(loops[1:], at + ((loops[0], index),)) for index in range(len(items))]
            # Innermost loop. A terminal status never changes, so the scan resumes where the last
            # one stopped: waiting on N iterations costs O(N) in all, not O(N) per completion.
            key = (task, output, at)
            start, values = self._gathered.get(key, (0, []))
            try:
                for index in range(start, len(items)):
                    inst = self.instances[instance_id(task, at + ((loops[0], index),))]
                    if inst.status not in TERMINAL:
                        raise NotReady(inst.id)
                    if inst.status in COMPLETED:
                        values.append(self._output_of(inst, output))
                    elif inst.status == "failed":
                        raise Unavailable(inst.id, inst.status)
                    start = index + 1
            finally:
                self._gathered[key] = (start, values)
            return list(values)

        if not inner:
            return [self._output_of(self._producer(task, ctx), output)]
        try:
            return gather(inner, prefix)
        except Unavailable as exc:
            if exc.status == "skipped":  # a skipped loop body contributes nothing
                return []
            raise

    def resolve(self, arg: Any, ctx: Ctx, kind: str = "parameter") -> Any:
        if isinstance(arg, Constant):
            return arg.value
        if isinstance(arg, PipelineParam):
            return self.arguments[arg.name]
        if isinstance(arg, TaskOutput):
            return self._output_of(self._producer(arg.task, ctx), arg.output)
        if isinstance(arg, LoopItem):
            index = dict(ctx)[arg.loop_id]
            outer = tuple(itertools.takewhile(lambda pair: pair[0] != arg.loop_id, ctx))
            item = self._loop_items(arg.loop_id, outer)[index]
            if arg.field is None:
                return item
            if not isinstance(item, dict) or arg.field not in item:
                raise ConditionEvaluationError(
                    f"ParallelFor {arg.loop_id!r}: item {index} has no field {arg.field!r}: {item!r:.80}")
            return item[arg.field]
        if isinstance(arg, Collected):
            return self._collected(arg.task, arg.output, ctx)
        if isinstance(arg, TaskFinalStatus):
            return {**self.final_status, "pipeline_job_resource_name": self.run_id}
        if isinstance(arg, Concat):
            return join_parts([self.resolve(part, ctx) for part in arg.parts])
        if isinstance(arg, OneOf):
            return resolve_one_of(arg.items, lambda item: self.resolve(item, ctx))
        raise TypeError(f"unknown argument {arg!r}")

    # -- readiness (the rules: conveyor.runtime.protocol.readiness) ---------------------------
    def view(self, inst: Instance) -> _InstanceView:
        return _InstanceView(self, inst.ctx)

    def readiness(self, inst: Instance) -> tuple[Verdict, str | None]:
        verdict, why = self.rules.readiness(inst.task, self.view(inst))
        if verdict == "run":  # a secret named at run time: known now, so look it up locally (a miss fails the task)
            try:
                kube_local.check_runtime_names(self.spec.tasks[inst.task].kubernetes, inst.task,
                                               lambda arg: self.resolve(arg, inst.ctx))
            except kube_local.LocalKubernetesError as exc:
                return "fail", str(exc)
        return verdict, why

    def inputs(self, inst: Instance) -> tuple[dict[str, Any], dict[str, Any]]:
        """(parameters, artifacts) for the instance's request."""
        return self.rules.inputs(inst.task, self.view(inst))

    def _after_status(self, task: str, ctx: Ctx) -> str | None:
        """None when `.after(task)` is satisfied, "wait", or the bad status it ended in."""
        if task not in self._expanded:
            return "wait"
        mine = dict(ctx)
        related = [i for i in self.instances.values() if i.task == task
                   and all(mine.get(loop, index) == index for loop, index in i.ctx)]
        if any(i.status not in TERMINAL for i in related):
            return "wait"
        bad = [i.status for i in related if i.status not in COMPLETED]
        return bad[0] if bad else None


class _InstanceView:
    """What the run knows, seen from one instance (``readiness.View``)."""

    __slots__ = ("graph", "ctx")

    def __init__(self, graph: RunGraph, ctx: Ctx):
        self.graph, self.ctx = graph, ctx

    def resolve(self, arg: Any) -> Any:
        return self.graph.resolve(arg, self.ctx)

    def after_status(self, task: str) -> str | None:
        return self.graph._after_status(task, self.ctx)

    def member_pending(self, member: str) -> bool:
        graph = self.graph
        if member not in graph._expanded:
            return not graph.draining  # after a failure, members that never expanded never will
        return any(i.status not in TERMINAL for i in graph.instances.values() if i.task == member)
