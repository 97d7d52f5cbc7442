"""Pipeline arguments: bind them to the spec's inputs, and parse `-p NAME=VALUE` from the CLI.

The one binder for a local run (`conveyor run`, `conveyor.run()`), `conveyor submit` and
`conveyor schedule`: types are checked and an int given for a float becomes a float, so the
same arguments give the same values - and the same cache keys - on a laptop and on the cluster.
Errors (`PipelineDefinitionError`) name the pipeline, the argument, the value and the expected
type, before anything runs or is recorded.
"""

from __future__ import annotations

import json
from typing import Any

from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.spec import PipelineSpec
from conveyor.ir.types import value_matches

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def parse_cli_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise PipelineDefinitionError(f"-p {pair!r}: expected NAME=VALUE, e.g. -p learning_rate=0.1")
        params[name.strip()] = value
    return params


def coerce(type_name: str, raw: str) -> Any:
    """Turn a CLI string into the declared type; ValueError says what was expected."""
    if type_name == "str":
        return raw
    if type_name == "bool":
        if raw.lower() not in _BOOLS:
            raise ValueError(f"expected a bool (true/false), got {raw!r}")
        return _BOOLS[raw.lower()]
    if type_name == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"expected an int, got {raw!r}") from None
    if type_name == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"expected a float, got {raw!r}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"expected a JSON {type_name}, got {raw!r}") from None
    if not value_matches(type_name, value):
        raise ValueError(f"expected a JSON {type_name}, got {type(value).__name__}")
    return value


def bind_arguments(spec: PipelineSpec, given: dict[str, Any], from_cli: bool = False,
                   partial: bool = False) -> dict[str, Any]:
    """Every pipeline input with a value: given, or its default. Strings from the CLI are coerced.

    `partial` (compile): a required input that is not given is left out instead of refused, so the
    Workflow declares it without a value for `argo submit -p` to fill; run and submit never pass it."""
    known = {i.name: i for i in spec.inputs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise PipelineDefinitionError(
            f"unknown argument(s) {', '.join(unknown)}; the pipeline takes: {', '.join(known) or '(none)'}",
            pipeline=spec.name, argument=unknown[0])
    bound: dict[str, Any] = {}
    for name, inp in known.items():
        if name not in given:
            if inp.required and partial:
                continue
            if inp.required:
                raise PipelineDefinitionError(f"missing required argument (type {inp.type})",
                                              pipeline=spec.name, argument=name)
            bound[name] = inp.default
            continue
        value = given[name]
        if from_cli and isinstance(value, str):
            try:
                value = coerce(inp.type, value)
            except ValueError as exc:
                raise PipelineDefinitionError(str(exc), pipeline=spec.name, argument=name) from None
        if inp.kind == "parameter" and not (value is None and inp.optional) and not value_matches(inp.type, value):
            raise PipelineDefinitionError(
                f"expected {inp.type}, got {type(value).__name__} {value!r:.60}", pipeline=spec.name, argument=name)
        if inp.type == "float" and isinstance(value, int):
            value = float(value)
        bound[name] = value
    return bound
