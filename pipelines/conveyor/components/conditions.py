"""kfp's compiled trigger conditions (`triggerPolicy.condition`) back into conveyor conditions.

kfp writes If/Elif/Else as CEL-like text over the DAG's inputs, e.g.
``!(inputs.parameter_values['pipelinechannel--flip-Output'] == 'heads') && int(inputs.parameter_values['x']) > 5``.
This parses the subset kfp's compiler emits: comparisons of an input (optionally cast with
``int``/``double``/``string``/``bool``) with a literal or another input, ``!``, ``&&``, ``||`` and
parentheses. Anything else is refused with the text and the position that could not be read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from conveyor.components.errors import ComponentSpecError
from conveyor.ir import All, AnyOf, Comparison, Constant, Not

_TOKEN = re.compile(r"""\s*(?:
    (?P<ref>inputs\.parameter_values\['(?P<name>[^']+)'\])
  | (?P<cast>int|double|string|bool)\s*\(
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<bool>true|false)
  | (?P<op>==|!=|<=|>=|<|>|&&|\|\||!|\(|\))
)""", re.X)


class _Parser:
    def __init__(self, text: str, operand: Callable[[str], Any], where: str) -> None:
        self.text, self.operand, self.where = text, operand, where
        self.tokens: list[tuple[str, Any, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m:
                self.fail(pos)
            kind = m.lastgroup if m.lastgroup != "name" else "ref"
            value = m.group("name") if m.group("ref") else m.group(kind)  # type: ignore[arg-type]
            self.tokens.append((kind, value, pos))  # type: ignore[arg-type]
            pos = m.end()
        self.i = 0

    def fail(self, pos: int) -> None:
        raise ComponentSpecError(f"{self.where}: cannot read the condition {self.text!r} at position {pos} "
                                 f"({self.text[pos:pos + 20]!r}); conveyor reads comparisons of inputs with "
                                 "literals joined by !, && and ||")

    def peek(self) -> tuple[str, Any, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, Any, int]:
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value and tok[1] != value):
            self.fail(tok[2] if tok else len(self.text))
        self.i += 1
        return tok  # type: ignore[return-value]

    def parse(self) -> Any:
        cond = self.disjunction()
        if self.peek() is not None:
            self.fail(self.peek()[2])  # type: ignore[index]
        return cond

    def disjunction(self) -> Any:
        items = [self.conjunction()]
        while (tok := self.peek()) and tok[1] == "||":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else AnyOf(items=tuple(items))

    def conjunction(self) -> Any:
        items = [self.unary()]
        while (tok := self.peek()) and tok[1] == "&&":
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else All(items=tuple(items))

    def unary(self) -> Any:
        tok = self.peek()
        if tok and tok[1] == "!":
            self.take()
            return Not(item=self.unary())
        if tok and tok[1] == "(":
            self.take()
            inner = self.disjunction()
            self.take("op", ")")
            return inner
        left = self.value()
        op = self.take("op")
        if op[1] not in ("==", "!=", "<", "<=", ">", ">="):
            self.fail(op[2])
        return Comparison(left=left, op=op[1], right=self.value())

    def value(self) -> Any:
        tok = self.take()
        kind, value = tok[0], tok[1]
        if kind == "cast":
            inner = self.value()
            self.take("op", ")")
            return inner
        if kind == "ref":
            return self.operand(value)
        if kind == "str":
            return Constant(value=json.loads('"' + value[1:-1].replace('"', '\\"').replace("\\'", "'") + '"'))
        if kind == "num":
            return Constant(value=json.loads(value))
        if kind == "bool":
            return Constant(value=value == "true")
        self.fail(tok[2])
        return None


def parse_condition(text: str, operand: Callable[[str], Any], where: str) -> Any:
    """The IR condition for kfp's `triggerPolicy.condition`; `operand(name)` gives an input's IR argument."""
    return _Parser(text, operand, where).parse()
