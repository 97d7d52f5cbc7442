"""Structural checks of a PipelineSpec, run before anything executes.

The DSL calls `validate` at build time; executors and the Argo compiler may
call it again on IR loaded from JSON. Every error names the pipeline, the
task and the argument, and says what is allowed.
"""

from __future__ import annotations

from conveyor.ir.errors import PipelineDefinitionError
from conveyor.ir.graph import enclosing_loops, find_cycle, group_chain, task_groups
from conveyor.ir.spec import (
    ConditionGroup,
    ExitHandlerGroup,
    InputSpec,
    OutputSpec,
    ParallelForGroup,
    PipelineSpec,
)
from conveyor.ir.types import value_matches
from conveyor.ir.values import (
    Collected,
    Concat,
    Constant,
    LoopItem,
    OneOf,
    PipelineParam,
    TaskFinalStatus,
    TaskOutput,
    condition_args,
)
from conveyor.ir.workspace import component_uses, mentions


def validate(spec: PipelineSpec) -> PipelineSpec:
    """Raise PipelineDefinitionError for the first problem found; return the spec unchanged if sound."""
    _Validator(spec).run()
    return spec


def _types_compatible(produced: str, expected: str) -> bool:
    # kfp: the generic Artifact matches every artifact class, on either side (an Artifact output feeds
    # an Input[Dataset] as well as a Dataset output feeds an Input[Artifact]).
    return produced == expected or (produced, expected) == ("int", "float") or "Artifact" in (produced, expected)


