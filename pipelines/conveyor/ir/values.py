"""Argument values and structural conditions: tagged unions keyed by `kind`.

An argument says where a task input comes from; a condition is a tree of
comparisons over arguments. Both are data, never code, so executors evaluate
them without eval() and the Argo compiler can translate them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from conveyor.ir.base import Frozen
from conveyor.ir.placeholders import leaked_token


class Constant(Frozen):
    """A literal JSON value fixed at build time."""

    kind: Literal["constant"] = "constant"
    value: Any

    @field_validator("value")
    @classmethod
    def _json_only(cls, value: Any) -> Any:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"constant {value!r} is not JSON-serialisable: {exc}") from None
        leaked = leaked_token(value)
        if leaked:
            raise ValueError(
                f"constant {value!r:.120} holds the pipeline value {leaked}, which has no value while the "
                "pipeline is built; pass the value itself to a task input (an f-string is resolved at run "
                "time only when it is a task argument)"
            )
        return value


class PipelineParam(Frozen):
    """The value of a pipeline input parameter."""

    kind: Literal["pipeline_param"] = "pipeline_param"
    name: str


class TaskOutput(Frozen):
    """An output (parameter or artifact) of an upstream task."""

    kind: Literal["task_output"] = "task_output"
    task: str
    output: str


class LoopItem(Frozen):
    """The current item of an enclosing ParallelFor; `field` selects a key of a dict item."""

    kind: Literal["loop_item"] = "loop_item"
    loop_id: str
    field: str | None = None


class Collected(Frozen):
    """Fan-in: the list of a task's output over every iteration of the loops that enclose it
    but not the consumer (nested lists, outermost loop first)."""

    kind: Literal["collected"] = "collected"
    task: str
    output: str


class Concat(Frozen):
    """A string built at run time: `f"Hello {name}"` in a pipeline body. Each part is resolved and
    turned into text (`conveyor.ir.placeholders.part_text`), then the texts are joined."""

    kind: Literal["concat"] = "concat"
    parts: tuple[Annotated[Constant | PipelineParam | TaskOutput | LoopItem, Field(discriminator="kind")], ...]


class OneOf(Frozen):
    """`dsl.OneOf(a, b, ...)`: the output of whichever branch of an If/Elif/Else chain ran.

    Exactly one producer runs; the others are skipped by their conditions."""

    kind: Literal["one_of"] = "one_of"
    items: tuple[TaskOutput, ...]


class TaskFinalStatus(Frozen):
    """The pipeline's final status, injected into an ExitHandler's exit task."""

    kind: Literal["task_final_status"] = "task_final_status"


Arg = Annotated[
    Constant | PipelineParam | TaskOutput | LoopItem | Collected | TaskFinalStatus | Concat | OneOf,
    Field(discriminator="kind"),
]
LoopItems = Annotated[Constant | PipelineParam | TaskOutput | LoopItem, Field(discriminator="kind")]

ComparisonOp = Literal["==", "!=", "<", "<=", ">", ">="]
COMPARISON_OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=")


class Comparison(Frozen):
    """`left op right`, both sides resolved at run time."""

    kind: Literal["comparison"] = "comparison"
    left: Arg
    op: ComparisonOp
    right: Arg


class All(Frozen):
    """True when every item is true (an empty All is true)."""

    kind: Literal["all"] = "all"
    items: tuple[Condition, ...]


class AnyOf(Frozen):
    """True when at least one item is true."""

    kind: Literal["any"] = "any"
    items: tuple[Condition, ...]


class Not(Frozen):
    """Negation; Elif/Else are built as All(Not(previous), this)."""

    kind: Literal["not"] = "not"
    item: Condition


Condition = Annotated[Comparison | All | AnyOf | Not, Field(discriminator="kind")]

All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def condition_args(condition: Comparison | All | AnyOf | Not) -> list[Any]:
    """Every argument a condition reads, in order (for validation and dependency edges)."""
    if isinstance(condition, Comparison):
        return [condition.left, condition.right]
    if isinstance(condition, Not):
        return condition_args(condition.item)
    return [arg for item in condition.items for arg in condition_args(item)]
