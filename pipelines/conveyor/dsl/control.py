"""Control flow blocks: ParallelFor, If/Elif/Else (and kfp's Condition), ExitHandler, Collected.

Each block records an IR group with `parent` set to the enclosing block; the
tasks created inside carry the innermost group id. Elif and Else become
explicit conditions (not any earlier branch, and this one), so executors
evaluate each branch on its own.
"""

from __future__ import annotations

from typing import Any

from conveyor.dsl.channels import (
    CollectedChannel,
    ConditionExpr,
    LoopItemChannel,
    OneOfChannel,
    PipelineChannel,
    TaskOutputChannel,
)
from conveyor.dsl.context import BuildState, require_state
from conveyor.ir import All, Comparison, ConditionGroup, Constant, ExitHandlerGroup, Not, ParallelForGroup


def OneOf(*outputs: TaskOutputChannel) -> OneOfChannel:  # noqa: N802 - kfp's name
    """The output of whichever branch of a dsl.If/Elif/Else chain ran (one producer per branch)."""
    return OneOfChannel(*outputs)


def Collected(output: TaskOutputChannel) -> CollectedChannel:  # noqa: N802 - kfp's name
    """Fan-in: every value of `output` (a task inside a ParallelFor), as a list, outside the loop."""
    return CollectedChannel(output)


def _item_type(items: list[Any]) -> str:
    kinds = {type(i) for i in items}
    for py, name in (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (dict, "dict"),
        (list, "list"),
    ):
        if kinds == {py}:
            return name
    return "float" if kinds <= {int, float} and kinds else "any"


class _Block:
    """Shared enter/exit: register the group under the current one and push it."""

    state: BuildState
    group_id: str

    def _open(self, state: BuildState, group: Any) -> None:
        self.state, self.group_id, self.parent = state, group.id, state.current_group
        state.add_group(group)
        state.group_stack.append(group.id)

    def __exit__(self, *exc: Any) -> None:
        popped = self.state.group_stack.pop()
        assert popped == self.group_id, (
            f"unbalanced pipeline blocks: closed {popped}, expected {self.group_id}"
        )
        self._closed()

    def _closed(self) -> None:
        self.state.chains[self.parent] = None


class ParallelFor(_Block):
    """`with dsl.ParallelFor(items, parallelism=N) as item:` — items are a literal list, a pipeline
    parameter, an upstream task's list output, or a field of an outer loop's item."""

    def __init__(self, items: Any, name: str | None = None, parallelism: int | None = None) -> None:
        self.items, self.name, self.parallelism = items, name, parallelism

    def __enter__(self) -> LoopItemChannel:
        state = require_state("dsl.ParallelFor")
        where = state.current_group
        parallelism = self.parallelism
        if parallelism is not None and (
            isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 0
        ):
            raise state.error(
                f"ParallelFor parallelism must be an int >= 0 (0 = unlimited), got {parallelism!r}",
                argument="parallelism",
            )
        items = self.items
        if isinstance(items, CollectedChannel):
            raise state.error(
                "ParallelFor cannot loop over dsl.Collected(...); loop over a list output", argument="items"
            )
        if isinstance(items, PipelineChannel):
            if items.kind != "parameter":
                raise state.error(
                    f"ParallelFor items must be a list parameter, got artifact {items!r}", argument="items"
                )
            arg, item_type = items.to_arg(), "any"
        elif isinstance(items, list | tuple):
            if any(isinstance(i, PipelineChannel) for i in items):
                raise state.error(
                    "ParallelFor over a list of pipeline values is not supported; produce the "
                    "list in a component and loop over its output",
                    argument="items",
                )
            try:
                arg = Constant(value=list(items))
            except ValueError as exc:
                raise state.error(str(exc), argument="items") from None
            item_type = _item_type(list(items))
        else:
            raise state.error(
                f"ParallelFor items must be a list, a pipeline parameter or a task output, got {items!r}",
                argument="items",
            )
        group = ParallelForGroup(
            id=state.next_id("for-loop"), parent=where, items=arg, parallelism=parallelism or None
        )
        self._open(state, group)
        state.chains[where] = None
        return LoopItemChannel(group.id, type_name=item_type)


def _as_condition(state: BuildState, condition: Any) -> Any:
    if isinstance(condition, ConditionExpr):
        return condition.comparison
    if isinstance(condition, PipelineChannel):
        return Comparison(left=condition.to_arg(), op="==", right=Constant(value=True))
    raise state.error(
        f"a condition must compare a task output or pipeline parameter (e.g. task.output > 0.9), got "
        f"{condition!r}; a plain Python value is fixed at build time, use a Python `if` instead",
        argument="condition",
    )


def _none_of(previous: list[Any]) -> list[Any]:
    return [Not(item=c) for c in previous]


class If(_Block):
    """`with dsl.If(task.output > 0.9):` — the block's tasks run only when the condition holds."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self.condition, self.name = condition, name

    def _group_condition(self, state: BuildState, cond: Any) -> Any:
        return cond

    def __enter__(self) -> If:
        state = require_state(f"dsl.{type(self).__name__}")
        cond = _as_condition(state, self.condition) if not isinstance(self, Else) else None
        self.own = cond
        group = ConditionGroup(
            id=state.next_id("condition"),
            parent=state.current_group,
            condition=self._group_condition(state, cond),
        )
        self._open(state, group)
        return self

    def _closed(self) -> None:
        self.state.chains[self.parent] = [self.own]


class Condition(If):
    """kfp's older spelling of dsl.If."""


class Elif(If):
    """`with dsl.Elif(...)`: runs when no earlier branch of the chain ran and this condition holds."""

    def _previous(self, state: BuildState) -> list[Any]:
        previous = state.chains.get(state.current_group)
        if not previous:
            raise state.error(
                f"dsl.{type(self).__name__} must directly follow a dsl.If or dsl.Elif block",
                argument="condition",
            )
        self.previous = previous
        return previous

    def _group_condition(self, state: BuildState, cond: Any) -> Any:
        return All(items=(*_none_of(self._previous(state)), cond))

    def _closed(self) -> None:
        self.state.chains[self.parent] = [*self.previous, self.own]


class Else(Elif):
    """`with dsl.Else():` runs when no earlier branch of the chain ran."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(None, name)

    def _group_condition(self, state: BuildState, cond: Any) -> Any:
        items = _none_of(self._previous(state))
        return items[0] if len(items) == 1 else All(items=tuple(items))

    def _closed(self) -> None:
        self.state.chains[self.parent] = None


class ExitHandler(_Block):
    """`with dsl.ExitHandler(exit_task):` — `exit_task` (created before the block) runs after the
    block's tasks finish, whether they succeed or fail, and receives PipelineTaskFinalStatus. It may
    be a pipeline's task (kfp allows that too): then each of its tasks is an exit task."""

    def __init__(self, exit_task: Any, name: str | None = None) -> None:
        self.exit_task, self.name = exit_task, name

    def __enter__(self) -> ExitHandler:
        state = require_state("dsl.ExitHandler")
        names = getattr(self.exit_task, "task_names", None)
        if not names or any(n not in state.tasks for n in names):
            raise state.error(
                f"dsl.ExitHandler needs a task created in this pipeline (a component or pipeline call), "
                f"got {self.exit_task!r}",
                argument="exit_task",
            )
        group = ExitHandlerGroup(  # a pipeline as the exit task: every task it added is an exit task
            id=state.next_id("exit-handler"), parent=state.current_group, exit_task=names[0],
            more_exit_tasks=tuple(names[1:]),
        )
        self._open(state, group)
        state.chains[self.parent] = None
        return self
