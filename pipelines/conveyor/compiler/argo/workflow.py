"""PipelineSpec + profile -> Hera ``Workflow`` / ``CronWorkflow`` models.

The driver walks the IR once: tasks become nodes of the DAG scope that holds
them (see :mod:`scopes`), groups become nodes of their parent scope, the
dependency edges are lifted to the nearest common scope, and only then are the
Hera models built, because a group's input parameters are known only after
everything inside it has been resolved.
"""

from __future__ import annotations

import json

import hera.workflows.models as m

from conveyor.compiler.argo import branches
from conveyor.compiler.argo.conditions import when_expression
from conveyor.compiler.argo.environment import SPEC_PARAM, pod_context
from conveyor.compiler.argo.kube_pod import name_params
from conveyor.compiler.argo.loops import loop_items_mode
from conveyor.compiler.argo.naming import (
    LABEL_KEY_ARGO_INSTANCE,
    LABEL_KEY_PIPELINE,
    LABEL_KEY_RUN,
    NameAllocator,
    dns_name,
    expr,
    label_value,
    param_name,
)
from conveyor.compiler.argo.options import CompileError, CompileOptions
from conveyor.compiler.argo.placement import place
from conveyor.compiler.argo.pods import (
    PIP_CACHE_VOLUME,
    TASK_PARAM,
    container_template,
    image_pull_secrets,
    omitted_param,
    resource_param,
)
from conveyor.compiler.argo.pvc import pvc_template
from conveyor.compiler.argo.render import dag_template
from conveyor.compiler.argo.scopes import (
    EXIT,
    ROOT,
    LoopIndex,
    Node,
    OneOfRan,
    Scopes,
    Wrap,
    argument_parts,
    loop_param,
)
from conveyor.ir import (
    ConditionGroup,
    ExitHandlerGroup,
    LoopItem,
    OneOf,
    ParallelForGroup,
    PipelineSpec,
    TaskFinalStatus,
    dependencies,
    topological_order,
    workspace,
)
from conveyor.ir.graph import referenced_tasks
from conveyor.ir.kubernetes import PvcImplementation
from conveyor.profile import Profile
from conveyor.runtime.protocol.codec import encode_spec, text_form


