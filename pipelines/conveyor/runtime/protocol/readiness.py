"""The readiness rules of one task: may it run now, must it wait, is it skipped, has it failed.

The local scheduler (``executor.graph``, per loop instance while the run unfolds) and submit-time
resolution (``launcher.resolve``, before anything is scheduled) decide a task by these rules and
keep none of their own, so a laptop run and a cluster run skip, wait and run the same tasks.
The order is the rule: exit-handler members first, then ``.after``, then the arguments, the
claim, secret and config map names given at run time, the run-time cpu/memory values (a value that is
not a quantity fails the task), then the enclosing conditions (innermost last). What differs between
the two callers is only what they know, given as a :class:`View`: the scheduler sees every finished
instance, submit-time resolution only the cached prefix (everything else is "not known yet": ``NotReady``).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from conveyor.ir.conditions import evaluate
from conveyor.ir.errors import ConditionEvaluationError
from conveyor.ir.graph import exit_groups_of, exit_handler_members, task_groups
from conveyor.ir.kubernetes import name_args
from conveyor.ir.quantities import parse_cpu, parse_memory
from conveyor.ir.spec import ConditionGroup, PipelineSpec, Resources, TaskSpec

Verdict = Literal["wait", "run", "skip", "fail"]


class NotReady(Exception):
    """An input depends on something that has not finished yet (or, before submit, is not known)."""


class Unavailable(Exception):
    """An input can never be produced: its producer failed or was skipped."""

    def __init__(self, producer: str, status: str):
        super().__init__(producer, status)
        self.producer, self.status = producer, status


OMITTED = object()  # an input left to its default: its producer failed and the task ignores that


def resolve_one_of(items: tuple[Any, ...], resolve: Any) -> Any:
    """``dsl.OneOf``: the output of the first branch not skipped by its condition. A skipped branch is
    passed over; anything else - a value, ``NotReady``, a failed producer - decides. The local scheduler
    and submit-time resolution both ask this, so a laptop and a cluster pick the same branch."""
    skipped: Unavailable | None = None
    for item in items:
        try:
            return resolve(item)
        except Unavailable as exc:
            if exc.status != "skipped":
                raise
            skipped = exc
    assert skipped is not None
    raise skipped


def runtime_resources(resources: Resources, values: dict[str, Any]) -> Resources:
    """A task's resources with its run-time cpu/memory values filled in; ValueError names the setting."""
    fields: dict[str, Any] = {}
    for field, value in values.items():
        parser = parse_cpu if field.startswith("cpu") else parse_memory
        try:
            fields[field] = parser(value)
        except ValueError as exc:
            raise ValueError(f"set_{field}() got {value!r} at run time: {exc}") from None
    return resources.model_copy(update=fields)


class View(Protocol):
    """What the caller knows about the run, seen from one task instance."""

    def resolve(self, arg: Any) -> Any:
        """The argument's value; raises ``NotReady``, ``Unavailable`` or ``ConditionEvaluationError``."""

    def after_status(self, task: str) -> str | None:
        """None when ``.after(task)`` is satisfied, "wait", or the bad status it ended in."""

    def member_pending(self, member: str) -> bool:
        """True while an exit-handler member of this task has not ended."""


class Rules:
    """The per-spec facts the rules read (computed once per run: they are asked per instance)."""

    def __init__(self, spec: PipelineSpec):
        self.spec = spec
        self.conditions = {t: [g for g in reversed(task_groups(spec, t))
                               if isinstance(spec.groups[g], ConditionGroup)] for t in spec.tasks}
        self.exit_members = {t: [m for g in exit_groups_of(spec, t) for m in exit_handler_members(spec, g)]
                             for t in spec.tasks}

    def is_exit(self, task: str) -> bool:
        return bool(self.exit_members[task])

    def runs_after_failure(self, task: str) -> bool:
        """Exit tasks and ``.ignore_upstream_failure()`` tasks still run once the run has failed."""
        return bool(self.exit_members[task]) or self.spec.tasks[task].ignore_upstream_failure

    @staticmethod
    def resolve_input(task: TaskSpec, arg: Any, view: View) -> Any:
        """A task argument's value; ``OMITTED`` when its producer failed and the task ignores that."""
        try:
            return view.resolve(arg)
        except Unavailable:
            if task.ignore_upstream_failure:
                return OMITTED
            raise

    def inputs(self, task: str, view: View) -> tuple[dict[str, Any], dict[str, Any]]:
        """(parameters, artifacts) as a request holds them; omitted inputs are left out."""
        component = self.spec.component_of(task)
        spec_task = self.spec.tasks[task]
        params: dict[str, Any] = {}
        arts: dict[str, Any] = {}
        for name, arg in spec_task.arguments.items():
            value = self.resolve_input(spec_task, arg, view)
            if value is OMITTED:
                continue
            inp = component.input(name)
            (arts if inp is not None and inp.kind == "artifact" else params)[name] = value
        return params, arts

    def readiness(self, task: str, view: View) -> tuple[Verdict, str | None]:
        """("wait", None) | ("run", None) | ("skip", reason) | ("fail", message)."""
        spec_task = self.spec.tasks[task]
        after_failure = self.runs_after_failure(task)
        for member in self.exit_members[task]:
            if view.member_pending(member):
                return "wait", None
        for after in spec_task.after:
            status = view.after_status(after)
            if status == "wait":
                return "wait", None
            if status is not None and not after_failure:
                return "skip", f"upstream {after} {status}"
        try:
            for arg in spec_task.arguments.values():
                self.resolve_input(spec_task, arg, view)
            for name in name_args(spec_task.kubernetes).values():  # a claim/secret named by an output: wait for it
                view.resolve(name)
            values = {f: view.resolve(a) for f, a in spec_task.resource_args.items()}  # wait for them
            if values:
                try:
                    runtime_resources(spec_task.resources, values)  # set_cpu_limit(task.output): a quantity?
                except ValueError as exc:
                    return "fail", str(exc)
            for group_id in self.conditions[task]:
                if not evaluate(self.spec.groups[group_id].condition, view.resolve):
                    return "skip", f"condition {group_id} is false"
        except NotReady:
            return "wait", None
        except Unavailable as exc:
            return "skip", f"upstream {exc.producer} {exc.status}"
        except ConditionEvaluationError as exc:
            return "fail", str(exc)
        return "run", None
