"""Small lookups over compiled manifests, so assertions read like the mapping they check."""

from __future__ import annotations

from typing import Any


def templates(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    return {t["name"]: t for t in spec["templates"]}


def dag_tasks(manifest: dict[str, Any], template: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in templates(manifest)[template]["dag"]["tasks"]}


def args_of(task: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p.get("value") for p in task.get("arguments", {}).get("parameters", [])}


def container_templates(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: t for n, t in templates(manifest).items() if "container" in t}


def flag_values(container: dict[str, Any], flag: str) -> list[str]:
    args = container["args"]
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]
