"""Follow a submitted Workflow and mirror its final state into the metadata store.

Pods record their own tasks (attempts, outputs, cache) while they run; what only the Workflow
knows is recorded here once it ends: the run's status and error, tasks that never got a pod
(skipped by a ``when``, or not started after a failure), and tasks whose pod vanished mid-run
(evicted, OOM-killed, node lost) - their rows still say running and are closed as failed. The
run then reads in ``conveyor runs``/``show`` exactly like a local one.

The API server's objects are read through Hera's models (``hera.workflows.models``: ``Workflow``,
``WorkflowStatus``, ``NodeStatus``), generated from Argo's own schema, not as raw dicts: a renamed
or mistyped field is an attribute error here, not a silent ``None``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import hera.workflows.models as m
from pydantic import ValidationError

from conveyor.compiler.argo.pods import TASK_PARAM
from conveyor.ir.graph import enclosing_loops
from conveyor.ir.spec import PipelineSpec
from conveyor.launcher.kube import GROUP, VERSION, WORKFLOWS, LaunchError, api_error
from conveyor.stores.metadata.api import MetadataStore

DONE_PHASES = ("Succeeded", "Failed", "Error")
NODE_DONE = ("Succeeded", "Failed", "Error", "Skipped", "Omitted")
# The scheduler's reason, as Argo copies it into a pending node's message:
# "Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: ..."
_INSUFFICIENT_GPU = re.compile(r"Insufficient ([a-z0-9.-]+/gpu)")


def gpu_capacity_wait(node: m.NodeStatus) -> str | None:
    """A clear line when ``node``'s pod waits because no node has the GPUs it asks for, else None."""
    message = node.message or ""
    found = _INSUFFICIENT_GPU.search(message)
    if node.phase != "Pending" or "Unschedulable" not in message or not found:
        return None
    return (f"pending on GPU capacity: no node can host its {found.group(1)} request "
            f"(scheduler: {message.removeprefix('Unschedulable: ').strip()[:300]})")


@dataclass(frozen=True)
class NodeEvent:
    """One task pod changed phase (what `conveyor submit --watch` prints)."""

    task: str  # IR task name
    node: str  # Argo display name, e.g. "train" or "train(1:0.1)"
    phase: str
    message: str | None = None
    pod: str | None = None


def as_workflow(obj: m.Workflow | Mapping[str, Any], what: str = "Workflow") -> m.Workflow:
    """The API server's Workflow object as Hera's typed model (generated from Argo's schema).

    ``metadata`` and ``spec`` default to empty: a status-only object (what a test feeds) still reads."""
    if isinstance(obj, m.Workflow):
        return obj
    try:
        return m.Workflow.model_validate({"metadata": {}, "spec": {}, **obj})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LaunchError(f"{what}: not an Argo Workflow object ({where}: {first['msg']})") from None


def nodes_of(workflow: m.Workflow) -> dict[str, m.NodeStatus]:
    return (workflow.status.nodes if workflow.status else None) or {}


def phase_of(workflow: m.Workflow) -> str | None:
    return workflow.status.phase if workflow.status else None


def node_task(node: m.NodeStatus, dag_tasks: dict[str, str]) -> str | None:
    """The IR task a node runs: its ``conveyor-task`` input, else its DAG task's argument."""
    for param in (node.inputs.parameters if node.inputs else None) or []:
        if param.name == TASK_PARAM and param.value:
            return param.value
    return dag_tasks.get(node.display_name or "")


def dag_task_names(workflow: m.Workflow) -> dict[str, str]:
    """DAG task name -> IR task name, from the submitted templates."""
    out: dict[str, str] = {}
    for template in workflow.spec.templates or []:
        for task in (template.dag.tasks if template.dag else None) or []:
            for param in (task.arguments.parameters if task.arguments else None) or []:
                if param.name == TASK_PARAM:
                    out[task.name] = param.value
    return out


def _started(node: m.NodeStatus) -> str:
    return node.started_at.root.isoformat() if node.started_at else ""


