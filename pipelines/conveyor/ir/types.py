"""Parameter types, annotation markers and the final-status object.

The markers (`Input[T]`, `Output[T]`, `InputPath`, `OutputPath`) and
`PipelineTaskFinalStatus` live here, in the lowest layer, because the
one-task runtime needs them to call a function and must not import the DSL.
The DSL re-exports them under kfp's names.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, TypeVar

from conveyor.ir.artifacts import ARTIFACT_CLASSES, Artifact

PARAMETER_TYPES: tuple[str, ...] = ("str", "int", "float", "bool", "list", "dict")
ARTIFACT_TYPES: tuple[str, ...] = tuple(ARTIFACT_CLASSES)
FINAL_STATUS_TYPE = "PipelineTaskFinalStatus"

# kfp's spellings, accepted where users give a type by name (InputPath("String")).
_PARAMETER_ALIASES: dict[str, str] = {
    "str": "str",
    "string": "str",
    "text": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "double": "float",
    "number": "float",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "jsonarray": "list",
    "dict": "dict",
    "jsonobject": "dict",
}
_PY_PARAMETER_TYPES: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    list: "list",
    dict: "dict",
}

T = TypeVar("T")


class _IOMarker:
    """Annotated metadata telling an artifact input from an artifact output."""

    def __init__(self, direction: str) -> None:
        self.direction = direction

    def __repr__(self) -> str:
        return f"<{self.direction} marker>"


INPUT_MARKER = _IOMarker("Input")
OUTPUT_MARKER = _IOMarker("Output")

Input = Annotated[T, INPUT_MARKER]
"""`Input[Dataset]`: the function receives an artifact object to read."""

Output = Annotated[T, OUTPUT_MARKER]
"""`Output[Model]`: the function receives an artifact object to write."""

EMBEDDED_MARKER = _IOMarker("EmbeddedInput")
EmbeddedInput = Annotated[T, EMBEDDED_MARKER]
"""`EmbeddedInput[Dataset]`: the component's embedded asset (`embedded_artifact_path`), not a caller's input."""


class InputPath:
    """`InputPath(Dataset)` / `InputPath("Dataset")` / `InputPath(str)`: receive a local file path."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - kfp's keyword
        self.type = type

    def __repr__(self) -> str:
        return f"InputPath({self.type!r})"


class OutputPath:
    """`OutputPath(Model)` / `OutputPath(int)`: receive a local file path to write."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - kfp's keyword
        self.type = type

    def __repr__(self) -> str:
        return f"OutputPath({self.type!r})"


@dataclasses.dataclass(frozen=True)
class PipelineTaskFinalStatus:
    """Final status of a pipeline, handed to an ExitHandler's exit task (as in kfp)."""

    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: int | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_kfp(self) -> dict[str, Any]:
        """kfp's wire form, what a container component's ``{inputValue: status}`` receives (kfp's local
        runner writes this shape; its executor reads it)."""
        error = {"code": self.error_code, "message": self.error_message} if self.error_code is not None else {}
        return {"state": self.state, "pipeline_job_resource_name": self.pipeline_job_resource_name,
                "pipeline_task_name": self.pipeline_task_name, "error": error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineTaskFinalStatus:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})


def normalize_type(tp: Any) -> tuple[str, str]:
    """Map a Python annotation or kfp type name to `(kind, type_name)`.

    kind is "parameter" or "artifact". Raises `TypeError` naming what is allowed.
    """
    if tp is None:
        return "artifact", "Artifact"
    if isinstance(tp, str):
        if tp in ARTIFACT_CLASSES:
            return "artifact", tp
        if tp.startswith("system."):
            for name, cls in ARTIFACT_CLASSES.items():
                if cls.schema_title == tp:
                    return "artifact", name
        alias = _PARAMETER_ALIASES.get(tp.lower())
        if alias:
            return "parameter", alias
        raise TypeError(f"unknown type name {tp!r}; allowed: {list(PARAMETER_TYPES) + list(ARTIFACT_TYPES)}")
    if isinstance(tp, type) and issubclass(tp, Artifact):
        return "artifact", tp.__name__
    if tp in _PY_PARAMETER_TYPES:
        return "parameter", _PY_PARAMETER_TYPES[tp]
    origin = typing.get_origin(tp)
    if origin in _PY_PARAMETER_TYPES:
        return "parameter", _PY_PARAMETER_TYPES[origin]
    raise TypeError(f"unsupported type {tp!r}; allowed: {list(PARAMETER_TYPES) + list(ARTIFACT_TYPES)}")


def value_matches(type_name: str, value: Any) -> bool:
    """Whether a constant is acceptable for a parameter type (int is fine for float; bool is not an int)."""
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "list":
        return isinstance(value, list | tuple)
    if type_name == "dict":
        return isinstance(value, dict)
    return False
