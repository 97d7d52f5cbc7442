"""The group tree of a PipelineSpec as nested Argo DAG scopes, and how values cross them.

Every ParallelFor and If group becomes its own DAG template (a loop also gets a
small wrapper template that carries ``parallelism`` and the ``withItems``/
``withParam``/``withSequence`` fan-out), so one template serves every item and
the manifest does not grow with the item count. ExitHandler groups are
transparent: their members stay in the enclosing scope, the exit task moves to
the workflow's ``onExit``.

Argo can only reference ``{{tasks.X...}}`` inside the DAG that holds ``X``.
:meth:`Scopes.ref` therefore routes every argument to where it is read:
*down* through a child group's exported outputs (aggregated into a JSON list
when the child is a loop - that is ``Collected``), or *up* through input
parameters that each enclosing template declares and its caller supplies. A ``dsl.OneOf`` is
selected in the nearest scope that holds all its branches (:meth:`Scopes.one_of_picks`, with the
expression tags of :mod:`branches`) and travels up like any other value to a consumer deeper down.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from conveyor.compiler.argo import branches
from conveyor.compiler.argo.naming import NameAllocator, expr, param_name
from conveyor.compiler.argo.options import CompileError
from conveyor.ir import (
    Collected,
    Concat,
    Constant,
    ExitHandlerGroup,
    LoopItem,
    OneOf,
    ParallelForGroup,
    PipelineParam,
    PipelineSpec,
    TaskFinalStatus,
    TaskOutput,
)
from conveyor.ir.graph import all_exit_tasks
from conveyor.ir.placeholders import concat_part_name
from conveyor.runtime.protocol.codec import text_form

ROOT = None
EXIT = "__exit__"


@dataclass(frozen=True)
class LoopIndex:
    """Pseudo-argument: the iteration index of a loop whose literal items stay in the spec."""

    loop_id: str


@dataclass(frozen=True)
class Wrap:
    """Scope key of a loop's wrapper template (the one holding the fan-out node)."""

    loop_id: str


@dataclass(frozen=True)
class OneOfRan:
    """Pseudo-argument: whether any branch of a ``dsl.OneOf`` ran (``"true"``/``"false"``), for the
    consumer's ``when``: with no branch run the consumer is skipped, as the local scheduler skips it."""

    one_of: OneOf


@dataclass(frozen=True)
class Located:
    """Where a task output is read inside a scope: ``literal`` (cached) or ``input`` text, or ``node``'s
    output parameter ``param``."""

    kind: str
    text: str = ""
    node: str = ""
    param: str = ""


@dataclass
class Node:
    """One DAG task in a scope, before it becomes a Hera ``DAGTask``."""

    name: str
    template: str = ""
    args: dict[str, str] = field(default_factory=dict)
    deps: set[str] = field(default_factory=set)
    when: str | None = None
    with_items: list[Any] | None = None
    with_param: str | None = None
    with_sequence: int | None = None
    ignore_failure: bool = False  # kfp's ignore_upstream_failure: run once every dependency ended
    guarded: bool = False  # a task whose `when` skips it when no branch of a OneOf it reads ran


@dataclass
class Scope:
    """One DAG template: its nodes, the inputs its caller must pass, the outputs it exports."""

    key: object
    template: str
    nodes: dict[object, Node] = field(default_factory=dict)
    inputs: dict[str, object] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # exports that may find nothing (a skipped branch)
    expressions: set[str] = field(default_factory=set)  # exports given as an expr expression, not a {{...}}
    parallelism: int | None = None


