"""`dsl.importer` in the IR: a task whose one output is an artifact that already exists at a URI.

The importer is a component like any other (input `uri`, output `artifact`), so caching, the task
protocol and the Argo pod need nothing special. Its metadata keeps kfp's placeholder syntax
(``{{$.inputs.parameters['metadata']}}``) for values known only at run time; those values arrive as
extra parameter inputs (``metadata``, ``metadata-2``, ...), exactly as kfp's compiler lays them out.
`resolve_metadata` fills them in, the one place both the local task and the pod do it.
"""

from __future__ import annotations

from typing import Any, Literal

from conveyor.ir.base import DeclaredImplementation
from conveyor.ir.container import Reference, split_text
from conveyor.ir.placeholders import part_text

URI_INPUT = "uri"
OUTPUT = "artifact"
METADATA_INPUT = "metadata"


class ImporterImplementation(DeclaredImplementation):
    """Bring the object at input `uri` in as an artifact of `artifact_type` with `metadata`.

    `reimport=False` (kfp's default) lets a later run with the same URI and metadata reuse the earlier
    import from the cache; `reimport=True` reads the URI again on every run.
    """

    kind: Literal["importer"] = "importer"
    artifact_type: str
    reimport: bool = False
    metadata: dict[str, Any] = {}
    download_to_workspace: bool = False


def input_placeholder(name: str) -> str:
    return "{{$.inputs.parameters['" + name + "']}}"


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {_resolve(k, params): _resolve(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, params) for v in value]
    if not isinstance(value, str):
        return value
    parts = split_text(value)
    refs = [p for p in parts if isinstance(p, Reference)]
    if not refs:
        return value
    for ref in refs:
        if ref.what != "input_value" or ref.name not in params:
            raise ValueError(f"importer metadata placeholder {ref.text!r} names no parameter input of the importer; "
                             f"inputs: {sorted(params)}")
    if len(parts) == 1:  # the whole value is one input: keep its type (an int stays an int)
        return params[refs[0].name]  # type: ignore[index]
    return "".join(p if isinstance(p, str) else part_text(params[p.name]) for p in parts)  # type: ignore[index]


def resolve_metadata(metadata: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The importer's metadata with each ``{{$.inputs.parameters['NAME']}}`` replaced by that input's value."""
    return _resolve(metadata, params)