class _Validator:
    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec

    def fail(self, message: str, task: str | None = None, argument: str | None = None) -> None:
        raise PipelineDefinitionError(message, pipeline=self.spec.name, task=task, argument=argument)

    def run(self) -> None:
        self.check_groups()
        for name, task in self.spec.tasks.items():
            self.check_task(name, task)
        self.check_outputs()
        self.check_workspace()
        cycle = find_cycle(self.spec)
        if cycle:
            self.fail(f"dependency cycle: {' -> '.join(cycle)}", task=cycle[0])

    def check_workspace(self) -> None:
        """A task that reads dsl.WORKSPACE_PATH_PLACEHOLDER needs a workspace: refused here, as kfp's
        compiler refuses ``download_to_workspace`` without one, rather than failing in the run."""
        if self.spec.workspace is not None:
            return
        for name, task in self.spec.tasks.items():
            arg = next((a for a, v in task.arguments.items() if mentions(v.model_dump(mode="json"))), None)
            why = component_uses(self.spec.component_of(name)) if arg is None else f"input {arg!r} holds dsl.WORKSPACE_PATH_PLACEHOLDER"
            if why:
                self.fail(f"{why}, but the pipeline has no workspace; add pipeline_config=dsl.PipelineConfig("
                          "workspace=dsl.WorkspaceConfig(size='1Gi')) to @dsl.pipeline", task=name, argument=arg)

    # groups ---------------------------------------------------------------
    def check_groups(self) -> None:
        spec = self.spec
        for gid, group in spec.groups.items():
            if gid != group.id:
                self.fail(f"group key {gid!r} differs from its id {group.id!r}")
            if group.parent is not None and group.parent not in spec.groups:
                self.fail(
                    f"group {gid!r} has unknown parent {group.parent!r}; known groups: {sorted(spec.groups)}"
                )
            if gid in group_chain(spec, group.parent):
                self.fail(f"group {gid!r} is its own ancestor")
            if isinstance(group, ParallelForGroup):
                if group.parallelism is not None and group.parallelism < 1:
                    self.fail(f"ParallelFor {gid!r}: parallelism must be >= 1, got {group.parallelism}")
                if isinstance(group.items, Constant) and not isinstance(group.items.value, list):
                    self.fail(f"ParallelFor {gid!r}: items must be a list, got {group.items.value!r}")
                self.check_group_arg(gid, group.items, scope=group.parent)
            elif isinstance(group, ConditionGroup):
                for arg in condition_args(group.condition):
                    self.check_group_arg(gid, arg, scope=gid)
            elif isinstance(group, ExitHandlerGroup):
                for name in group.exit_tasks:
                    exit_task = spec.tasks.get(name)
                    if exit_task is None:
                        self.fail(f"ExitHandler {gid!r}: exit task {name!r} does not exist")
                    if gid in group_chain(spec, exit_task.group):
                        self.fail(f"ExitHandler {gid!r}: the exit task must be outside the group", task=name)

    def check_group_arg(self, gid: str, arg: object, scope: str | None) -> None:
        where = f"group {gid!r}"
        if isinstance(arg, Collected | TaskFinalStatus):
            self.fail(f"{where}: {arg.kind} cannot drive a loop or condition")
        if isinstance(arg, PipelineParam) and self.spec.input(arg.name) is None:
            self.fail(f"{where} reads unknown pipeline parameter {arg.name!r}; known: {self.input_names()}")
        if isinstance(arg, LoopItem) and arg.loop_id not in group_chain(self.spec, scope):
            self.fail(f"{where} reads the item of loop {arg.loop_id!r}, which does not enclose it")
        if isinstance(arg, TaskOutput):
            output = self.producer_output(arg, task=None, argument=where)
            if output.kind != "parameter":
                self.fail(
                    f"{where} reads artifact output {arg.task}.{arg.output}; only parameters are allowed"
                )
            producer_groups = task_groups(self.spec, arg.task)
            if gid in producer_groups:
                self.fail(f"{where} depends on task {arg.task!r} inside itself")
            self.check_reachable(arg.task, group_chain(self.spec, scope), None, where)

    # tasks ----------------------------------------------------------------
    def check_task(self, name: str, task) -> None:
        spec = self.spec
        if name != task.name:
            self.fail(f"task key {name!r} differs from its name {task.name!r}", task=name)
        component = spec.components.get(task.component)
        if component is None:
            self.fail(f"unknown component {task.component!r}; known: {sorted(spec.components)}", task=name)
        if task.group is not None and task.group not in spec.groups:
            self.fail(f"unknown group {task.group!r}; known: {sorted(spec.groups)}", task=name)
        for upstream in task.after:
            if upstream not in spec.tasks:
                self.fail(f".after() names unknown task {upstream!r}", task=name)
        known = {i.name: i for i in component.inputs}
        for arg_name, arg in task.arguments.items():
            if arg_name not in known:
                self.fail(
                    f"unknown argument; component {component.name!r} takes {sorted(known)}", name, arg_name
                )
            self.check_argument(name, known[arg_name], arg)
        for spec_input in component.inputs:
            if spec_input.required and spec_input.name not in task.arguments:
                self.fail(f"missing required argument of type {spec_input.type}", name, spec_input.name)

    def check_argument(self, task: str, target: InputSpec, arg: object) -> None:
        arg_name = target.name
        if target.style == "final_status" or isinstance(arg, TaskFinalStatus):
            if not (target.style == "final_status" and isinstance(arg, TaskFinalStatus)):
                self.fail(
                    "PipelineTaskFinalStatus is only passed to a PipelineTaskFinalStatus input",
                    task,
                    arg_name,
                )
            if not any(
                isinstance(g, ExitHandlerGroup) and task in g.exit_tasks for g in self.spec.groups.values()
            ):
                self.fail(
                    "PipelineTaskFinalStatus is only available to an ExitHandler's exit task", task, arg_name
                )
            return
        if isinstance(arg, Constant):
            if target.kind == "artifact":
                self.fail(
                    f"a constant {arg.value!r} was passed where artifact {target.type} is expected",
                    task,
                    arg_name,
                )
            if arg.value is None and (target.optional or target.has_default):
                return
            if not value_matches(target.type, arg.value):
                self.fail(
                    f"expected {target.type}, got {type(arg.value).__name__} {arg.value!r}", task, arg_name
                )
        elif isinstance(arg, PipelineParam):
            source = self.spec.input(arg.name)
            if source is None:
                self.fail(
                    f"unknown pipeline parameter {arg.name!r}; known: {self.input_names()}", task, arg_name
                )
            self.check_kinds(task, target, source.kind, source.type, f"pipeline parameter {arg.name!r}")
        elif isinstance(arg, LoopItem):
            group = self.spec.groups.get(arg.loop_id)
            if not isinstance(group, ParallelForGroup):
                self.fail(f"loop item of unknown loop {arg.loop_id!r}", task, arg_name)
            if arg.loop_id not in task_groups(self.spec, task):
                self.fail(f"loop item of {arg.loop_id!r} used outside that ParallelFor", task, arg_name)
            if target.kind == "artifact":
                self.fail(f"a loop item was passed where artifact {target.type} is expected", task, arg_name)
        elif isinstance(arg, TaskOutput):
            output = self.producer_output(arg, task, arg_name)
            self.check_kinds(task, target, output.kind, output.type, f"output {arg.task}.{arg.output}")
            self.check_reachable(arg.task, task_groups(self.spec, task), task, arg_name)
        elif isinstance(arg, Collected):
            self.check_collected(task, target, arg)
        elif isinstance(arg, Concat):
            self.check_concat(task, target, arg)
        elif isinstance(arg, OneOf):
            self.check_one_of(task, target, arg)

    def check_concat(self, task: str, target: InputSpec, arg: Concat) -> None:
        if target.kind != "parameter" or target.type != "str":
            self.fail(f"a formatted string is a str, but the input expects {target.kind} {target.type}",
                      task, target.name)
        for part in arg.parts:
            if isinstance(part, Constant):
                continue
            if isinstance(part, TaskOutput):
                produced = self.producer_output(part, task, target.name)
                kind, type_name = produced.kind, produced.type
            elif isinstance(part, PipelineParam):
                source = self.spec.input(part.name)
                kind, type_name = (source.kind, source.type) if source else ("parameter", "str")
            else:
                kind, type_name = "parameter", "str"
            if kind == "artifact":
                self.fail(f"an artifact ({type_name}) cannot be formatted into a string; pass it to an "
                          "Input[...] and read .uri or .path in the component", task, target.name)
            self.check_argument(task, InputSpec(name=target.name, kind="parameter", type=type_name), part)

    def check_one_of(self, task: str, target: InputSpec, arg: OneOf) -> None:
        if len(arg.items) < 2:
            self.fail("dsl.OneOf(...) takes the outputs of two or more branches of one dsl.If/Elif/Else "
                      "chain", task, target.name)
        consumer = task_groups(self.spec, task)
        for item in arg.items:
            output = self.producer_output(item, task, target.name)
            self.check_kinds(task, target, output.kind, output.type, f"output {item.task}.{item.output}")
            branch = [g for g in task_groups(self.spec, item.task)
                      if g not in consumer and isinstance(self.spec.groups[g], ConditionGroup)]
            if not branch:
                self.fail(f"dsl.OneOf(...): task {item.task!r} does not run inside a dsl.If/Elif/Else branch "
                          "that leaves out this task; OneOf picks the output of the branch that ran",
                          task, target.name)
            self.check_reachable(item.task, consumer, task, target.name, collected=set(branch))

    def check_collected(self, task: str, target: InputSpec, arg: Collected) -> None:
        output = self.producer_output(arg, task, target.name)
        consumer_groups = task_groups(self.spec, task)
        fan_in = [loop for loop in enclosing_loops(self.spec, arg.task) if loop not in consumer_groups]
        if not fan_in:
            self.fail(
                f"Collected({arg.task}.{arg.output}) needs a producer inside a ParallelFor that "
                "does not enclose the consumer",
                task,
                target.name,
            )
        if output.kind == "artifact":
            if target.kind != "artifact" or not target.is_list:
                self.fail(
                    f"Collected artifacts of {arg.task}.{arg.output} need an Input[List[{output.type}]] "
                    f"input, got {target.kind} {target.type}",
                    task,
                    target.name,
                )
        elif target.kind != "parameter" or target.type != "list":
            self.fail(
                f"Collected parameters of {arg.task}.{arg.output} need a list input, got "
                f"{target.kind} {target.type}",
                task,
                target.name,
            )
        self.check_reachable(arg.task, consumer_groups, task, target.name, collected=set(fan_in), fan_in=True)

    # helpers ---------------------------------------------------------------
    def producer_output(
        self, arg: TaskOutput | Collected, task: str | None, argument: str | None
    ) -> OutputSpec:
        producer = self.spec.tasks.get(arg.task)
        if producer is None:
            self.fail(f"reads an output of unknown task {arg.task!r}", task, argument)
        component = self.spec.components[producer.component]
        output = component.output(arg.output)
        if output is None:
            names = [o.name for o in component.outputs]
            self.fail(f"task {arg.task!r} has no output {arg.output!r}; its outputs: {names}", task, argument)
        return output

    def check_kinds(self, task: str, target: InputSpec, kind: str, type_name: str, what: str) -> None:
        if kind != target.kind:
            self.fail(
                f"{what} is {'an' if kind == 'artifact' else 'a'} {kind} ({type_name}) but the input "
                f"expects {'an' if target.kind == 'artifact' else 'a'} {target.kind} ({target.type})",
                task,
                target.name,
            )
        if target.is_list:
            self.fail(
                f"{what} is a single {type_name}; a list input needs dsl.Collected(...)", task, target.name
            )
        if not _types_compatible(type_name, target.type):
            self.fail(f"{what} has type {type_name} but the input expects {target.type}", task, target.name)

    def check_reachable(
        self,
        producer: str,
        consumer_groups: list[str],
        task: str | None,
        argument: str | None,
        collected: set[str] | None = None,
        fan_in: bool = False,
    ) -> None:
        """A producer inside a loop or condition is only visible inside that same group."""
        for gid in task_groups(self.spec, producer):
            if gid in consumer_groups or gid in (collected or set()):
                continue
            group = self.spec.groups[gid]
            if fan_in and isinstance(group, ConditionGroup):
                self.fail(
                    f"dsl.Collected({producer}...) of a task inside condition {gid!r} inside the loop is not "
                    "supported: kfp collects only the iterations where the condition held, and conveyor cannot "
                    "leave skipped iterations out of Argo's loop outputs yet. Move the test into the component "
                    "(return None for the items to leave out) and filter the collected list in the consumer",
                    task,
                    argument,
                )
            if isinstance(group, ParallelForGroup):
                self.fail(
                    f"task {producer!r} runs inside ParallelFor {gid!r}; read it outside the loop "
                    "with dsl.Collected(...)",
                    task,
                    argument,
                )
            if isinstance(group, ConditionGroup):
                self.fail(
                    f"task {producer!r} runs inside condition {gid!r} and may be skipped; read its "
                    "outputs only inside that condition, or give every branch of the dsl.If/Elif/Else "
                    "chain a producer and read dsl.OneOf(branch_a.output, branch_b.output) (as kfp requires)",
                    task,
                    argument,
                )

    def check_outputs(self) -> None:
        for out_name, arg in self.spec.outputs.items():
            if isinstance(arg, OneOf):
                for item in arg.items:
                    self.producer_output(item, None, f"pipeline output {out_name!r}")
                continue
            self.producer_output(arg, None, f"pipeline output {out_name!r}")
            if isinstance(arg, TaskOutput):
                self.check_reachable(arg.task, [], None, f"pipeline output {out_name!r}")

    def input_names(self) -> list[str]:
        return [i.name for i in self.spec.inputs]
