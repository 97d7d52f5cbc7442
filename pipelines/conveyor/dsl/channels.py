"""Placeholders for values that exist only at run time.

A channel stands for a pipeline parameter, a task output, a loop item or a
fan-in; it knows the IR argument it becomes. Comparing channels with the six
operators builds a structural condition for dsl.If, never a Python bool.
"""

from __future__ import annotations

from typing import Any

from conveyor.ir import Collected as CollectedArg
from conveyor.ir import Comparison, Constant, LoopItem, OneOf, PipelineParam, TaskFinalStatus, TaskOutput
from conveyor.ir.placeholders import part_text, token


class ConditionExpr:
    """The result of `channel > value`: an IR comparison waiting for dsl.If."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison

    def __bool__(self) -> bool:
        raise TypeError(
            "a pipeline condition has no value at build time; use it in dsl.If(...) / dsl.Condition(...), "
            "not in a Python `if`"
        )


def as_operand(value: Any) -> Any:
    """A channel's argument, or a Constant for a literal on the other side of a comparison."""
    if isinstance(value, PipelineChannel):
        return value.to_arg()
    return Constant(value=value)


class PipelineChannel:
    """Base of every run-time placeholder."""

    kind: str = "parameter"
    type: str = "str"

    def to_arg(self) -> Any:
        raise NotImplementedError

    def _compare(self, op: str, other: Any) -> ConditionExpr:
        return ConditionExpr(Comparison(left=self.to_arg(), op=op, right=as_operand(other)))

    def __eq__(self, other: Any) -> ConditionExpr:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: Any) -> ConditionExpr:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: Any) -> ConditionExpr:
        return self._compare("<", other)

    def __le__(self, other: Any) -> ConditionExpr:
        return self._compare("<=", other)

    def __gt__(self, other: Any) -> ConditionExpr:
        return self._compare(">", other)

    def __ge__(self, other: Any) -> ConditionExpr:
        return self._compare(">=", other)

    __hash__ = object.__hash__

    # formatting: f"{channel}", "%s" % channel, str(channel) and "text" + channel give a token the
    # DSL turns back into a run-time Concat when the string is passed to a task (kfp's behaviour).
    def token(self) -> str:
        raise TypeError(f"{self!r} cannot be formatted into a string; pass it to a task input as it is")

    def __str__(self) -> str:
        return self.token()

    def __format__(self, spec: str) -> str:
        if spec:
            raise TypeError(
                f"{self!r} has no value at build time, so the format spec {spec!r} cannot apply; "
                "format the value inside a component"
            )
        return self.token()

    def __add__(self, other: Any) -> str:
        if not isinstance(other, str):
            raise TypeError(f"{self!r} has no value at build time; compute with it inside a component")
        return self.token() + other

    def __radd__(self, other: Any) -> str:
        if not isinstance(other, str):
            raise TypeError(f"{self!r} has no value at build time; compute with it inside a component")
        return other + self.token()

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self!r} has no value at build time; pass it to a task, or compare it inside dsl.If(...)"
        )

    def __iter__(self):
        raise TypeError(
            f"{self!r} cannot be iterated at build time; use `with dsl.ParallelFor(...) as item:`"
        )


class PipelineParamChannel(PipelineChannel):
    """A pipeline input parameter."""

    def __init__(self, name: str, kind: str, type_name: str) -> None:
        self.name, self.kind, self.type = name, kind, type_name

    def to_arg(self) -> PipelineParam:
        return PipelineParam(name=self.name)

    def token(self) -> str:
        return token(task="", name=self.name, type=self.type)

    def __repr__(self) -> str:
        return f"<pipeline parameter {self.name}: {self.type}>"


class ConstantChannel(PipelineChannel):
    """A literal bound to a sub-pipeline parameter; it behaves like any other channel inside."""

    def __init__(self, value: Any, type_name: str) -> None:
        self.value, self.type = value, type_name

    def to_arg(self) -> Constant:
        return Constant(value=self.value)

    def token(self) -> str:
        return part_text(self.value)  # known now: format it the way the run time would

    def __repr__(self) -> str:
        return f"<constant {self.value!r}>"


