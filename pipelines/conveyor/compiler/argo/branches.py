"""Argo expression tags that pick a value by how upstream nodes ended (``dsl.OneOf``, ignore_upstream_failure).

A plain ``{{tasks.X.outputs.parameters.P}}`` cannot express either feature on Argo v4.0.5:

* a *skipped* or *omitted* ancestor's declared outputs resolve to ``""`` (docs/variables.md;
  ``buildLocalScopeFromTask`` in workflow/controller/dag.go), so a plain reference would hand the
  consumer an empty string instead of the branch that ran;
* a *failed* ancestor has no outputs at all, and the controller resolves ``tasks.*`` strictly
  (``template.ReplaceStrict``): a missing one requeues the task for ever instead of failing it.

So every read here is an expression tag ``{{=...}}`` that tests ``tasks['N'].status`` and reads
outputs through expr's nil-safe ``get()``: the strict check sees only the member path
``tasks.N``, which exists for every ancestor node, whatever state it ended in. Which nodes a
consumer may name this way is decided in :mod:`scopes` (they must be its DAG's ancestors).
"""

from __future__ import annotations

import json

from conveyor.compiler.argo.naming import param_name

SUCCEEDED = "Succeeded"


def quote(text: str) -> str:
    """``text`` as an expr string literal. Braces are escaped so no ``}}`` ends the tag early."""
    return json.dumps(text, ensure_ascii=False).replace("{", "\\u007b").replace("}", "\\u007d")


def tag(expression: str) -> str:
    return "{{=" + expression + "}}"


def succeeded(node: str) -> str:
    """True when DAG node ``node`` (a task, or a group's node) ended Succeeded."""
    return f"tasks[{quote(node)}].status == {quote(SUCCEEDED)}"


def output_of(node: str, param: str) -> str:
    """Node ``node``'s output parameter, or nil when it has none (skipped, failed, never ran)."""
    return f"get(get(get(tasks[{quote(node)}], 'outputs'), 'parameters'), {quote(param)})"


def status_export(task: str) -> str:
    """The output parameter a branch DAG exports with ``task``'s phase (``--``: no output name has it)."""
    return param_name(f"{task}--status")


def fallback(ok: str, value: str) -> str:
    """``value`` when ``ok`` holds, else ``""`` (the expression must never yield nil: Argo would fail
    the node on a nil result)."""
    return f"({ok}) ? {value} : ''"


def first_ran(picks: list[tuple[str, str]]) -> str:
    """The value of the first ``(ran, value)`` pick whose branch ran, ``""`` when none did."""
    expression = "''"
    for ran, value in reversed(picks):
        expression = f"({ran}) ? {value} : ({expression})"
    return expression


def any_ran(picks: list[tuple[str, str]]) -> str:
    return " || ".join(f"({ran})" for ran, _ in picks) or "false"
