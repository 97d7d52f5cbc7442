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
    nodes = list(scope.nodes.values())
    guarded = {n.name for n in nodes if n.guarded}
    depends = any(n.ignore_failure and n.deps or n.deps & guarded for n in nodes)
    exports = [
        m.Parameter(name=n, value_from=m.ValueFrom(parameter=None if n in scope.expressions else v,
                                                   expression=v if n in scope.expressions else None,
                                                   default=scope.defaults.get(n)))
        for n, v in sorted(scope.exports.items())
    ]
    inputs = [m.Parameter(name=n) for n in sorted(scope.inputs)]
    return m.Template(
        name=scope.template,
        inputs=m.Inputs(parameters=inputs) if inputs else None,
        outputs=m.Outputs(parameters=exports) if exports else None,
        parallelism=scope.parallelism,
        dag=m.DAGTemplate(tasks=[dag_task(n, guarded if depends else None) for n in ordered(nodes)],
                          target=failure_targets(nodes)),
    )


def failure_targets(nodes: list[Node]) -> str | None:
    """The DAG's ``target`` when an ignore_upstream_failure task sits in it, else None (Argo's default).

    Argo judges a DAG by its target tasks, by default its leaves (controller/dag.go assessDAGPhase): a
    failed task whose dependent ran anyway (``depends: x.Failed``) no longer counts, so the run would end
    *Succeeded*. kfp fails that run, and so does the local executor. Naming the ignoring tasks' upstreams as
    targets too keeps their failure (or that of an omitted branch above them) in the verdict; the set of
    tasks that run is the same, since every one is a target or an ancestor of one."""
    ignoring = [n for n in nodes if n.ignore_failure and n.deps]
    if not ignoring:
        return None
    depended = set().union(*(n.deps for n in nodes))
    wanted = {n.name for n in nodes if n.name not in depended}.union(*(n.deps for n in ignoring))
    return " ".join(n.name for n in ordered(nodes) if n.name in wanted)


# Argo's own reading of ``dependencies: [d]`` (workflow/common/ancestry.go expandDependency)
_AS_DEPENDENCY = ("Succeeded", "Skipped", "Daemoned")
_RAN = ("Succeeded", "Daemoned")  # after a guarded task: its skip propagates (Omitted), as locally
_ANY_END = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted")


def depends_text(node: Node, guarded: set[str]) -> str | None:
    def states(dep: str) -> tuple[str, ...]:
        return _ANY_END if node.ignore_failure else _RAN if dep in guarded else _AS_DEPENDENCY

    return " && ".join("(" + " || ".join(f"{d}.{s}" for s in states(d)) + ")" for d in sorted(node.deps)) or None


def dag_task(node: Node, guarded: set[str] | None = None) -> m.DAGTask:
    """One DAG task. ``guarded`` (not None) makes every task of the template state its edges as ``depends``
    (Argo refuses a DAG mixing it with ``dependencies``): needed when an ignore_upstream_failure task runs
    after any end, or when a task depends on one a OneOf guard may skip (``dependencies`` would treat that
    skip as done and run it with empty values; locally it is skipped)."""
    params = [m.Parameter(name=k, value=v) for k, v in node.args.items()]
    sequence = None
    if node.with_sequence:
        start, count = node.with_sequence
        sequence = m.Sequence(start=m.IntOrString(str(start)), count=m.IntOrString(str(count)))
    return m.DAGTask(
        name=node.name,
        template=node.template,
        dependencies=sorted(node.deps) or None if guarded is None else None,
        depends=depends_text(node, guarded) if guarded is not None else None,
        when=node.when,
        arguments=m.Arguments(parameters=params) if params else None,
        with_items=[m.Item(v) for v in node.with_items] if node.with_items is not None else None,
        with_param=node.with_param,
        with_sequence=sequence,
    )
