"""The data model of a recorded Pulumi program: resources, secrets, unknowns, and their codecs.

Why separate from the runner: the policy runner, `plan` and the tests consume recordings without
caring how they were produced. Secrets stay wrapped (`Secret`) and unknowns stay `UNKNOWN` so a
policy can tell a secret-marked password from a plain one; `to_dict`/`from_dict` carry both
across a process boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class Secret:
    """A value the program marked secret (or the engine would have: `additionalSecretOutputs`)."""

    value: Any

    def __repr__(self) -> str:  # never print the value by accident
        return "Secret([redacted])"


class _Unknown:
    """A value not known until `pulumi up` runs (the mock did not supply it)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class ResourceRef:
    """A reference to another resource inside a property value (e.g. a provider object)."""

    urn: str
    id: Any = None


@dataclass
class RecordedResource:
    """One registration the program made, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    @property
    def is_component(self) -> bool:
        return not self.custom and not self.type.startswith("pulumi:providers:")


@dataclass
class RecordedProgram:
    """The result of one offline run: resources in registration order plus the stack outputs."""

    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    stack_urn: str
    config: dict[str, str] = field(default_factory=dict)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> RecordedResource:
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        raise KeyError(f"no {type_} named {name!r}; have {[r.name for r in self.by_type(type_)]}")

    def by_urn(self, urn: str) -> RecordedResource | None:
        return next((r for r in self.resources if r.urn == urn), None)

    def children(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["resources"] = [dict(vars(r)) for r in self.resources]
        return _encode_json(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordedProgram:
        data = _decode_json(data)
        resources = [RecordedResource(**r) for r in data.pop("resources")]
        return cls(resources=resources, **data)


def decode_struct(struct: Any) -> dict[str, Any]:
    """Turn a protobuf Struct from the monitor into Python values, keeping secrets and unknowns."""
    from google.protobuf import json_format

    if struct is None:
        return {}
    return decode_value(json_format.MessageToDict(struct)) or {}


def decode_value(value: Any) -> Any:
    if isinstance(value, str) and value == _UNKNOWN:
        return UNKNOWN
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return Secret(decode_value(value.get("value")))
        if sig == _RESOURCE_SIG:
            return ResourceRef(urn=value.get("urn", ""), id=decode_value(value.get("id")))
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Structs carry every number as a double
    return value


def unwrap(value: Any) -> Any:
    """Strip `Secret` wrappers (for assertions on values, not for printing)."""
    if isinstance(value, Secret):
        return unwrap(value.value)
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def _encode_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"__secret__": _encode_json(value.value)}
    if value is UNKNOWN:
        return {"__unknown__": True}
    if isinstance(value, ResourceRef):
        return {"__resource__": value.urn, "id": _encode_json(value.id)}
    if isinstance(value, list | tuple):
        return [_encode_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode_json(v) for k, v in value.items()}
    return value


def _decode_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__secret__"}:
            return Secret(_decode_json(value["__secret__"]))
        if set(value) == {"__unknown__"}:
            return UNKNOWN
        if "__resource__" in value:
            return ResourceRef(urn=value["__resource__"], id=_decode_json(value.get("id")))
        return {k: _decode_json(v) for k, v in value.items()}
    return value
