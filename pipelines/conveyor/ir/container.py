"""Container components in the IR: an image, its command and args, with kfp's placeholders as data.

Strings keep kfp's own placeholder syntax (``{{$.inputs.parameters['x']}}``, ``{{$.pipeline_job_name}}``)
so a kfp-compiled spec loads unchanged; ``Concat`` and ``IfPresent`` are structured nodes. This module
only *parses* and *checks* placeholders (at authoring time, so a typo fails before anything runs);
``conveyor.runtime.placeholders`` resolves them, the same way in a local task and in a pod.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Union

from conveyor.ir.base import DeclaredImplementation, Frozen
from conveyor.ir.errors import PipelineDefinitionError

PLACEHOLDER = re.compile(r"\{\{\$(.*?)\}\}")

# Placeholders that need no input or output name: kfp's constant name -> what they stand for.
CONSTANTS = {
    ".pipeline_job_name": "job_name",
    ".pipeline_job_resource_name": "job_resource_name",
    ".pipeline_job_uuid": "job_id",
    ".pipeline_task_name": "task_name",
    ".pipeline_task_uuid": "task_id",
    ".pipeline_root": "pipeline_root",
    ".pipeline_job_create_time_utc": "create_time",
    ".pipeline_job_schedule_time_utc": "schedule_time",
    ".workspace_path": "workspace",
}
_INPUT_PARAM = re.compile(r"^\.inputs\.parameters\['([^']+)'\]$")
_INPUT_ART = re.compile(r"^\.inputs\.artifacts\['([^']+)'\](?:\.(path|uri|metadata)(?:\['([^']+)'\])?)?$")
_OUTPUT_PARAM = re.compile(r"^\.outputs\.parameters\['([^']+)'\]\.output_file$")
_OUTPUT_ART = re.compile(r"^\.outputs\.artifacts\['([^']+)'\](?:\.(path|uri|metadata))?$")
ALLOWED = (
    "{{$.inputs.parameters['NAME']}}, {{$.inputs.artifacts['NAME'].path|uri|metadata}}, "
    "{{$.outputs.parameters['NAME'].output_file}}, {{$.outputs.artifacts['NAME'].path|uri|metadata}}, "
    + ", ".join("{{$" + k + "}}" for k in CONSTANTS)
)


class Concat(Frozen):
    """kfp's ConcatPlaceholder: the items resolved and joined into one argument."""

    kind: Literal["concat"] = "concat"
    items: tuple[CommandPart, ...]


class IfPresent(Frozen):
    """kfp's IfPresentPlaceholder: `then` when input `input_name` was given, else `otherwise`."""

    kind: Literal["if_present"] = "if_present"
    input_name: str
    then: tuple[CommandPart, ...] = ()
    otherwise: tuple[CommandPart, ...] = ()


CommandPart = Union[str, Concat, IfPresent]  # noqa: UP007 - a forward-referenced recursive union
Concat.model_rebuild()
IfPresent.model_rebuild()


class ContainerImplementation(DeclaredImplementation):
    """Run `command` + `args` in `image`; outputs are the files the placeholders point at."""

    kind: Literal["container"] = "container"
    image: str
    command: tuple[CommandPart, ...] = ()
    args: tuple[CommandPart, ...] = ()
    env: dict[str, str] = {}


@dataclass(frozen=True)
class Reference:
    """One parsed placeholder: `what` it stands for, and the input/output `name` and metadata `key`."""

    what: str
    name: str | None = None
    key: str | None = None
    text: str = ""


def parse_reference(body: str) -> Reference:
    """The text between ``{{$`` and ``}}``; PipelineDefinitionError for one kfp does not define."""
    text = "{{$" + body + "}}"
    if body in CONSTANTS:
        return Reference(CONSTANTS[body], text=text)
    if m := _INPUT_PARAM.match(body):
        return Reference("input_value", m.group(1), text=text)
    if m := _INPUT_ART.match(body):
        field = m.group(2) or "list"
        return Reference(f"input_{field}", m.group(1), m.group(3), text=text)
    if m := _OUTPUT_PARAM.match(body):
        return Reference("output_file", m.group(1), text=text)
    if m := _OUTPUT_ART.match(body):
        return Reference(f"output_{m.group(2) or 'list'}", m.group(1), text=text)
    if body == "":
        raise PipelineDefinitionError(
            "placeholder {{$}} (kfp's executor input) is only meaningful to kfp's own Python executor; "
            "a container component receives its inputs through per-input placeholders")
    raise PipelineDefinitionError(f"unknown placeholder {text!r}; allowed: {ALLOWED}")


def split_text(text: str) -> list[str | Reference]:
    """A string as literal pieces and parsed placeholders, in order."""
    parts: list[str | Reference] = []
    pos = 0
    for match in PLACEHOLDER.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        parts.append(parse_reference(match.group(1)))
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return parts


def walk(parts: Iterable[CommandPart]) -> Iterator[Reference | IfPresent]:
    """Every placeholder and IfPresent node in a command line, depth first."""
    for part in parts:
        if isinstance(part, str):
            yield from (p for p in split_text(part) if isinstance(p, Reference))
        elif isinstance(part, Concat):
            yield from walk(part.items)
        else:
            yield part
            yield from walk(part.then)
            yield from walk(part.otherwise)


_INPUT_KINDS = {"input_value": "parameter", "input_path": None, "input_uri": "artifact",
                "input_metadata": "artifact", "input_list": "artifact"}
_OUTPUT_KINDS = {"output_file": "parameter", "output_path": None, "output_uri": "artifact",
                 "output_metadata": "artifact", "output_list": "artifact"}


def check_container(impl: ContainerImplementation, inputs: Iterable, outputs: Iterable, component: str) -> None:
    """Every placeholder names an input/output of the right kind; errors name the component and placeholder."""
    ins = {i.name: i.kind for i in inputs}
    outs = {o.name: o.kind for o in outputs}
    where = f"container component {component!r}"
    if not impl.image:
        raise PipelineDefinitionError(f"{where}: ContainerSpec needs an image")
    for node in walk((*impl.command, *impl.args)):
        if isinstance(node, IfPresent):
            if node.input_name not in ins:
                raise PipelineDefinitionError(
                    f"{where}: IfPresentPlaceholder names input {node.input_name!r}; inputs: {sorted(ins)}")
            continue
        for table, names, side in ((_INPUT_KINDS, ins, "input"), (_OUTPUT_KINDS, outs, "output")):
            if node.what not in table:
                continue
            if node.name not in names:
                raise PipelineDefinitionError(
                    f"{where}: placeholder {node.text!r} names {side} {node.name!r}; {side}s: {sorted(names)}")
            want = table[node.what]
            if want is not None and names[node.name] != want:
                raise PipelineDefinitionError(
                    f"{where}: placeholder {node.text!r} needs a {want} {side}, but {node.name!r} is a "
                    f"{names[node.name]}")