class _Builder:
    def __init__(self, spec: PipelineSpec, profile: Profile | None, options: CompileOptions) -> None:
        self.spec, self.profile, self.options = spec.portable(), profile, options
        self.run_id = options.resolved_run_id()
        self.cached = {t: dict(v) for t, v in options.cached.items()}
        for task in self.cached:
            if task not in spec.tasks:
                raise CompileError(f"pipeline {spec.name!r}: cached task {task!r} is not in the pipeline")
        self.names = NameAllocator()
        self.sc = Scopes(spec, self.names, self.cached)
        self.containers: dict[str, m.Template] = {}
        self.container_keys: dict[str, str] = {}
        self.loop_modes = {
            gid: loop_items_mode(spec, g, options.inline_items_max_bytes)
            for gid, g in spec.groups.items()
            if isinstance(g, ParallelForGroup)
        }
        self.pods = pod_context(self.spec, profile, options, self.run_id)

    # -- tasks -----------------------------------------------------------------------------------
    def scope_key(self, task: str) -> object:
        chain = self.sc.chain_of_task(task)
        return chain[-1] if chain else ROOT

    def add_task(self, task_name: str, key: object) -> None:
        task = self.spec.tasks[task_name]
        component = self.spec.components[task.component]
        what = f"pipeline {self.spec.name!r} task {task_name!r}"
        if isinstance(component.implementation, PvcImplementation):
            self.add_pvc_task(task_name, key, what)
            return
        node = Node(
            name=self.sc.node_name(task_name)
            if key != EXIT
            else self.sc.node_names.name(("exit", task_name), task_name)
        )
        bound: list[str] = []
        index_loops: list[str] = []
        omittable: list[str] = []  # ignore_upstream_failure inputs read from upstream tasks
        guards: list[str] = []
        final_status = False
        for inp in component.inputs:
            if inp.name not in task.arguments:
                continue
            arg = task.arguments[inp.name]
            if isinstance(arg, LoopItem) and self.loop_modes.get(arg.loop_id) == "index":
                if arg.loop_id not in index_loops:
                    index_loops.append(arg.loop_id)
                continue
            final_status = final_status or isinstance(arg, TaskFinalStatus)
            where = f"{what} argument {inp.name!r}"
            fallback = task.ignore_upstream_failure and bool(referenced_tasks(arg))
            oks: list[str] = []
            for name, part in argument_parts(inp.name, arg):
                if isinstance(part, LoopItem) and self.loop_modes.get(part.loop_id) == "index":
                    if part.loop_id not in index_loops:
                        index_loops.append(part.loop_id)
                    continue
                if fallback:
                    node.args[param_name(name)], ok = self.sc.guarded(part, key, where)
                    oks.append(f"({ok})")
                else:
                    node.args[param_name(name)] = self.sc.ref(part, key, where, task_name)
                bound.append(name)
            if fallback:  # the pod leaves the input to its default unless every upstream it reads succeeded
                omittable.append(inp.name)
                node.args[omitted_param(inp.name)] = branches.tag(f"!({' && '.join(oks)})")
            elif isinstance(arg, OneOf):  # no branch ran: skipped, as locally
                guards.append(self.sc.ref(OneOfRan(arg), key, where))
        for loop in index_loops:
            node.args[loop_param(LoopIndex(loop))] = self.sc.ref(LoopIndex(loop), key, what)
        for param, arg in name_params(task.kubernetes).items():
            node.args[param] = self.sc.ref(arg, key, f"{what} PVC, secret or config map name", task_name)
        for field, arg in sorted(task.resource_args.items()):
            node.args[resource_param(field)] = self.sc.ref(arg, key, f"{what} set_{field}()", task_name)
        node.args = {TASK_PARAM: task_name, **node.args}
        node.when, node.guarded = " && ".join(guards) or None, bool(guards)
        if task.ignore_upstream_failure:
            late = [f"set_{f}()" for f, a in sorted(task.resource_args.items()) if referenced_tasks(a)]
            late += ["a PVC, secret or config map name"
                     for a in name_params(task.kubernetes).values() if referenced_tasks(a)]
            if late:
                raise CompileError(
                    f"{what}: .ignore_upstream_failure() with {', '.join(late)} read from an upstream task does not "
                    "compile to Argo (a failed upstream leaves no value to size or mount the pod with; locally the "
                    "task is skipped); give it a literal or a pipeline parameter instead"
                )
            node.ignore_failure = True
        placement = place(task, self.profile, self.options.prefer_spot, what)
        settings = task.model_dump(
            mode="json", exclude={"name", "arguments", "after", "group", "display_name"}
        )
        dedupe = json.dumps([task.component, bound, index_loops, final_status, omittable, settings], sort_keys=True)
        if dedupe not in self.container_keys:
            name = self.names.name(("container", dedupe), task.component)
            self.container_keys[dedupe] = name
            self.containers[name] = container_template(
                self.pods, name, task, component, bound, index_loops, placement, final_status, omittable
            )
        node.template = self.container_keys[dedupe]
        self.sc.scope(key).nodes[task_name] = node

    def add_pvc_task(self, task_name: str, key: object, what: str) -> None:
        """CreatePVC / DeletePVC: a resource template of its own (its manifest holds the literal inputs)."""
        if key == EXIT:
            raise CompileError(f"{what}: CreatePVC/DeletePVC cannot be an exit task on Argo; put DeletePVC "
                               "after the tasks that use the claim instead")
        task = self.spec.tasks[task_name]
        name = self.names.name(("container", task_name), dns_name(task.component, 50))
        template, params = pvc_template(name, task, self.spec.components[task.component], what)
        self.containers[name] = template
        node = Node(name=self.sc.node_name(task_name), template=name)
        for inp in params:
            node.args[param_name(inp)] = self.sc.ref(task.arguments[inp], key, f"{what} argument {inp!r}", task_name)
        self.sc.scope(key).nodes[task_name] = node

    # -- groups ----------------------------------------------------------------------------------
    def live_groups(self) -> list[str]:
        """Groups that still contain a task to run (cached or exit-only groups drop out)."""
        live: set[str] = set()
        for name in self.spec.tasks:
            if name in self.cached or name in self.sc.exit_tasks:
                continue
            live.update(self.sc.chain_of_task(name))
        for name in self.cached:
            loops = [g for g in self.sc.chain_of_task(name) if self.sc.is_loop(g)]
            readers = [t for t in self.spec.tasks if t not in self.cached and t not in self.sc.exit_tasks
                       and name in dependencies(self.spec, t)]
            if loops and readers:  # a whole cached loop that nothing left reads simply drops out
                raise CompileError(
                    f"pipeline {self.spec.name!r}: cached task {name!r} is inside ParallelFor {loops[0]!r} and "
                    f"{readers[0]!r} still reads it; only tasks outside loops can be injected from the cache"
                )
        return [
            g for g in self.spec.groups if g in live and not isinstance(self.spec.groups[g], ExitHandlerGroup)
        ]

    def add_group(self, gid: str) -> None:
        group = self.spec.groups[gid]
        parent = self.sc.effective_parent(group.parent)
        pkey = ROOT if parent is None else parent
        what = f"pipeline {self.spec.name!r} group {gid!r}"
        body = self.sc.scope(gid)
        if isinstance(group, ConditionGroup):
            node = Node(name=self.sc.node_name(gid), template=body.template)
            node.when = when_expression(
                group.condition, lambda a: self.sc.ref(a, pkey, what), self.sc.type_of, what
            )
            self.sc.scope(pkey).nodes[gid] = node
            return
        wrapper = self.sc.scope(Wrap(gid))
        wrapper.parallelism = group.parallelism
        it = Node(name=self.sc.iter_node(gid), template=body.template)
        mode = self.loop_modes[gid]
        if mode == "param":
            it.with_param = self.sc.ref(group.items, Wrap(gid), what)
        else:
            items = group.items.value  # type: ignore[union-attr]
            if mode == "inline":
                it.with_items = list(items)
            elif mode == "sequence":
                it.with_sequence = (items[0], len(items))
            else:
                it.with_sequence = (0, len(items))
        wrapper.nodes[("iter", gid)] = it
        self.sc.scope(pkey).nodes[gid] = Node(name=self.sc.node_name(gid), template=wrapper.template)

    def wire_group_args(self, gid: str) -> None:
        """Fill the arguments of the nodes that call ``gid``'s templates (after its inputs are known)."""
        group = self.spec.groups[gid]
        parent = self.sc.effective_parent(group.parent)
        pkey = ROOT if parent is None else parent
        what = f"pipeline {self.spec.name!r} group {gid!r}"
        body = self.sc.scope(gid)
        if isinstance(group, ParallelForGroup):
            it = self.sc.scope(Wrap(gid)).nodes[("iter", gid)]
            for name, arg in sorted(body.inputs.items()):
                if isinstance(arg, LoopItem | LoopIndex) and arg.loop_id == gid:
                    field = getattr(arg, "field", None)
                    it.args[name] = expr(f"item.{field}") if field else "{{item}}"
                else:
                    it.args[name] = self.sc.ref(arg, Wrap(gid), what)
            body = self.sc.scope(Wrap(gid))
        node = self.sc.scope(pkey).nodes[gid]
        for name, arg in sorted(body.inputs.items()):
            node.args[name] = self.sc.ref(arg, pkey, what)

    # -- edges -----------------------------------------------------------------------------------
    def add_edges(self, runnable: list[str]) -> None:
        for task in runnable:
            chain_t = self.sc.chain_of_task(task)
            for dep in sorted(dependencies(self.spec, task)):
                if dep in self.cached or dep in self.sc.exit_tasks or dep not in self.spec.tasks:
                    continue
                chain_d = self.sc.chain_of_task(dep)
                common = 0
                while common < min(len(chain_t), len(chain_d)) and chain_t[common] == chain_d[common]:
                    common += 1
                key = chain_t[common - 1] if common else ROOT
                node_t = chain_t[common] if common < len(chain_t) else task
                node_d = chain_d[common] if common < len(chain_d) else dep
                if node_t != node_d and node_t != task and self.spec.tasks[task].ignore_upstream_failure:
                    raise CompileError(
                        f"pipeline {self.spec.name!r} task {task!r}: on Argo an .ignore_upstream_failure() task must "
                        f"sit in the same loop or condition as its upstream {dep!r} (group {node_t!r} around it would "
                        "not start after that upstream failed); move the task next to its upstream"
                    )
                if node_t != node_d:
                    self.sc.scope(key).nodes[node_t].deps.add(self.sc.node_name(node_d))

    # -- assembly --------------------------------------------------------------------------------
    def build(self) -> m.WorkflowSpec:
        self.sc.scope(ROOT)
        order = topological_order(self.spec)
        runnable = [t for t in order if t not in self.cached and t not in self.sc.exit_tasks]
        if not runnable and not self.sc.exit_tasks:
            raise CompileError(
                f"pipeline {self.spec.name!r}: every task is cached; there is nothing to submit"
            )
        groups = self.live_groups()
        for gid in groups:  # create scopes in spec order so template names are stable
            if self.sc.is_loop(gid):
                self.sc.scope(Wrap(gid))
            self.sc.scope(gid)
        for task in runnable:
            self.add_task(task, self.scope_key(task))
        for gid in groups:
            self.add_group(gid)
        for gid in sorted(groups, key=lambda g: -len(self.sc.chain_of_group(g))):
            self.wire_group_args(gid)
        self.add_edges(runnable)
        for task in self.sc.exit_tasks:
            self.add_task(task, EXIT)
        exit_scope = self.sc.scopes.get(EXIT)
        for task in self.sc.exit_tasks:  # an exit pipeline's own order (its tasks run in onExit together)
            for dep in dependencies(self.spec, task) & set(self.sc.exit_tasks):
                exit_scope.nodes[task].deps.add(exit_scope.nodes[dep].name)  # type: ignore[union-attr]
        templates = [dag_template(s) for s in self.sc.scopes.values() if s.nodes or s.key != ROOT]
        templates += list(self.containers.values())
        entrypoint = self.sc.scope(ROOT).template
        if not runnable:
            # The body is all cached and only the exit handler runs (it notifies on every run): the
            # entrypoint is a zero-length suspend, which needs no pod, for onExit to follow.
            entrypoint = self.names.name(("all-cached",), "all-cached")
            templates.insert(0, m.Template(name=entrypoint, suspend=m.SuspendTemplate(duration="0")))
        return m.WorkflowSpec(
            entrypoint=entrypoint,
            templates=templates,
            on_exit=self.sc.scopes[EXIT].template if EXIT in self.sc.scopes else None,
            arguments=m.Arguments(parameters=params) if (params := self.workflow_parameters()) else None,
            service_account_name=getattr(self.profile, "service_account", None),
            image_pull_secrets=image_pull_secrets(self.spec),
            pod_gc=m.PodGC(strategy=self.options.pod_gc) if self.options.pod_gc else None,
            ttl_strategy=m.TTLStrategy(seconds_after_completion=self.options.ttl_seconds_after_finished)
            if self.options.ttl_seconds_after_finished
            else None,
            pod_metadata=m.Metadata(labels=self.labels()),
            volumes=[
                m.Volume(
                    name=PIP_CACHE_VOLUME,
                    persistent_volume_claim=m.PersistentVolumeClaimVolumeSource(
                        claim_name=self.options.pip_cache_claim
                    ),
                )
            ]
            if self.options.pip_cache_claim
            else None,
            volume_claim_templates=self.workspace_claims(),
            # deleted however the run ends: a resubmit is a new Workflow with a new claim, so a failed
            # run's workspace could only leak storage (Argo's default keeps it after a failure)
            volume_claim_gc=m.VolumeClaimGC(strategy="OnWorkflowCompletion") if self.spec.workspace else None,
        )

    def workspace_claims(self) -> list[m.PersistentVolumeClaim] | None:
        """The run's workspace PVC: Argo creates it when the Workflow starts and deletes it when the
        Workflow ends (``volumeClaimGC``), kfp's lifetime for a workspace."""
        if self.spec.workspace is None:
            return None
        claim = m.PersistentVolumeClaimSpec.model_validate(self.spec.workspace.claim_spec())
        return [m.PersistentVolumeClaim(metadata=m.ObjectMeta(name=workspace.VOLUME), spec=claim)]

    def labels(self) -> dict[str, str]:
        labels = {LABEL_KEY_PIPELINE: label_value(self.spec.name)}
        if "{{" not in self.run_id:
            labels[LABEL_KEY_RUN] = label_value(self.run_id)
        instance = getattr(self.profile, "argo_instance_id", None)
        if instance:
            labels[LABEL_KEY_ARGO_INSTANCE] = instance
        return labels

    def workflow_parameters(self) -> list[m.Parameter]:
        params = []
        for inp in self.spec.inputs:
            if inp.name in self.options.arguments:
                value: str | None = self.options.arguments[inp.name]
            elif inp.has_default:
                value = text_form(inp.default)
            else:
                value = None
            params.append(m.Parameter(name=param_name(inp.name), value=value))
        unknown = set(self.options.arguments) - {i.name for i in self.spec.inputs}
        if unknown:
            raise CompileError(f"pipeline {self.spec.name!r}: unknown pipeline parameters {sorted(unknown)}")
        if not self.options.spec_uri:
            params.append(m.Parameter(name=SPEC_PARAM, value=encode_spec(self.spec)))
        return params


def build_workflow(
    spec: PipelineSpec, profile: Profile | None = None, options: CompileOptions | None = None
) -> m.Workflow:
    """Compile ``spec`` into a Hera ``Workflow`` model (see the package docstring for the mapping)."""
    options = options or CompileOptions()
    builder = _Builder(spec, profile, options)
    wf_spec = builder.build()
    return m.Workflow(
        api_version="argoproj.io/v1alpha1",
        kind="Workflow",
        metadata=m.ObjectMeta(
            generate_name=options.generate_name or f"{dns_name(spec.name, 50)}-",
            namespace=getattr(profile, "namespace", None),
            labels=builder.labels(),
            annotations={"conveyor.dev/spec-digest": builder.spec.digest()},
        ),
        spec=wf_spec,
    )
