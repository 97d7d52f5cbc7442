"""Intermediate DAG scopes -> Hera ``Template``/``DAGTask`` models.

Kept apart from the driver so the mapping decisions (workflow.py, scopes.py)
read without the model plumbing, and so node order is decided in one place:
dependencies first, which makes the golden YAML read top-down.
"""

from __future__ import annotations

import hera.workflows.models as m

from conveyor.compiler.argo.scopes import Node, Scope


def ordered(nodes: list[Node]) -> list[Node]:
    """Nodes with their dependencies first (stable otherwise)."""
    done: set[str] = set()
    out: list[Node] = []
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if n.deps <= done] or pending[:1]
        for node in ready:
            out.append(node)
            done.add(node.name)
        pending = [n for n in pending if n.name not in done]
    return out


def dag_template(scope: Scope) -> m.Template:
    inputs = [m.Parameter(name=n) for n in sorted(scope.inputs)]
    depends = any(n.ignore_failure and n.deps for n in scope.nodes.values())
    exports = [
        m.Parameter(name=n, value_from=m.ValueFrom(parameter=None if n in scope.expressions else v,
                                                   expression=v if n in scope.expressions else None,
                                                   default=scope.defaults.get(n)))
        for n, v in sorted(scope.exports.items())
    ]
    return m.Template(
        name=scope.template,
        inputs=m.Inputs(parameters=inputs) if inputs else None,
        outputs=m.Outputs(parameters=exports) if exports else None,
        parallelism=scope.parallelism,
        dag=m.DAGTemplate(tasks=[dag_task(n, depends) for n in ordered(list(scope.nodes.values()))]),
    )


# Argo's own reading of ``dependencies: [d]`` (workflow/common/ancestry.go expandDependency)
_AS_DEPENDENCY = ("Succeeded", "Skipped", "Daemoned")
_ANY_END = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")


def depends_text(deps: set[str], states: tuple[str, ...]) -> str | None:
    return " && ".join("(" + " || ".join(f"{d}.{s}" for s in states) + ")" for d in sorted(deps)) or None


def dag_task(node: Node, depends: bool = False) -> m.DAGTask:
    """One DAG task. ``depends``: the template has an ignore_upstream_failure task, and Argo refuses a DAG
    mixing ``depends`` with ``dependencies``, so every task states its edges as ``depends``."""
    params = [m.Parameter(name=k, value=v) for k, v in node.args.items()]
    sequence = None
    if node.with_sequence:
        start, count = node.with_sequence
        sequence = m.Sequence(start=m.IntOrString(str(start)), count=m.IntOrString(str(count)))
    return m.DAGTask(
        name=node.name,
        template=node.template,
        dependencies=None if depends else sorted(node.deps) or None,
        depends=depends_text(node.deps, _ANY_END if node.ignore_failure else _AS_DEPENDENCY) if depends else None,
        when=node.when,
        arguments=m.Arguments(parameters=params) if params else None,
        with_items=[m.Item(v) for v in node.with_items] if node.with_items is not None else None,
        with_param=node.with_param,
        with_sequence=sequence,
    )
