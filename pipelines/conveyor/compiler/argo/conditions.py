"""IR conditions -> Argo ``when`` expressions, with quoting decided by type.

Argo substitutes ``{{...}}`` first and then evaluates the expression, so the
operand *types* must be fixed at compile time: strings are compared quoted,
numbers and booleans bare. Types come from the IR (component output types,
pipeline input types, constants); a comparison whose types cannot match is a
compile error, mirroring the local evaluator which refuses to compare them at
run time instead of silently skipping a branch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conveyor.compiler.argo.options import CompileError
from conveyor.ir import All, AnyOf, Comparison, Constant, Not

NUMBER = "number"
STRING = "str"
BOOL = "bool"

_FAMILY = {"int": NUMBER, "float": NUMBER, "str": STRING, "bool": BOOL}


def constant_family(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    raise CompileError(f"a condition can only compare numbers, strings and booleans, not {value!r}")


def type_family(type_name: str | None) -> str | None:
    """The comparison family of an IR type name, or None when unknown (loop items)."""
    if type_name is None:
        return None
    family = _FAMILY.get(type_name)
    if family is None:
        raise CompileError(
            f"a condition can only compare numbers, strings and booleans, not values of type {type_name}"
        )
    return family


def quote_string(text: str, what: str) -> str:
    """Quote a constant string for the expression language; refuse what cannot be quoted safely."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    raise CompileError(
        f"{what}: string constant {text!r} contains both quote kinds and cannot be used in a condition"
    )


def when_expression(
    condition: Comparison | All | AnyOf | Not,
    text_of: Callable[[Any], str],
    type_of: Callable[[Any], str | None],
    what: str,
) -> str:
    """Render ``condition``; ``text_of(arg)`` gives the ``{{...}}`` reference, ``type_of(arg)`` its IR type."""
    if isinstance(condition, Not):
        return f"!({when_expression(condition.item, text_of, type_of, what)})"
    if isinstance(condition, All | AnyOf):
        if not condition.items:
            return "true" if isinstance(condition, All) else "false"
        joiner = " && " if isinstance(condition, All) else " || "
        return joiner.join(f"({when_expression(i, text_of, type_of, what)})" for i in condition.items)
    left, right = condition.left, condition.right
    lf, rf = _family(left, type_of), _family(right, type_of)
    family = lf or rf or STRING
    if lf and rf and lf != rf:
        raise CompileError(
            f"{what}: cannot compare {lf} with {rf} ({condition.op}); both sides must have the same type"
        )
    if condition.op not in ("==", "!=") and family == BOOL:
        raise CompileError(f"{what}: operator {condition.op!r} needs numbers or strings, not booleans")
    return f"{_operand(left, family, text_of, what)} {condition.op} {_operand(right, family, text_of, what)}"


def _family(arg: Any, type_of: Callable[[Any], str | None]) -> str | None:
    if isinstance(arg, Constant):
        return constant_family(arg.value)
    return type_family(type_of(arg))


def _operand(arg: Any, family: str, text_of: Callable[[Any], str], what: str) -> str:
    if isinstance(arg, Constant):
        value = arg.value
        if family == STRING:
            return quote_string(str(value), what)
        return json.dumps(value)
    ref = text_of(arg)
    return f"'{ref}'" if family == STRING else ref