class Watcher:
    """Polls one Workflow, reports pod phase changes (and logs), returns the final object."""

    def __init__(self, client: Any, namespace: str, name: str, *, core: Any = None,
                 on_event: Callable[[NodeEvent], None] | None = None,
                 on_log: Callable[[NodeEvent, str], None] | None = None, poll_s: float = 2.0,
                 timeout_s: float | None = None, max_pending_s: float | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.client, self.namespace, self.name, self.core = client, namespace, name, core
        self.on_event, self.on_log = on_event or (lambda e: None), on_log
        self.poll_s, self.timeout_s, self.sleep, self.clock = poll_s, timeout_s, sleep, clock
        # A pod waiting on GPU capacity longer than this ends the watch (the Workflow stays queued).
        self.max_pending_s = max_pending_s
        self.phases: dict[str, tuple[str, str | None]] = {}
        self.gpu_waits: dict[str, float] = {}  # node id -> when it was first seen waiting on GPUs
        self.stalled: NodeEvent | None = None

    def get(self) -> m.Workflow:
        what = f"reading Workflow {self.namespace}/{self.name}"
        try:
            obj = self.client.get_namespaced_custom_object(GROUP, VERSION, self.namespace, WORKFLOWS, self.name)
        except Exception as exc:  # noqa: BLE001 - one readable line
            raise api_error(exc, what) from None
        return as_workflow(obj, what)

    def _pods(self) -> dict[str, str]:
        """node id -> pod name (Argo annotates each pod with the node it runs)."""
        pods = self.core.list_namespaced_pod(self.namespace,
                                             label_selector=f"workflows.argoproj.io/workflow={self.name}")
        out = {}
        for pod in pods.items or []:  # a V1PodList
            annotations = pod.metadata.annotations or {}
            if "workflows.argoproj.io/node-id" in annotations:
                out[annotations["workflows.argoproj.io/node-id"]] = pod.metadata.name
        return out

    def _report(self, workflow: m.Workflow) -> None:
        dag_tasks = dag_task_names(workflow)
        finished: list[tuple[str, NodeEvent]] = []
        for node_id, node in sorted(nodes_of(workflow).items(), key=lambda kv: (_started(kv[1]), kv[0])):
            if node.type not in ("Pod", "Skipped"):
                continue
            phase = node.phase or "Pending"
            gpu_wait = gpu_capacity_wait(node)
            if gpu_wait is None:
                self.gpu_waits.pop(node_id, None)
            else:
                self.gpu_waits.setdefault(node_id, self.clock())
            message = gpu_wait or node.message
            if self.phases.get(node_id) == (phase, message):
                continue
            self.phases[node_id] = (phase, message)
            display = node.display_name if node.display_name is not None else node_id
            event = NodeEvent(node_task(node, dag_tasks) or display, display, phase, message)
            self.on_event(event)
            if phase in NODE_DONE and node.type == "Pod":
                finished.append((node_id, event))
        if finished and self.core is not None and self.on_log is not None:
            pods = self._pods()
            for node_id, event in finished:
                if node_id in pods:
                    try:
                        text = self.core.read_namespaced_pod_log(pods[node_id], self.namespace, container="main")
                    except Exception as exc:  # noqa: BLE001 - logs are best effort (pod GC'd already)
                        text = f"(logs unavailable: {type(exc).__name__})"
                    self.on_log(event, text)

    def run(self) -> m.Workflow:
        """Poll until the Workflow ends (or ``timeout_s``); returns the last object read."""
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while True:
            workflow = self.get()
            self._report(workflow)
            if phase_of(workflow) in DONE_PHASES:
                return workflow
            if self._stalled_on_gpus(workflow):
                return workflow
            if deadline is not None and time.monotonic() >= deadline:
                return workflow
            self.sleep(self.poll_s)


    def _stalled_on_gpus(self, workflow: m.Workflow) -> bool:
        if self.max_pending_s is None:
            return False
        nodes = nodes_of(workflow)
        for node_id, since in self.gpu_waits.items():
            if self.clock() - since >= self.max_pending_s and node_id in nodes:
                node = nodes[node_id]
                waited = f"{self.clock() - since:.0f}s"
                display = node.display_name if node.display_name is not None else node_id
                self.stalled = NodeEvent(node_task(node, dag_task_names(workflow)) or display, display, "Pending",
                                         f"{gpu_capacity_wait(node)}; waited {waited}")
                return True
        return False


def mirror(store: MetadataStore, spec: PipelineSpec, run_id: str,
           workflow: m.Workflow | Mapping[str, Any]) -> tuple[str, str | None]:
    """Record the ended Workflow's state in the store; returns (run status, error). No-op while running."""
    workflow = as_workflow(workflow, f"run {run_id}")
    phase = phase_of(workflow)
    if phase not in DONE_PHASES:
        return "running", None
    dag_tasks = dag_task_names(workflow)
    all_nodes = nodes_of(workflow)
    by_task: dict[str, list[m.NodeStatus]] = {}
    for node in all_nodes.values():
        if node.type in ("Pod", "Skipped", "Retry"):
            task = node_task(node, dag_tasks)
            if task:
                by_task.setdefault(task, []).append(node)
    failed_nodes = [n for n in all_nodes.values() if n.type == "Pod" and n.phase in ("Failed", "Error")]
    run_failed = phase != "Succeeded"
    error = None
    if run_failed:
        first = failed_nodes[0] if failed_nodes else None
        task = node_task(first, dag_tasks) if first else None
        message = workflow.status.message if workflow.status else None
        error = f"task {task}: {first.message or 'failed'}" if first else (message or f"workflow {phase}")
    rows = {t.task_id: t for t in store.list_tasks(run_id)}
    for row in rows.values():
        if row.status in ("running", "pending"):  # its pod ended without a word: evicted, OOM-killed, node lost
            nodes = by_task.get(row.task_name, [])
            why = next((n.message for n in nodes if n.message), None) or f"the workflow ended ({phase})"
            for attempt in store.list_attempts(run_id, row.task_id):
                if attempt.status == "running":
                    store.finish_attempt(attempt.id, "failed", failure_class="killed", error=why)
            store.upsert_task(run_id, row.task_id, status="failed", error=why, ended_at=time.time())
    for task in spec.tasks:
        if task in rows or enclosing_loops(spec, task):
            continue  # loop iterations are recorded by their pods under per-iteration ids
        nodes = by_task.get(task, [])
        bad = next((n for n in nodes if n.phase in ("Failed", "Error")), None)
        if bad is not None:
            store.upsert_task(run_id, task, task_name=task, status="failed", error=bad.message or "pod failed")
        elif any(n.phase in ("Skipped", "Omitted") for n in nodes):
            reason = next((n.message for n in nodes if n.message), None) or "condition is false"
            store.upsert_task(run_id, task, task_name=task, status="skipped", error=reason)
        else:
            reason = "not started: the run failed first" if run_failed else "not run"
            store.upsert_task(run_id, task, task_name=task, status="skipped", error=reason)
    store.set_run_outputs(run_id, pipeline_outputs(store, spec, run_id))
    run_status = "failed" if run_failed else "succeeded"
    store.set_run_status(run_id, run_status, error=error)
    return run_status, error


def pipeline_outputs(store: MetadataStore, spec: PipelineSpec, run_id: str) -> dict[str, Any]:
    """The pipeline's declared outputs from the recorded task outputs (absent when not produced)."""
    rows = store.list_tasks(run_id)
    out: dict[str, Any] = {}
    for name, output in spec.outputs.items():
        for arg in getattr(output, "items", (output,)):  # a OneOf: the branch that ran
            _pick_output(out, name, arg, rows)
    return out


def _pick_output(out: dict[str, Any], name: str, arg: Any, rows: list[Any]) -> None:
    values = [r.outputs for r in rows if r.task_name == arg.task and r.outputs]
    picked = []
    for outputs in values:
        pool = {**outputs.get("parameters", {}), **outputs.get("artifacts", {})}
        if arg.output in pool:
            picked.append(pool[arg.output])
    if arg.kind == "collected":
        out[name] = picked
    elif len(picked) == 1:
        out[name] = picked[0]
