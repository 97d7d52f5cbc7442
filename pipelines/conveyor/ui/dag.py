"""Lay out a run's DAG for server-rendered SVG: one node per task of the spec, one per ParallelFor.

Why per spec task and not per instance: a 1,000-item loop has 1,000 instances but one shape. The
outermost loop is one node with counts by status (so the graph stays the size of the pipeline,
however wide the fan-out); expanding it shows its member tasks, each still one node with counts.
Layout is layered by longest path (top to bottom), nodes in spec order within a layer: stable,
linear in the graph size, and readable for the DAG sizes pipelines have.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from conveyor.ir.graph import dependencies, enclosing_loops, topological_order
from conveyor.ir.spec import PipelineSpec
from conveyor.stores.metadata.browse import TaskSummary

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 180, 46, 24, 44, 12
# The colour a node takes: the most urgent status among its instances.
STATUS_ORDER = ("failed", "running", "pending", "skipped", "succeeded", "cached")


@dataclass
class Node:
    id: str
    label: str
    kind: str  # "task" | "loop"
    counts: dict[str, int]
    status: str
    instance: str | None = None  # the one task instance id, for a plain task that ran
    members: list[str] = field(default_factory=list)  # spec tasks a loop node stands for
    x: int = 0
    y: int = 0
    w: int = NODE_W
    h: int = NODE_H


@dataclass
class Edge:
    src: str
    dst: str
    path: str = ""


@dataclass
class Dag:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def dominant(counts: dict[str, int]) -> str:
    return next((s for s in STATUS_ORDER if counts.get(s)), "pending")


def _node_of(spec: PipelineSpec, task: str, expanded: set[str]) -> str:
    loops = enclosing_loops(spec, task)
    if loops and loops[-1] not in expanded:  # outermost loop, collapsed
        return "loop:" + loops[-1]
    return "task:" + task


def build_dag(spec: PipelineSpec, tasks: list[TaskSummary], expanded: set[str] | None = None) -> Dag:
    expanded = expanded or set()
    by_name: dict[str, Counter] = {}
    single: dict[str, str] = {}
    for t in tasks:
        by_name.setdefault(t.task_name, Counter())[t.status] += 1
        single[t.task_name] = t.task_id
    order = topological_order(spec)
    nodes: dict[str, Node] = {}
    for name in order:
        nid = _node_of(spec, name, expanded)
        counts = by_name.get(name, Counter())
        if nid not in nodes:
            kind = "loop" if nid.startswith("loop:") else "task"
            label = nid[5:] if kind == "loop" else (spec.tasks[name].display_name or name)
            nodes[nid] = Node(nid, label, kind, {}, "pending")
        node = nodes[nid]
        node.members.append(name)
        for status, n in counts.items():
            node.counts[status] = node.counts.get(status, 0) + n
    for node in nodes.values():
        node.status = dominant(node.counts)
        looped = any(enclosing_loops(spec, m) for m in node.members)
        if node.kind == "task" and not looped and node.members[0] in single:
            node.instance = single[node.members[0]]
    edges: dict[tuple[str, str], Edge] = {}
    for name in order:
        dst = _node_of(spec, name, expanded)
        for dep in dependencies(spec, name):
            src = _node_of(spec, dep, expanded) if dep in spec.tasks else None
            if src and src != dst:
                edges.setdefault((src, dst), Edge(src, dst))
    _layout(list(nodes.values()), list(edges.values()))
    width = max((n.x + n.w for n in nodes.values()), default=0) + MARGIN
    height = max((n.y + n.h for n in nodes.values()), default=0) + MARGIN
    return Dag(list(nodes.values()), list(edges.values()), width, height)


def _layout(nodes: list[Node], edges: list[Edge]) -> None:
    """Longest-path layers; `nodes` are already in topological order, so one pass suffices."""
    parents: dict[str, list[str]] = {}
    for e in edges:
        parents.setdefault(e.dst, []).append(e.src)
    layer: dict[str, int] = {}
    for n in nodes:  # a collapsed loop may come before a member's dependency: iterate to a fixpoint
        layer[n.id] = 0
    changed = True
    while changed:
        changed = False
        for n in nodes:
            best = max((layer[p] + 1 for p in parents.get(n.id, ())), default=0)
            if best > layer[n.id] and best < len(nodes):
                layer[n.id], changed = best, True
    rows: dict[int, list[Node]] = {}
    for n in nodes:
        rows.setdefault(layer[n.id], []).append(n)
    where = {}
    for depth, row in rows.items():
        for i, n in enumerate(row):
            n.x, n.y = MARGIN + i * (NODE_W + GAP_X), MARGIN + depth * (NODE_H + GAP_Y)
            where[n.id] = n
    for e in edges:
        a, b = where[e.src], where[e.dst]
        x1, y1, x2, y2 = a.x + a.w // 2, a.y + a.h, b.x + b.w // 2, b.y
        mid = (y1 + y2) // 2
        e.path = f"M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}"
