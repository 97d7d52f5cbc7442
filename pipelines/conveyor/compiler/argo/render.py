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
    exports = [
        m.Parameter(name=n, value_from=m.ValueFrom(parameter=v)) for n, v in sorted(scope.exports.items())
    ]
    return m.Template(
        name=scope.template,
        inputs=m.Inputs(parameters=inputs) if inputs else None,
        outputs=m.Outputs(parameters=exports) if exports else None,
        parallelism=scope.parallelism,
        dag=m.DAGTemplate(tasks=[dag_task(n) for n in ordered(list(scope.nodes.values()))]),
    )


def dag_task(node: Node) -> m.DAGTask:
    params = [m.Parameter(name=k, value=v) for k, v in node.args.items()]
    sequence = None
    if node.with_sequence:
        start, count = node.with_sequence
        sequence = m.Sequence(start=m.IntOrString(str(start)), count=m.IntOrString(str(count)))
    return m.DAGTask(
        name=node.name,
        template=node.template,
        dependencies=sorted(node.deps) or None if not node.ignore_failure else None,
        depends=" && ".join(f"({d}.Succeeded || {d}.Failed || {d}.Errored || {d}.Skipped || {d}.Omitted)"
                            for d in sorted(node.deps)) or None if node.ignore_failure else None,
        when=node.when,
        arguments=m.Arguments(parameters=params) if params else None,
        with_items=[m.Item(v) for v in node.with_items] if node.with_items is not None else None,
        with_param=node.with_param,
        with_sequence=sequence,
    )
