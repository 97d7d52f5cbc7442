"""Graph queries over a PipelineSpec shared by validation and executors.

Kept apart from the models so the spec stays pure data and the executor and
the Argo compiler ask the same questions the same way.
"""

from __future__ import annotations

from conveyor.ir.kubernetes import name_args
from conveyor.ir.spec import ConditionGroup, ExitHandlerGroup, ParallelForGroup, PipelineSpec
from conveyor.ir.values import Collected, Concat, OneOf, TaskOutput, condition_args


def group_chain(spec: PipelineSpec, group_id: str | None) -> list[str]:
    """The group and its ancestors, innermost first."""
    chain: list[str] = []
    seen: set[str] = set()
    while group_id is not None:
        if group_id in seen or group_id not in spec.groups:
            break
        seen.add(group_id)
        chain.append(group_id)
        group_id = spec.groups[group_id].parent
    return chain


def task_groups(spec: PipelineSpec, task: str) -> list[str]:
    """Every group enclosing `task`, innermost first."""
    return group_chain(spec, spec.tasks[task].group)


def enclosing_loops(spec: PipelineSpec, task: str) -> list[str]:
    """ParallelFor groups enclosing `task`, innermost first."""
    return [g for g in task_groups(spec, task) if isinstance(spec.groups[g], ParallelForGroup)]


def referenced_tasks(arg: object) -> list[str]:
    """The upstream tasks an argument reads (a formatted string or a OneOf reads several)."""
    if isinstance(arg, TaskOutput | Collected):
        return [arg.task]
    if isinstance(arg, Concat):
        return [t for part in arg.parts for t in referenced_tasks(part)]
    if isinstance(arg, OneOf):
        return [item.task for item in arg.items]
    return []


def group_args(spec: PipelineSpec, group_id: str) -> list[object]:
    """Arguments a group itself reads: loop items or condition operands."""
    group = spec.groups[group_id]
    if isinstance(group, ParallelForGroup):
        return [group.items]
    if isinstance(group, ConditionGroup):
        return condition_args(group.condition)
    return []


def data_dependencies(spec: PipelineSpec, task: str) -> set[str]:
    """Tasks whose outputs `task` reads, directly or through its groups' items and conditions."""
    args: list[object] = list(spec.tasks[task].arguments.values())
    args.extend(name_args(spec.tasks[task].kubernetes).values())  # CreatePVC's output, a secret's name
    args.extend(spec.tasks[task].resource_args.values())  # set_cpu_limit(task.output) and the like
    for group_id in task_groups(spec, task):
        args.extend(group_args(spec, group_id))
    return {name for arg in args for name in referenced_tasks(arg)}


def exit_handler_members(spec: PipelineSpec, group_id: str) -> list[str]:
    """Tasks inside an exit handler group (at any depth)."""
    return [name for name in spec.tasks if group_id in task_groups(spec, name)]


def exit_groups_of(spec: PipelineSpec, task: str) -> list[str]:
    """Exit handler groups whose exit task is `task` (or one of them, for an exit pipeline)."""
    return [g.id for g in spec.groups.values() if isinstance(g, ExitHandlerGroup) and task in g.exit_tasks]


def all_exit_tasks(spec: PipelineSpec) -> list[str]:
    """Every exit task of every ExitHandler, in group order."""
    return [t for g in spec.groups.values() if isinstance(g, ExitHandlerGroup) for t in g.exit_tasks]


def dependencies(spec: PipelineSpec, task: str) -> set[str]:
    """Every task that must finish before `task` starts: data, `.after()`, and for an exit
    task every member of its exit handler."""
    deps = data_dependencies(spec, task) | set(spec.tasks[task].after)
    for group_id in exit_groups_of(spec, task):
        deps.update(exit_handler_members(spec, group_id))
    deps.discard(task)
    return deps


def find_cycle(spec: PipelineSpec) -> list[str] | None:
    """A dependency cycle as a path `[a, b, ..., a]`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(dependencies(spec, name)):
            if dep not in spec.tasks:
                continue
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(spec.tasks):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def topological_order(spec: PipelineSpec) -> list[str]:
    """Tasks with dependencies first (ties by name, so the order is stable). Raises ValueError on a cycle."""
    cycle = find_cycle(spec)
    if cycle:
        raise ValueError(f"dependency cycle: {' -> '.join(cycle)}")
    deps = {name: dependencies(spec, name) & set(spec.tasks) for name in spec.tasks}
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = sorted(n for n in deps if n not in done and deps[n] <= done)
        order.extend(ready)
        done.update(ready)
    return order
