"""Run (or resume) a pipeline locally: the API behind `conveyor run` and `conveyor.run()`.

Opens the stores the profile names, records the run, lets the scheduler work, then resolves the
pipeline's outputs, pushes metrics and sends the notification. A notification or metrics
failure never changes the run's result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.executor.graph import Instance, RunGraph
from conveyor.executor.options import SchedulerOptions
from conveyor.executor.pool import WorkerPool
from conveyor.executor.recorder import RunRecorder
from conveyor.executor.scheduler import Scheduler
from conveyor.ir.graph import topological_order
from conveyor.ir.spec import PipelineSpec
from conveyor.ir.validate import validate
from conveyor.metrics.cost import TaskCoster, prices_from_profile
from conveyor.metrics.run import RunMetrics
from conveyor.notify import RunReport, notifier_from_target, redact
from conveyor.profile import Profile, ProfileError, conveyor_home, local_profile
from conveyor.runtime import kube_local
from conveyor.runtime.protocol.binding import bind_arguments
from conveyor.runtime.protocol.codec import new_run_id
from conveyor.runtime.protocol.workdir import AttemptDir
from conveyor.stores.artifacts import open_artifact_store
from conveyor.stores.metadata import MetadataStore, MetadataStoreError, open_metadata_store


@dataclass
class RunOptions(SchedulerOptions):
    notify: list[str] = field(default_factory=list)  # URL, env:VAR, VAR or file:/path
    pushgateway: str | None = None
    metrics_textfile: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    cost: Callable[[str, float], float | None] | None = None


@dataclass(frozen=True)
class TaskSummary:
    name: str
    task: str
    status: str
    attempts: int
    duration_s: float | None
    peak_rss_mb: float | None
    cost_usd: float | None = None
    saved_s: float | None = None
    saved_usd: float | None = None
    error: str | None = None
    failure_class: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RunResult:
    run_id: str
    pipeline: str
    status: str  # succeeded | failed
    tasks: list[TaskSummary]
    outputs: dict[str, Any]
    duration_s: float
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "pipeline": self.pipeline, "status": self.status,
                "duration_s": round(self.duration_s, 4), "error": self.error,
                "tasks": [t.to_dict() for t in self.tasks], "outputs": self.outputs, "warnings": self.warnings}


def _summaries(graph: RunGraph) -> list[TaskSummary]:
    def one(inst: Instance) -> TaskSummary:
        return TaskSummary(inst.id, inst.task, inst.status, inst.attempts, inst.duration_s, inst.peak_rss_mb,
                           inst.cost_usd, inst.saved_s, inst.saved_usd, inst.error or (inst.reason if inst.status == "skipped" else None),
                           inst.failure_class)
    order = {name: pos for pos, name in enumerate(topological_order(graph.spec))}
    return [one(i) for i in sorted(graph.instances.values(), key=lambda i: order.get(i.task, 0))]


def _pipeline_outputs(spec: PipelineSpec, graph: RunGraph) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for name, arg in spec.outputs.items():
        try:
            outputs[name] = graph.resolve(arg, ())
        except Exception:  # noqa: BLE001 - an output whose producer did not run is simply absent
            continue
    return outputs


class LocalRunner:
    """Owns the stores for one or more runs; `conveyor.run()` and the CLI both use it."""

    def __init__(self, profile: Profile | None = None, home: Path | None = None):
        self.home = home or conveyor_home()
        self.profile = profile or local_profile(self.home)
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a bare "[Errno 17] File exists" names neither the setting nor the fix
            raise ProfileError(f"conveyor home {self.home} (CONVEYOR_HOME) cannot be created: "
                               f"{exc.strerror or exc}; point CONVEYOR_HOME at a writable folder") from None
        self._store: MetadataStore | None = None

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = open_metadata_store(self.profile.metadata_url.get_secret_value())
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> LocalRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, spec: PipelineSpec, arguments: dict[str, Any] | None = None, *, from_cli: bool = False,
            options: RunOptions | None = None, preload: list[str] | None = None,
            observer: Callable[[str, Instance], None] | None = None, run_id: str | None = None) -> RunResult:
        validate(spec)
        for task in spec.tasks.values():  # a missing local secret fails before anything is recorded
            kube_local.check(task.kubernetes, task.name)
        bound = bind_arguments(spec, arguments or {}, from_cli=from_cli)
        run_id = run_id or new_run_id(spec.name)
        self.store.create_run(run_id, spec.name, spec.digest(), spec.to_json(), bound, self.profile.environment,
                              (options or RunOptions()).labels, status="running")
        self.store.set_run_status(run_id, "running")
        return self._execute(spec, bound, run_id, options or RunOptions(), preload or [], observer)

    def resume(self, run_id: str, *, options: RunOptions | None = None, preload: list[str] | None = None,
               observer: Callable[[str, Instance], None] | None = None) -> RunResult:
        record = self.store.get_run(run_id)
        spec = PipelineSpec.from_json(record.spec_json)
        self.store.mark_stale_attempts(run_id)
        completed = self.store.completed_tasks(run_id)
        prior = {t.task_id: t.attempts for t in self.store.list_tasks(run_id)}
        modules = sorted({c.implementation.module_file for c in spec.components.values()
                          if c.implementation.module_file})
        self.store.set_run_status(run_id, "running")
        return self._execute(spec, record.arguments, run_id, options or RunOptions(), preload or modules,
                             observer, resumed=completed, prior_attempts=prior)

    def _execute(self, spec: PipelineSpec, arguments: dict[str, Any], run_id: str, options: RunOptions,
                 preload: list[str], observer, resumed: dict | None = None,
                 prior_attempts: dict[str, int] | None = None) -> RunResult:
        started = time.time()
        metrics = RunMetrics(spec.name)
        # The caller's options are never written to: a reused RunOptions must not carry this
        # pipeline's cost function into the next run.
        coster = None if options.cost else TaskCoster({n: t.resources for n, t in spec.tasks.items()},
                                                      prices_from_profile(self.profile))
        metrics.run_started()
        try:
            graph = RunGraph(spec, arguments, run_id)
            artifact_root = self.profile.artifact_root
            scheduler = Scheduler(
                graph=graph, store=self.store, artifacts=open_artifact_store(artifact_root),
                artifact_root=artifact_root, home=self.home,
                recorder=RunRecorder(self.store, run_id, metrics, options.cost or coster),
                pool_factory=lambda events: WorkerPool(events, preload, [os.getcwd(), *sys.path]),
                options=options, observer=observer or (lambda event, inst: None), resumed=resumed or {},
                prior_attempts=prior_attempts or {},
            )
            scheduler.run()
        except KeyboardInterrupt:
            kube_local.cleanup(self.home / "runs" / run_id)
            self.store.set_run_status(run_id, "failed", error="interrupted; `conveyor resume` continues it")
            raise
        except MetadataStoreError:
            metrics.metadata_push(False)  # what MetadataDBUnreachable alerts on
            metrics.run_finished("failed", time.time() - started)
            self._deliver_metrics(metrics, options)
            raise
        except Exception as exc:  # any other failure still ends the run, never leaves it `running`
            self._record_crash(run_id, exc)
            metrics.run_finished("failed", time.time() - started)
            raise
        metrics.metadata_push(True)
        kube_local.cleanup(self.home / "runs" / run_id)
        status = "succeeded" if scheduler.succeeded() else "failed"
        if status == "succeeded":  # a failed run keeps it: `conveyor resume` continues with what is there
            shutil.rmtree(AttemptDir.workspace(self.home, run_id), ignore_errors=True)
        outputs = _pipeline_outputs(spec, graph)
        self.store.set_run_outputs(run_id, outputs)
        self.store.set_run_status(run_id, status, error=scheduler.first_error)
        warnings = scheduler.warnings + (coster.warnings() if coster else [])
        result = RunResult(run_id, spec.name, status, _summaries(graph), outputs, time.time() - started,
                           scheduler.first_error, warnings)
        metrics.run_finished(status, result.duration_s)
        self._deliver(result, metrics, options)
        return result

    def _record_crash(self, run_id: str, exc: Exception) -> None:
        """Mark the run failed with the (redacted) error; a store that fails here too must not hide `exc`."""
        error = redact(f"the runner failed: {type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            self.store.mark_stale_attempts(run_id, error=error)
            for task in self.store.list_tasks(run_id):
                if task.status in ("pending", "running"):
                    self.store.upsert_task(run_id, task.task_id, status="failed", error=error)
        with contextlib.suppress(Exception):
            self.store.set_run_status(run_id, "failed", error=error)

    def _deliver_metrics(self, metrics: RunMetrics, options: RunOptions) -> None:
        gateway = options.pushgateway or self.profile.pushgateway_url
        if gateway:
            metrics.push(gateway)
        if options.metrics_textfile:
            metrics.write_textfile(options.metrics_textfile)

    def _deliver(self, result: RunResult, metrics: RunMetrics, options: RunOptions) -> None:
        self._deliver_metrics(metrics, options)
        if not options.notify:
            return
        report = run_report(result, self.store)
        for target in options.notify:
            delivery = notifier_from_target(target).send(report)
            if not delivery.delivered:
                result.warnings.append(f"notification not delivered: {delivery.last_error}")


def run_report(result: RunResult, store: MetadataStore) -> RunReport:
    failed = next((t for t in result.tasks if t.status == "failed"), None)
    metrics: dict[str, float] = {}
    for record in store.list_metrics(result.run_id):
        metrics[record.name] = record.value
    costs = [t.cost_usd for t in result.tasks if t.cost_usd]
    saved = [t.saved_usd for t in result.tasks if t.saved_usd]
    return RunReport(
        run_id=result.run_id, pipeline=result.pipeline, status=result.status, duration_s=result.duration_s,
        failed_task=failed.name if failed else None, error=failed.error if failed else result.error,
        metrics=metrics, cached_count=sum(t.status == "cached" for t in result.tasks),
        total_count=len(result.tasks), cost_usd=sum(costs) if costs else None,
        saved_usd=sum(saved) if saved else None,
    )
