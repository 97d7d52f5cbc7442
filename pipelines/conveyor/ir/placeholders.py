"""The text a pipeline value takes when a pipeline body formats it into a string, and back.

`f"Hello {name}"` runs while the pipeline is built, when `name` has no value yet. As in kfp, the
channel formats itself as a token (`{{channel:task=;name=name;type=str;}}`); the DSL finds the
tokens in every string it is handed and turns the string into an IR `Concat`, which each
executor resolves at run time with `join_parts`. A token that reaches a place nothing resolves
is an authoring error (`leaked_token`), never text a task receives.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOKEN = re.compile(r"\{\{channel:((?:[a-z_]+=[^;{}]*;)+)\}\}")


def token(**fields: str) -> str:
    """`{{channel:task=train;name=Output;type=float;}}`: kfp's layout, plus `loop=`/`field=`."""
    return "{{channel:" + "".join(f"{k}={v};" for k, v in fields.items()) + "}}"


def split(text: str) -> list[str | dict[str, str]]:
    """Literal text and token fields, in order: `"a {{channel:...}} b"` → ["a ", {...}, " b"]."""
    out: list[str | dict[str, str]] = []
    at = 0
    for match in TOKEN.finditer(text):
        if match.start() > at:
            out.append(text[at : match.start()])
        fields = dict(pair.split("=", 1) for pair in match.group(1).rstrip(";").split(";"))
        out.append(fields)
        at = match.end()
    if at < len(text):
        out.append(text[at:])
    return out


def leaked_token(value: Any) -> str | None:
    """The first token inside a (possibly nested) constant, if any."""
    if isinstance(value, str):
        match = TOKEN.search(value)
        return match.group(0) if match else None
    if isinstance(value, list | tuple):
        return next((t for t in map(leaked_token, value) if t), None)
    if isinstance(value, dict):
        return next((t for t in map(leaked_token, [*value.keys(), *value.values()]) if t), None)
    return None


def part_text(value: Any) -> str:
    """A resolved value as text inside a formatted string: strings as they are, booleans as
    `true`/`false` and everything else as JSON, which is what kfp's runtime substitutes."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def join_parts(values: list[Any]) -> str:
    return "".join(part_text(v) for v in values)


def concat_part_name(name: str, index: int) -> str:
    """The pod input carrying part `index` of the formatted string bound to input `name` on Argo."""
    return f"{name}--part{index}"
