"""kfp-kubernetes' `add_node_affinity` and `add_node_affinity_json`: where the task's pod may run.

On Argo, as kfp's driver builds it: every term without a `weight` is one of the pod's
`affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms` (a node
must match one of them), every term with a weight a `preferredDuringSchedulingIgnoredDuringExecution`
entry, and a JSON object's required terms and preferences are added to those. A later
`add_node_affinity_json` replaces the earlier JSON one, as in kfp. Locally: recorded and ignored.
The JSON object is the pod spec's camelCase `nodeAffinity`; a pipeline parameter in its place is
refused (Argo cannot substitute a parameter into the typed `affinity` field).
"""

from __future__ import annotations

from typing import Any

from conveyor.kubernetes import _error, _settings

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_REQUIRED, _PREFERRED = "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"


def _requirements(task: Any, items: Any, argument: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, (list, tuple)):
        raise _error(task, f"must be a list of {{key, operator, values}} dicts, got {items!r}", argument)
    out = []
    for item in items:
        if not isinstance(item, dict) or set(item) - {"key", "operator", "values"}:
            raise _error(task, f"each entry must be a dict with key, operator and values, got {item!r}", argument)
        key, operator, values = item.get("key"), item.get("operator"), item.get("values") or []
        if not isinstance(key, str) or not key:
            raise _error(task, f"each entry must have a non-empty 'key', got {item!r}", argument)
        if operator not in OPERATORS:
            raise _error(task, f"operator {operator!r} for key {key!r} is not one of {', '.join(OPERATORS)}", argument)
        if not isinstance(values, (list, tuple)):
            raise _error(task, f"'values' for key {key!r} must be a list, got {values!r}", argument)
        out.append({"key": key, "operator": operator, "values": [str(v) for v in values]})
    return out


def add_node_affinity(task: Any, match_expressions: list[dict] | None = None, match_fields: list[dict] | None = None,
                      weight: int | None = None) -> Any:
    term: dict[str, Any] = {"match_expressions": _requirements(task, match_expressions, "match_expressions"),
                            "match_fields": _requirements(task, match_fields, "match_fields")}
    if not term["match_expressions"] and not term["match_fields"]:
        raise _error(task, "give at least one match expression or match field", "match_expressions")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise _error(task, f"must be an int from 1 to 100, got {weight!r}", "weight")
        term["weight"] = weight
    _settings(task).setdefault("node_affinity", []).append(term)
    return task


def _selector_term(task: Any, term: Any, where: str) -> None:
    if not isinstance(term, dict) or set(term) - {"matchExpressions", "matchFields"}:
        raise _error(task, f"{where} must be a dict of matchExpressions/matchFields, got {term!r}", "node_affinity_json")
    for key in ("matchExpressions", "matchFields"):
        _requirements(task, term.get(key), "node_affinity_json")


def _check_json(task: Any, value: Any) -> dict[str, Any]:
    from conveyor.dsl.channels import PipelineChannel

    if isinstance(value, PipelineChannel):
        raise _error(task, "a pipeline parameter or task output is not supported here (Argo cannot substitute one "
                           "into the pod's affinity); pass the nodeAffinity dict itself", "node_affinity_json")
    if not isinstance(value, dict) or set(value) - {_REQUIRED, _PREFERRED}:  # {} is allowed: no constraint, as in kfp
        raise _error(task, f"must be a Kubernetes nodeAffinity dict with {_REQUIRED} and/or {_PREFERRED} "
                           f"(camelCase keys), got {value!r}", "node_affinity_json")
    required = value.get(_REQUIRED)
    if required is not None:
        if (not isinstance(required, dict) or set(required) != {"nodeSelectorTerms"}
                or not isinstance(required["nodeSelectorTerms"], list)):
            raise _error(task, f"{_REQUIRED} must be {{'nodeSelectorTerms': [...]}}, got {required!r}",
                         "node_affinity_json")
        for term in required["nodeSelectorTerms"]:
            _selector_term(task, term, "each nodeSelectorTerm")
    preferred = value.get(_PREFERRED)
    if preferred is not None:
        if not isinstance(preferred, list):
            raise _error(task, f"{_PREFERRED} must be a list, got {preferred!r}", "node_affinity_json")
        for entry in preferred:
            weight = entry.get("weight") if isinstance(entry, dict) else None
            if (not isinstance(entry, dict) or set(entry) != {"weight", "preference"} or isinstance(weight, bool)
                    or not isinstance(weight, int) or not 1 <= weight <= 100):
                raise _error(task, f"each preference must be {{'weight': 1-100, 'preference': {{...}}}}, got {entry!r}",
                             "node_affinity_json")
            _selector_term(task, entry["preference"], "each preference")
    return value


def add_node_affinity_json(task: Any, node_affinity_json: Any) -> Any:
    affinity = _check_json(task, node_affinity_json)
    terms = [t for t in _settings(task).get("node_affinity", []) if t.get("node_affinity_json") is None]
    _settings(task)["node_affinity"] = [*terms, {"node_affinity_json": affinity}]
    return task
