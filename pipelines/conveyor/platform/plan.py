"""`conveyor plan`: what `pulumi up` would create for a stack, computed offline in seconds.

Why: reviewers of a stack-config or component change need to see the resource tree without cloud
credentials or the Pulumi CLI. The program runs under the recording mocks; this module turns the
recording into a tree (type, name, parent, a few key inputs) and a count by type. Secrets are
printed as `[secret]`, never their values.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from conveyor.platform.mocks import (
    UNKNOWN,
    RecordedProgram,
    RecordedResource,
    ResourceRef,
    Secret,
    run_program,
)

# Inputs worth showing per resource, in display order (dotted paths into the inputs).
KEY_INPUTS = (
    "metadata.namespace",
    "metadata.name",
    "kind",
    "chart",
    "version",
    "namespace",
    "name",
    "bucket",
    "bucketPrefix",
    "engine",
    "engineVersion",
    "instanceClass",
    "multiAz",
    "backupRetentionPeriod",
    "databaseVersion",
    "settings.tier",
    "settings.availabilityType",
    "location",
    "region",
    "cidrBlock",
    "instanceTypes",
    "nodeConfig.machineType",
    "nodeConfig.spot",
    "autoscaling.totalMaxNodeCount",
    "spec.template.metadata.labels",
    "role",
)
MAX_KEYS = 5


def _get(inputs: dict[str, Any], path: str) -> Any:
    cur: Any = inputs
    for part in path.split("."):
        if isinstance(cur, Secret):
            return cur
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def redact(value: Any) -> Any:
    """JSON-safe copy with secrets replaced by `[secret]` and unknowns by `[unknown]`."""
    if isinstance(value, Secret):
        return "[secret]"
    if value is UNKNOWN:
        return "[unknown]"
    if isinstance(value, ResourceRef):
        return value.urn
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    return value


def key_inputs(resource: RecordedResource) -> dict[str, Any]:
    """The few inputs a reviewer needs to recognise a resource."""
    out: dict[str, Any] = {}
    for path in KEY_INPUTS:
        value = _get(resource.inputs, path)
        if value is None or value == "" or value == [] or value == {}:
            continue
        out[path] = redact(value)
        if len(out) >= MAX_KEYS:
            break
    return out


def summarize(recorded: RecordedProgram) -> dict[str, Any]:
    """Machine-readable plan: resources (with parent URNs), counts by type, output names."""
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent if r.parent != recorded.stack_urn else None,
            "protect": r.options.get("protect", False),
            "key_inputs": key_inputs(r),
        }
        for r in recorded.resources
    ]
    counts = Counter(r.type for r in recorded.resources)
    return {
        "project": recorded.project,
        "stack": recorded.stack,
        "total": len(resources),
        "counts": dict(sorted(counts.items())),
        "resources": resources,
        "outputs": redact(recorded.outputs),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def render(summary: dict[str, Any]) -> str:
    """Human-readable tree plus the count by type."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for r in summary["resources"]:
        children.setdefault(r["parent"], []).append(r)
    lines = [
        f"Plan for stack {summary['stack']} (project {summary['project']}): {summary['total']} resources",
        "",
    ]

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            lock = " [protected]" if r["protect"] else ""
            keys = " ".join(f"{k}={_fmt(v)}" for k, v in r["key_inputs"].items())
            lines.append(f"{'  ' * depth}+ {r['type']}  {r['name']}{lock}" + (f"  ({keys})" if keys else ""))
            walk(r["urn"], depth + 1)

    walk(None, 0)
    lines += ["", "Resources by type:"]
    width = max((len(t) for t in summary["counts"]), default=0)
    lines += [f"  {t.ljust(width)}  {n}" for t, n in summary["counts"].items()]
    lines += ["", f"Outputs: {', '.join(sorted(summary['outputs']))}"]
    return "\n".join(lines)


def plan(stack: str, program_dir: Path = Path("."), as_json: bool = False) -> str | dict[str, Any]:
    """Run `program_dir` for `stack` under recording mocks; return the tree text, or a dict if `as_json`."""
    summary = summarize(run_program(program_dir, stack))
    return summary if as_json else render(summary)
