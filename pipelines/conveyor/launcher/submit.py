"""``conveyor submit`` / ``conveyor schedule``: resolve the cached prefix, then create Argo objects.

A run is recorded in the profile's metadata store *before* anything is created, with the same
fields a local run has (so ``conveyor runs``/``show`` list it): tasks resolved from the cache are
recorded ``cached`` and decidable-false conditions ``skipped``. A fully resolved run ends right
there as ``succeeded`` - no Workflow. Otherwise only the remaining sub-DAG is compiled
(``CompileOptions.cached`` injects the cached outputs) and created with the kubernetes client.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.compiler.argo import CompileOptions, compile_cron_workflow, compile_workflow
from conveyor.compiler.argo.naming import dns_name
from conveyor.ir.graph import all_exit_tasks
from conveyor.ir.spec import PipelineSpec
from conveyor.ir.validate import validate
from conveyor.launcher.kube import CRON_WORKFLOWS, GROUP, VERSION, WORKFLOWS, LaunchError, api_error
from conveyor.launcher.resolve import Resolution, resolve_cached
from conveyor.launcher.watch import NodeEvent, Watcher, as_workflow, mirror, pipeline_outputs
from conveyor.profile import Profile
from conveyor.runtime.protocol.binding import bind_arguments
from conveyor.runtime.protocol.codec import new_run_id, text_form
from conveyor.runtime.protocol.hits import mark_cached
from conveyor.stores.metadata.api import MetadataStore


@dataclass(frozen=True)
class ClusterRun:
    """A submitted run, shaped like the local ``RunResult`` (``to_dict`` has the same keys, plus
    ``workflow``), so the CLI renders both with ``conveyor.cli.render.run_summary``."""

    run_id: str
    pipeline: str
    # succeeded | failed | running (submitted without --watch, or the watch timed out) | pending (the
    # watch gave up on a pod waiting for GPU capacity: ``error`` says which task and why)
    status: str
    tasks: list[dict[str, Any]]
    outputs: dict[str, Any]
    duration_s: float
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    workflow: str | None = None  # None: fully cached, nothing was created

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "pipeline": self.pipeline, "status": self.status,
                "duration_s": round(self.duration_s, 4), "error": self.error, "tasks": list(self.tasks),
                "outputs": self.outputs, "warnings": list(self.warnings), "workflow": self.workflow}


def bind(spec: PipelineSpec, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """The one binder (``conveyor.runtime.protocol.binding``): types checked, int->float, defaults."""
    return bind_arguments(spec, dict(arguments or {}))


def task_summaries(store: MetadataStore, run_id: str, saved_usd: dict[str, float | None] | None = None) -> list[dict]:
    """TaskSummary-shaped dicts from the store (what ``RunResult.to_dict()['tasks']`` holds)."""
    out = []
    for row in store.list_tasks(run_id):
        attempts = store.list_attempts(run_id, row.task_id)
        failed = [a for a in attempts if a.status == "failed"]
        out.append({"name": row.task_id, "task": row.task_name, "status": row.status, "attempts": row.attempts,
                    "duration_s": row.duration_s, "peak_rss_mb": row.peak_rss_mb, "cost_usd": row.cost_usd,
                    "saved_s": row.saved_s, "saved_usd": (saved_usd or {}).get(row.task_id),
                    "error": row.error, "failure_class": failed[-1].failure_class if failed and row.status == "failed"
                    else None})
    return out


def _record_resolution(store: MetadataStore, run_id: str, resolution: Resolution) -> None:
    for task, entry in resolution.cached.items():
        mark_cached(store, run_id, task, task, resolution.keys[task], entry)
    if resolution.complete:  # a partial run re-runs its loops (pods find the same entries and record them)
        for task, hits in resolution.loops.items():
            for instance, key, entry in hits:
                mark_cached(store, run_id, instance, task, key, entry)
    for task, reason in resolution.skipped.items():
        store.upsert_task(run_id, task, task_name=task, status="skipped", error=reason)


def _upload_spec(spec: PipelineSpec, artifacts: Any) -> str:
    """The spec JSON in the content-addressed store; pods fetch it digest-checked (keeps manifests small)."""
    with tempfile.TemporaryDirectory(prefix="conveyor-spec-") as tmp:
        path = Path(tmp) / "spec.json"
        path.write_text(spec.to_json())
        return artifacts.put(path).uri


def submit(spec: PipelineSpec, arguments: dict[str, Any] | None, profile: Profile, *, client: Any = None,
           core: Any = None, watch: bool = False, run_id: str | None = None, use_cache: bool = True,
           max_cache_staleness_s: float | None = None, options: CompileOptions | None = None,
           labels: dict[str, str] | None = None, embed_spec: bool = False,
           on_event: Callable[[NodeEvent], None] | None = None,
           on_log: Callable[[NodeEvent, str], None] | None = None, poll_s: float = 2.0,
           timeout_s: float | None = None, max_pending_s: float | None = None,
           store: MetadataStore | None = None, artifacts: Any = None,
           sleep: Callable[[float], None] = time.sleep) -> ClusterRun:
    """Run ``spec`` on the profile's cluster; see the module docstring. ``client`` is a
    ``CustomObjectsApi`` (built from the profile's kubeconfig when None), ``core`` a ``CoreV1Api``
    for pod logs while watching. ``max_pending_s`` bounds how long the watch waits on a pod that no
    node can host for lack of GPUs: the result is then ``pending`` with the scheduler's reason (the
    Workflow stays queued, e.g. for an autoscaler)."""
    started = time.time()
    validate(spec)
    spec = spec.portable()  # what the cluster sees and records: no laptop paths
    bound = bind(spec, arguments)
    run_id = run_id or new_run_id(spec.name)
    own_store = store is None
    if store is None:
        from conveyor.stores.metadata import open_metadata_store

        store = open_metadata_store(profile.metadata_url.get_secret_value())
    if artifacts is None:
        from conveyor.stores.artifacts import open_artifact_store

        artifacts = open_artifact_store(profile.artifact_root, **profile.artifact_store_options())
    try:
        resolution = resolve_cached(spec, bound, store, artifacts, run_id=run_id,
                                    max_staleness_s=max_cache_staleness_s, use_cache=use_cache)
        namespace = profile.namespace
        name = dns_name(run_id)
        run_labels = {"executor": "argo", "namespace": namespace, **(labels or {})}
        if not resolution.complete:
            run_labels["workflow"] = name
        store.create_run(run_id, spec.name, spec.digest(), spec.to_json(), bound, profile.environment, run_labels,
                         status="running")
        store.set_run_status(run_id, "running")
        _record_resolution(store, run_id, resolution)
        saved = {t: e.cost_usd for t, e in resolution.cached.items()}
        if resolution.complete:
            outputs = pipeline_outputs(store, spec, run_id)
            store.set_run_outputs(run_id, outputs)
            store.set_run_status(run_id, "succeeded")
            return ClusterRun(run_id, spec.name, "succeeded", task_summaries(store, run_id, saved), outputs,
                              time.time() - started)
        manifest = build_manifest(spec, profile, run_id, bound, resolution, options, artifacts, embed_spec)
        if client is None:
            from conveyor.launcher.kube import custom_objects

            client = custom_objects(profile)
        try:
            created = client.create_namespaced_custom_object(GROUP, VERSION, namespace, WORKFLOWS, manifest)
        except Exception as exc:  # noqa: BLE001 - recorded, then one readable line
            error = api_error(exc, f"creating Workflow {namespace}/{name}")
            store.set_run_status(run_id, "failed", error=str(error))
            raise error from None
        name = (as_workflow(created, f"creating Workflow {namespace}/{name}").metadata.name if created else None) or name
        status, error = "running", None
        if watch:
            watcher = Watcher(client, namespace, name, core=core, on_event=on_event, on_log=on_log, poll_s=poll_s,
                              timeout_s=timeout_s, max_pending_s=max_pending_s, sleep=sleep)
            workflow = watcher.run()
            status, error = mirror(store, spec, run_id, workflow)
            if status == "running" and watcher.stalled is not None:
                status, error = "pending", f"task {watcher.stalled.task}: {watcher.stalled.message}"
        return ClusterRun(run_id, spec.name, status, task_summaries(store, run_id, saved),
                          store.get_run(run_id).outputs, time.time() - started, error, workflow=name)
    finally:
        if own_store:
            store.close()


def build_manifest(spec: PipelineSpec, profile: Profile, run_id: str, arguments: dict[str, Any],
                   resolution: Resolution, options: CompileOptions | None, artifacts: Any,
                   embed_spec: bool) -> dict[str, Any]:
    """The Workflow for what is left: cached outputs injected, named after the run."""
    cached = resolution.injected()
    exit_tasks = set(all_exit_tasks(spec))
    if cached and all(t in cached or t in resolution.loops or t in exit_tasks for t in spec.tasks):
        # Only exit tasks are left: the compiler gives them a pod-less entrypoint to follow. Loops
        # whose every item hit drop out whole (an exit task reads nothing from the body).
        cached.update({task: {} for task in resolution.loops})
    base = options or CompileOptions()
    spec_uri = base.spec_uri
    if spec_uri is None and not embed_spec:
        spec_uri = _upload_spec(spec, artifacts)
    opts = dataclasses.replace(base, run_id=run_id, spec_uri=spec_uri, cached=cached,
                               arguments={k: text_form(v) for k, v in arguments.items() if v is not None})
    manifest = compile_workflow(spec, profile, opts)
    manifest["metadata"].pop("generateName", None)
    manifest["metadata"]["name"] = dns_name(run_id)
    return manifest


def schedule(spec: PipelineSpec, cron: str, profile: Profile, *, arguments: dict[str, Any] | None = None,
             client: Any = None, name: str | None = None, timezone: str | None = None,
             concurrency_policy: str = "Forbid", options: CompileOptions | None = None,
             replace: bool = False, store: MetadataStore | None = None) -> dict[str, Any]:
    """Create (or with ``replace``, update) a CronWorkflow; returns the manifest the API server stored.

    Every scheduled run gets its own run id (the spawned Workflow's name). The spec is embedded,
    so the schedule keeps working however long it lives; each pod checks the cache itself. The
    schedule is then recorded in the profile's metadata store (``store``, opened when None), where
    ``conveyor ui`` reads its cron expression to show the next firing.
    """
    validate(spec)
    bound = bind(spec, arguments)
    opts = dataclasses.replace(options or CompileOptions(), spec_uri=None,
                               arguments={k: text_form(v) for k, v in bound.items() if v is not None})
    manifest = compile_cron_workflow(spec, cron, profile, opts, name=name, timezone=timezone,
                                     concurrency_policy=concurrency_policy)
    if client is None:
        from conveyor.launcher.kube import custom_objects

        client = custom_objects(profile)
    namespace, cron_name = profile.namespace, manifest["metadata"]["name"]
    stored = _create_or_replace(client, namespace, cron_name, manifest, replace)
    own_store = store is None
    if store is None:
        from conveyor.stores.metadata import open_metadata_store

        store = open_metadata_store(profile.metadata_url.get_secret_value())
    try:
        store.record_schedule(cron_name, spec.name, cron, timezone=timezone, namespace=namespace)
    finally:
        if own_store:
            store.close()
    return stored


def _create_or_replace(client: Any, namespace: str, cron_name: str, manifest: dict[str, Any],
                       replace: bool) -> dict[str, Any]:
    what = f"creating CronWorkflow {namespace}/{cron_name}"
    try:
        return client.create_namespaced_custom_object(GROUP, VERSION, namespace, CRON_WORKFLOWS, manifest)
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "status", None) != 409 or not replace:
            err = api_error(exc, what)
            if getattr(exc, "status", None) == 409:
                err = LaunchError(f"{what}: it already exists; pass --replace to update it")
            raise err from None
    try:
        current = client.get_namespaced_custom_object(GROUP, VERSION, namespace, CRON_WORKFLOWS, cron_name)
        manifest["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return client.replace_namespaced_custom_object(GROUP, VERSION, namespace, CRON_WORKFLOWS, cron_name, manifest)
    except Exception as exc:  # noqa: BLE001
        raise api_error(exc, f"replacing CronWorkflow {namespace}/{cron_name}") from None
