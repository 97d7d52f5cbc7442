"""Structural evaluation of conditions, never eval().

The caller resolves each argument to a value (it knows where outputs live);
this module only compares. A comparison between incompatible values raises
ConditionEvaluationError so the run fails loudly instead of skipping a branch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from conveyor.ir.errors import ConditionEvaluationError
from conveyor.ir.values import All, AnyOf, Comparison, Not

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _family(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def describe(arg: Any) -> str:
    """Human form of an argument for error messages: `train.Output`, `param threshold`, ..."""
    kind = getattr(arg, "kind", None)
    if kind == "task_output":
        return f"{arg.task}.{arg.output}"
    if kind == "pipeline_param":
        return f"pipeline parameter {arg.name!r}"
    if kind == "constant":
        return repr(arg.value)
    if kind == "loop_item":
        return f"loop item {arg.loop_id}" + (f".{arg.field}" if arg.field else "")
    return repr(arg)


def compare(left: Any, op: str, right: Any, what: str = "") -> bool:
    """Compare two resolved values; only same-family values (int/float count as one) compare."""
    if op not in _OPS:
        raise ConditionEvaluationError(f"{what}unknown operator {op!r}; allowed: {list(_OPS)}")
    lf, rf = _family(left), _family(right)
    if lf != rf:
        raise ConditionEvaluationError(
            f"{what}cannot compare {lf} {left!r} {op} {rf} {right!r}; both sides must be of the same type "
            "(numbers, strings or booleans)"
        )
    if op not in ("==", "!=") and lf not in ("number", "str"):
        raise ConditionEvaluationError(f"{what}operator {op!r} needs numbers or strings, got {lf} {left!r}")
    return bool(_OPS[op](left, right))


def evaluate(condition: Comparison | All | AnyOf | Not, resolve: Callable[[Any], Any]) -> bool:
    """Evaluate a condition tree; `resolve(arg)` turns an argument into its run-time value."""
    if isinstance(condition, Comparison):
        what = f"condition {describe(condition.left)} {condition.op} {describe(condition.right)}: "
        return compare(resolve(condition.left), condition.op, resolve(condition.right), what)
    if isinstance(condition, Not):
        return not evaluate(condition.item, resolve)
    if isinstance(condition, All):
        return all(evaluate(item, resolve) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(evaluate(item, resolve) for item in condition.items)
    raise ConditionEvaluationError(f"unknown condition node {condition!r}")