class FinalStatusChannel(PipelineChannel):
    """A sub-pipeline's `PipelineTaskFinalStatus` input: handed on to the exit component inside it."""

    type = "PipelineTaskFinalStatus"

    def to_arg(self) -> TaskFinalStatus:
        return TaskFinalStatus()

    def __repr__(self) -> str:
        return "<pipeline task final status>"


class TaskOutputChannel(PipelineChannel):
    """An output of a task: `task.output` or `task.outputs[name]`."""

    def __init__(self, task: str, output: str, kind: str, type_name: str) -> None:
        self.task_name, self.name, self.kind, self.type = task, output, kind, type_name

    def to_arg(self) -> TaskOutput:
        return TaskOutput(task=self.task_name, output=self.name)

    def token(self) -> str:
        if self.kind == "artifact":
            raise TypeError(
                f"{self!r} is an artifact and cannot be formatted into a string; pass it to an "
                "Input[...] and read .uri or .path inside the component (or pass dsl.get_uri(...))"
            )
        return token(task=self.task_name, name=self.name, type=self.type)

    def __repr__(self) -> str:
        return f"<output {self.task_name}.{self.name}: {self.type}>"


class LoopItemChannel(PipelineChannel):
    """The current ParallelFor item; `item.field` / `item["field"]` select a key of dict items."""

    def __init__(self, loop_id: str, field: str | None = None, type_name: str = "str") -> None:
        self.loop_id, self.field, self.type = loop_id, field, type_name

    def __getattr__(self, field: str) -> LoopItemChannel:
        if field.startswith("_"):
            raise AttributeError(field)
        return self[field]

    def __getitem__(self, field: str) -> LoopItemChannel:
        if self.field is not None:
            raise TypeError(f"nested field access ({self.field}.{field}) on loop items is not supported")
        return LoopItemChannel(self.loop_id, field, type_name="any")

    def to_arg(self) -> LoopItem:
        return LoopItem(loop_id=self.loop_id, field=self.field)

    def token(self) -> str:
        return token(loop=self.loop_id, field=self.field or "")

    def __repr__(self) -> str:
        return f"<loop item {self.loop_id}{'.' + self.field if self.field else ''}>"


class CollectedChannel(PipelineChannel):
    """`dsl.Collected(task.output)`: the list of an output over the loop(s) around its task."""

    def __init__(self, output: TaskOutputChannel) -> None:
        if not isinstance(output, TaskOutputChannel):
            raise TypeError(
                f"dsl.Collected(...) takes a task output inside a ParallelFor (task.output), got {output!r}"
            )
        self.source = output
        self.kind = output.kind
        self.type = "list" if output.kind == "parameter" else output.type

    def to_arg(self) -> CollectedArg:
        return CollectedArg(task=self.source.task_name, output=self.source.name)

    def __repr__(self) -> str:
        return f"<collected {self.source.task_name}.{self.source.name}>"


class ConcatChannel(PipelineChannel):
    """A formatted string handed to a sub-pipeline: it stays a run-time Concat inside."""

    def __init__(self, text: str, arg: Any) -> None:
        self.text, self.arg, self.type = text, arg, "str"

    def to_arg(self) -> Any:
        return self.arg

    def token(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<formatted string {self.text!r}>"


class OneOfChannel(PipelineChannel):
    """`dsl.OneOf(a.output, b.output)`: the output of whichever If/Elif/Else branch ran."""

    def __init__(self, *channels: Any) -> None:
        if len(channels) < 2 or not all(isinstance(c, TaskOutputChannel) for c in channels):
            raise TypeError(
                "dsl.OneOf(...) takes two or more task outputs, one from each branch of a dsl.If/Elif/Else "
                f"chain, got {channels!r}"
            )
        kinds = {c.kind for c in channels}
        if len(kinds) > 1:
            raise TypeError(f"dsl.OneOf(...) mixes parameters and artifacts: {channels!r}")
        self.channels, self.kind = channels, kinds.pop()
        types = {c.type for c in channels}
        self.type = types.pop() if len(types) == 1 else ("Artifact" if self.kind == "artifact" else "any")

    def to_arg(self) -> OneOf:
        return OneOf(items=tuple(c.to_arg() for c in self.channels))

    def __repr__(self) -> str:
        return f"<one of {', '.join(f'{c.task_name}.{c.name}' for c in self.channels)}>"
