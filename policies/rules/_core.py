"""The small vocabulary every rule module shares: rule metadata, contexts and safe property access.

Why a separate core: the rule modules must stay pure (props in, messages out) so they can be unit
tested with plain dicts, yet the same functions run unchanged inside the real policy server, where
`props` is pulumi_policy's read-only unknown-checking proxy (a `Mapping`/`Sequence`, never a
`dict`/`list`). Everything here therefore reads through the abstract collection types only, and
never imports pulumi_policy: the adapter in `catalog.py` is the one place that knows the SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MANDATORY = "mandatory"
ADVISORY = "advisory"
SEVERITIES = ("low", "medium", "high", "critical")
LEVELS = (MANDATORY, ADVISORY, "disabled")

_MISSING = object()


def get(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Walk `path` through nested mappings/sequences; a missing step yields `default`.

    A present-but-unknown value is *not* swallowed: the proxy raises when it is read, which the
    policy server (and the offline runner) turn into a "can't be checked during preview" note
    instead of a false pass or a false violation.
    """
    cur = obj
    for step in path:
        if isinstance(step, int):
            if not is_seq(cur) or step >= len(cur) or step < -len(cur):
                return default
            cur = cur[step]
        else:
            if not isinstance(cur, Mapping) or step not in cur:
                return default
            cur = cur[step]
        if cur is None:
            return default
    return cur


def is_seq(value: Any) -> bool:
    """A JSON array: any Sequence except strings/bytes (the proxy's list type is a Sequence)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """Normalise "one or many" fields (IAM `Action`, `Resource`) to a list; None becomes []."""
    if value is None:
        return []
    if is_seq(value):
        return list(value)
    return [value]


def truthy(value: Any, default: bool) -> bool:
    """Read a boolean input whose absence means the provider's `default`.

    Strings are accepted because YAML-driven programs and Helm values often carry "true"/"false".
    """
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def parse_document(value: Any) -> Mapping[str, Any] | None:
    """An IAM/bucket policy arrives as a JSON string (the usual case) or an already-built mapping."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return doc if isinstance(doc, Mapping) else None
    return None


def statements(doc: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The statements of a policy document; a single statement object is allowed by IAM."""
    if not doc:
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def stack_of(urn: str) -> str:
    """The stack name from a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`).

    Rules that differ per environment read it here because the URN is the one piece of stack
    identity both the real policy server and the offline runner hand every validation.
    """
    parts = urn.split(":", 3)
    if len(parts) < 4 or parts[0] != "urn" or parts[1] != "pulumi":
        return ""
    return parts[2].split("::", 1)[0]


@dataclass(frozen=True)
class Context:
    """What a resource check may know besides the props: its identity and its merged config."""

    resource_type: str
    name: str
    urn: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stack(self) -> str:
        return stack_of(self.urn)

    def is_production(self) -> bool:
        """Production is decided by the stack name, matched against `productionStackPattern`."""
        pattern = self.config.get("productionStackPattern") or PRODUCTION_PATTERN_DEFAULT
        return re.search(str(pattern), self.stack) is not None


PRODUCTION_PATTERN_DEFAULT = r"^prod"
PRODUCTION_PATTERN_SCHEMA = {
    "type": "string",
    "default": PRODUCTION_PATTERN_DEFAULT,
    "description": "Regex matched against the stack name to decide whether the stack is production.",
}


@dataclass(frozen=True, eq=False)
class StackResource:
    """A plain view of one stack resource for stack checks (type, name, urn, props, links)."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def linked(
        self, key: str, candidates: Iterable[StackResource], match_keys: Sequence[str]
    ) -> list[StackResource]:
        """The candidates this resource points at through property `key`.

        Prefer the engine's dependency graph (known even during preview, when ids are unknown);
        fall back to comparing the property value with the candidates' identifying outputs, which
        is what the offline runner can always do because mocks make every id concrete.
        """
        pool = list(candidates)
        by_dep = self.property_dependencies.get(key) or ()
        if by_dep:
            linked = [c for c in pool if c.urn in by_dep]
            if linked:
                return linked
        try:
            value = get(self.props, key)
        except Exception as exc:
            # Unknown until `pulumi up` (an id not created yet): link through the dependency graph
            # instead. Matched by name so this pure module needs no pulumi_policy import.
            if type(exc).__name__ != "UnknownValueError":
                raise
            deps = [c for c in pool if c.urn in self.dependencies]
            if len(deps) == 1:
                return deps
            raise
        if value is None:
            return []
        found = []
        for cand in pool:
            idents = {cand.name} | {str(v) for k in match_keys if (v := get(cand.props, k)) is not None}
            if str(value) in idents:
                found.append(cand)
        if not found and self.dependencies:
            # Some programs pass the name through a transform we cannot compare (e.g. an ARN built
            # with apply); an explicit dependency on exactly one candidate still links them.
            deps = [c for c in pool if c.urn in self.dependencies]
            if len(deps) == 1:
                return deps
        return found


@dataclass(frozen=True)
class StackContext:
    """What a stack check may know besides the resources: the stack name and its merged config."""

    stack: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def is_production(self) -> bool:
        pattern = self.config.get("productionStackPattern") or PRODUCTION_PATTERN_DEFAULT
        return re.search(str(pattern), self.stack) is not None


ResourceCheck = Callable[[Mapping[str, Any], Context], Iterable[str]]
StackCheck = Callable[[Sequence[StackResource], StackContext], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """One policy: identity, documentation, enforcement and the pure check that implements it.

    `config` holds JSON-schema properties; each carries a `default` so a rule behaves sensibly
    with no pack config, and the same schema is published to the Pulumi service.
    """

    id: str
    description: str
    severity: str
    check: Callable[..., Iterable[Any]]
    types: tuple[str, ...] = ()
    level: str = MANDATORY
    stack: bool = False
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    remediation: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.id):
            raise ValueError(f"rule id {self.id!r}: use lower-case words joined by '-'")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.level not in LEVELS:
            raise ValueError(f"rule {self.id}: level {self.level!r} not in {LEVELS}")
        if not self.stack and not self.types:
            raise ValueError(f"rule {self.id}: a resource rule needs the resource types it checks")
        for key, spec in self.config.items():
            if "default" not in spec:
                raise ValueError(f"rule {self.id}: config key {key!r} needs a default")

    def defaults(self) -> dict[str, Any]:
        return {k: spec["default"] for k, spec in self.config.items()}

    def merged_config(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        merged = self.defaults()
        for key, value in (given or {}).items():
            if key != "enforcementLevel":
                merged[key] = value
        return merged


def resource_rule(registry: list[Rule], **meta: Any) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register the decorated pure function as a resource rule and return it unchanged."""

    def wrap(fn: ResourceCheck) -> ResourceCheck:
        registry.append(Rule(check=fn, **meta))
        return fn

    return wrap


def stack_rule(registry: list[Rule], **meta: Any) -> Callable[[StackCheck], StackCheck]:
    """Register the decorated pure function as a stack rule and return it unchanged."""

    def wrap(fn: StackCheck) -> StackCheck:
        registry.append(Rule(check=fn, stack=True, **meta))
        return fn

    return wrap