class Scopes:
    """Resolves positions, node names and argument references for one spec."""

    def __init__(self, spec: PipelineSpec, names: NameAllocator, cached: dict[str, dict[str, str]]) -> None:
        self.spec = spec
        self.names = names  # template names
        self.node_names = NameAllocator()  # DAG task names: their own namespace
        self.cached = cached
        self.scopes: dict[object, Scope] = {}
        self.index_loops: set[str] = set()
        self.exit_tasks: list[str] = all_exit_tasks(spec)
        for gid, group in spec.groups.items():
            if isinstance(group, ExitHandlerGroup) and self.effective_parent(group.parent) is not None:
                raise CompileError(
                    f"pipeline {spec.name!r}: ExitHandler {gid!r} is nested inside a loop or condition; "
                    "on Argo an ExitHandler must enclose tasks at the pipeline's top level"
                )

    # -- positions -------------------------------------------------------------------------------
    def effective_parent(self, group_id: str | None) -> str | None:
        """The nearest enclosing group that is a scope (ExitHandler groups are transparent)."""
        while group_id is not None and isinstance(self.spec.groups[group_id], ExitHandlerGroup):
            group_id = self.spec.groups[group_id].parent
        return group_id

    def chain_of_group(self, group_id: str | None) -> tuple[str, ...]:
        """Scope groups from the outermost down to ``group_id`` (inclusive)."""
        out: list[str] = []
        gid = self.effective_parent(group_id)
        while gid is not None:
            out.append(gid)
            gid = self.effective_parent(self.spec.groups[gid].parent)
        return tuple(reversed(out))

    def chain_of_task(self, task: str) -> tuple[str, ...]:
        return self.chain_of_group(self.spec.tasks[task].group)

    def chain_of_scope(self, key: object) -> tuple[str, ...]:
        if key is ROOT or key == EXIT:
            return ()
        if isinstance(key, Wrap):
            return self.chain_of_group(self.spec.groups[key.loop_id].parent)
        return self.chain_of_group(key)  # type: ignore[arg-type]

    def is_loop(self, group_id: str) -> bool:
        return isinstance(self.spec.groups[group_id], ParallelForGroup)

    def node_name(self, key: str) -> str:
        return self.node_names.name(("node", key), key)

    def scope(self, key: object) -> Scope:
        if key not in self.scopes:
            if key is ROOT:
                wanted = self.spec.name
            elif key == EXIT:
                wanted = "exit-handler"
            elif isinstance(key, Wrap):
                wanted = key.loop_id
            else:
                wanted = f"{key}-body" if self.is_loop(key) else str(key)  # type: ignore[arg-type]
            self.scopes[key] = Scope(key, self.names.name(("template", key), wanted))
        return self.scopes[key]

    # -- types -----------------------------------------------------------------------------------
    def type_of(self, arg: object) -> str | None:
        if isinstance(arg, TaskOutput):
            out = self.spec.component_of(arg.task).output(arg.output)
            return out.type if out else None
        if isinstance(arg, PipelineParam):
            inp = self.spec.input(arg.name)
            return inp.type if inp else None
        return None

    # -- references ------------------------------------------------------------------------------
    def ref(self, arg: object, key: object, what: str, task: str = "") -> str:
        """The ``{{...}}`` text (or literal text) of ``arg`` as read inside scope ``key``."""
        if isinstance(arg, Constant):
            return text_form(arg.value)
        if isinstance(arg, PipelineParam):
            return expr(f"workflow.parameters.{param_name(arg.name)}")
        if isinstance(arg, TaskFinalStatus):
            if key != EXIT:
                raise CompileError(
                    f"{what}: the final status is only available to an ExitHandler's exit task"
                )
            return final_status_text(task)
        if key == EXIT:
            raise CompileError(
                f"{what}: on Argo an exit task may read only pipeline parameters, constants and the final status"
            )
        if isinstance(arg, LoopItem | LoopIndex):
            if arg.loop_id not in self.chain_of_scope(key):
                raise CompileError(f"{what}: loop {arg.loop_id!r} does not enclose this use of its item")
            return self._input(key, loop_param(arg), arg)
        if isinstance(arg, TaskOutput | Collected):
            return self._ref_output(arg, key, what)
        if isinstance(arg, OneOf | OneOfRan):
            return self._ref_one_of(arg, key, what)
        raise CompileError(f"{what}: unsupported argument {arg!r}")

    def _ref_one_of(self, arg: OneOf | OneOfRan, key: object, what: str) -> str:
        one_of = arg.one_of if isinstance(arg, OneOfRan) else arg
        picks = self.one_of_picks(one_of, key, what)
        if picks is None:  # a branch lies outside this scope: the caller of this template selects
            first = one_of.items[0]
            digest = hashlib.sha256(one_of.model_dump_json().encode()).hexdigest()[:6]
            suffix = "-ran" if isinstance(arg, OneOfRan) else ""
            return self._input(key, param_name(f"{first.task}-{first.output}-oneof-{digest}{suffix}"), arg)
        if isinstance(arg, OneOfRan):
            return branches.tag(branches.any_ran(picks))
        if picks[0][0] == "true":  # the first branch is cached: it is the one that ran
            return self.cached[one_of.items[0].task][one_of.items[0].output]
        return branches.tag(branches.first_ran(picks))

    def one_of_picks(self, arg: OneOf, key: object, what: str) -> list[tuple[str, str]] | None:
        """``(ran, value)`` expressions per branch, in order, as seen from scope ``key``; None when a
        branch is not inside ``key``. Each branch DAG on the way down exports the producer's output and
        its phase with a default, so a skipped inner branch leaves the outer DAG's outputs resolvable."""
        here = self.chain_of_scope(key)
        items = []
        for item in arg.items:
            items.append(item)
            if item.task in self.cached:  # a cached producer ran; the branches after it did not
                break
            there = self.chain_of_task(item.task)
            if isinstance(key, Wrap) or there[: len(here)] != here or len(there) == len(here):
                return None
            if any(self.is_loop(g) for g in there[len(here) :]):
                raise CompileError(f"{what}: dsl.OneOf branch {item.task!r} runs inside a ParallelFor that does "
                                   "not enclose the consumer; read it with dsl.Collected instead")
        picks: list[tuple[str, str]] = []
        for item in items:
            found = self.locate(item, key, what)
            if found.kind == "literal":
                picks.append(("true", branches.quote(found.text)))
                continue
            status = branches.status_export(item.task)
            # a DAG output may not name tasks.X.status as a parameter (argo lint), but an expression can
            inner = f"tasks[{branches.quote(self.node_name(item.task))}].status"
            for group in reversed(self.chain_of_task(item.task)[len(here) :]):
                scope = self.scope(group)
                scope.exports[status] = inner
                scope.defaults[status] = scope.defaults[found.param] = ""
                if inner.startswith("tasks["):
                    scope.expressions.add(status)
                inner = expr(f"tasks.{self.node_name(group)}.outputs.parameters.{status}")
            ran = f"{branches.output_of(found.node, status)} == {branches.quote(branches.SUCCEEDED)}"
            picks.append((ran, branches.output_of(found.node, found.param)))
        return picks

    def guarded(self, arg: object, key: object, what: str) -> tuple[str, str]:
        """(text, ok expression) of an argument of an ``.ignore_upstream_failure()`` task: the upstream
        value when its producer succeeded, else ``""`` with ``ok`` false (the pod then leaves the input
        to its default, as the local scheduler does)."""
        if isinstance(arg, OneOf):
            picks = self.one_of_picks(arg, key, what)
            if picks is None:
                raise CompileError(f"{what}: on Argo an .ignore_upstream_failure() task must sit in the scope "
                                   "that holds the dsl.If/Elif/Else branches it reads; move it out of its group")
            if picks[0][0] == "true":
                return self._ref_one_of(arg, key, what), "true"
            return branches.tag(branches.first_ran(picks)), branches.any_ran(picks)
        if not isinstance(arg, TaskOutput | Collected):
            return self.ref(arg, key, what), "true"
        found = self.locate(arg, key, what)
        if found.kind == "literal":
            return found.text, "true"
        if found.kind == "input":
            raise CompileError(
                f"{what}: on Argo an .ignore_upstream_failure() task must sit in the same loop or condition as "
                f"the upstream task {arg.task!r} it reads (the group around it would not start after a failure); "
                "move the task next to its upstream"
            )
        ok = branches.succeeded(found.node)
        return branches.tag(branches.fallback(ok, branches.output_of(found.node, found.param))), ok

    def _input(self, key: object, name: str, arg: object) -> str:
        self.scope(key).inputs[name] = arg
        return expr(f"inputs.parameters.{name}")

    def _ref_output(self, arg: TaskOutput | Collected, key: object, what: str) -> str:
        found = self.locate(arg, key, what)
        if found.node:
            return expr(f"tasks.{found.node}.outputs.parameters.{found.param}")
        return found.text

    def locate(self, arg: TaskOutput | Collected, key: object, what: str) -> Located:
        """Where ``arg`` is read from inside scope ``key``, registering the exports and inputs that carry it."""
        if arg.task in self.cached:
            values = self.cached[arg.task]
            if arg.output not in values:
                raise CompileError(f"{what}: cached task {arg.task!r} has no recorded output {arg.output!r}")
            return Located("literal", text=values[arg.output])
        if arg.task in self.exit_tasks:
            raise CompileError(f"{what}: the outputs of exit task {arg.task!r} cannot be read by other tasks")
        here = self.chain_of_scope(key)
        there = self.chain_of_task(arg.task)
        inside = not isinstance(key, Wrap) and there[: len(here)] == here
        if not inside:
            suffix = "-all" if isinstance(arg, Collected) else ""
            return Located("input", text=self._input(key, param_name(f"{arg.task}-{arg.output}{suffix}"), arg))
        rest = there[len(here) :]
        if isinstance(arg, Collected) and not any(self.is_loop(g) for g in rest):
            arg = TaskOutput(task=arg.task, output=arg.output)  # all its loops are already bound here
        if not rest:
            if isinstance(arg, Collected):
                raise CompileError(f"{what}: Collected({arg.task}.{arg.output}) used inside its own loop")
            return Located("node", node=self.node_name(arg.task), param=param_name(arg.output))
        child = rest[0]
        export = param_name(f"{arg.task}-{arg.output}")
        if self.is_loop(child):
            if isinstance(arg, TaskOutput):
                raise CompileError(
                    f"{what}: {arg.task}.{arg.output} is produced inside ParallelFor {child!r}; "
                    "read it with dsl.Collected outside the loop"
                )
            body = self.scope(child)
            body.exports[export] = self._ref_output(arg, child, what)
            wrapper = self.scope(Wrap(child))
            wrapper.exports[export] = expr(f"tasks.{self.iter_node(child)}.outputs.parameters.{export}")
        else:
            self.scope(child).exports[export] = self._ref_output(arg, child, what)
        return Located("node", node=self.node_name(child), param=export)

    def iter_node(self, loop_id: str) -> str:
        return self.node_names.name(("iter", loop_id), f"{loop_id}-iter")


def argument_parts(name: str, arg: object) -> list[tuple[str, object]]:
    """The pod inputs one task argument needs: itself, or each run-time part of a formatted string
    (`NAME--partN`, decoded and joined by the pod runtime exactly as the local executor joins them)."""
    if isinstance(arg, Concat):
        return [(concat_part_name(name, i), p) for i, p in enumerate(arg.parts) if not isinstance(p, Constant)]
    return [(name, arg)]


def loop_param(arg: LoopItem | LoopIndex) -> str:
    if isinstance(arg, LoopIndex):
        return param_name(f"{arg.loop_id}-index")
    return param_name(f"{arg.loop_id}-item" + (f"-{arg.field}" if arg.field else ""))


def final_status_text(task: str) -> str:
    """JSON the runtime turns into a ``PipelineTaskFinalStatus`` (Argo fills the workflow variables).

    ``{{workflow.failures}}`` is not embedded here: Argo quotes it differently across
    versions, so it travels in its own ``--workflow-failures`` argument and the runtime
    parses it leniently.
    """
    return json.dumps(
        {
            "state": "{{workflow.status}}",
            "pipeline_job_resource_name": "{{workflow.name}}",
            "pipeline_task_name": task,
        }
    )
