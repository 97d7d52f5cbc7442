"""One pod = one attempt of one task: cache check, compute, record, hand outputs to Argo.

Every step goes through ``conveyor.runtime.protocol`` (the key, the gate, the records), the same
code the local scheduler calls, so `conveyor runs`/`show`/`resume` and the cache
cannot tell a pod's task from a locally run one; its log is captured and persisted by the same
``protocol.tasklog`` as a local attempt's. A task is ``succeeded`` only after its outputs
are stored and recorded, and the Argo output files are written last: a pod killed part-way
leaves nothing that a downstream task or a cache lookup would accept.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from conveyor.ir.spec import PipelineSpec
from conveyor.metrics.run import RunMetrics
from conveyor.runtime.outcome import EXIT_PREEMPTED, RETRYABLE
from conveyor.runtime.pod.argv import PodArgs
from conveyor.runtime.pod.inputs import InputResolver, instance_id
from conveyor.runtime.protocol.codec import artifact_ref, text_form
from conveyor.runtime.protocol.gate import CacheGate, Hit
from conveyor.runtime.protocol.hits import mark_cached
from conveyor.runtime.protocol.keys import task_key
from conveyor.runtime.protocol.messages import TaskRequest, TaskResult
from conveyor.runtime.protocol.record import Usage, begin, record_attempt_failure, record_success
from conveyor.runtime.protocol.tasklog import captured, persist_log
from conveyor.runtime.task import execute
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore, MetadataStoreError, NotFoundError


class Preempted(BaseException):  # noqa: N818 - a signal, not an error: user `except Exception` must not eat it
    """SIGTERM arrived: the node is draining or a spot instance is being reclaimed."""


class Signals:
    """SIGTERM raises ``Preempted`` only inside ``interruptible()`` (inputs, compute, uploads);
    during metadata writes it is only remembered, so a row is never half-written."""

    def __init__(self) -> None:
        self.preempted = False
        self._interruptible = False

    def handler(self, signum: int, frame: object) -> None:
        self.preempted = True
        if self._interruptible:
            raise Preempted()

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        self._interruptible = True
        try:
            if self.preempted:
                raise Preempted()
            yield
        finally:
            self._interruptible = False


def log(message: str) -> None:
    print(f"conveyor: {message}", file=sys.stderr, flush=True)

class PodAttempt:
    """One attempt, through ``conveyor.runtime.protocol``: the same key, gate and records as local mode."""

    def __init__(self, spec: PipelineSpec, args: PodArgs, store: MetadataStore, artifacts: ArtifactStore,
                 artifact_root: str, signals: Signals, environ: Mapping[str, str]):
        self.spec, self.args, self.store, self.artifacts = spec, args, store, artifacts
        self.artifact_root, self.signals, self.environ = artifact_root, signals, environ
        self.task = spec.tasks[args.task]
        self.component = spec.component_of(args.task)
        self.run_id = args.run_id
        self.task_id = instance_id(spec, args)
        self.owner = f"{self.run_id}/{self.task_id}@{socket.gethostname()}"
        self.metrics = RunMetrics(spec.name, instance=environ.get("CONVEYOR_METRICS_INSTANCE") or "argo")
        self.gate = CacheGate(store, artifacts)
        self.key: str | None = None
        self.attempt_id: int | None = None
        self.number = 0

    # -- the whole attempt --------------------------------------------------------------------
    def run(self) -> int:
        self.ensure_run()
        with self.signals.interruptible():
            params, arts = InputResolver(self.spec, self.args, self.store).resolve()
        self.key = task_key(self.spec, self.args.task, params, arts, use_cache=not self.args.no_cache)
        try:
            if self.key is not None:
                with self.signals.interruptible():
                    decision = self.gate.acquire(self.key, self.owner)
                if isinstance(decision, Hit):
                    self.cached(decision.entry)
                    return 0
                with self.gate.leases.kept_alive():
                    return self.compute(params, arts)
            return self.compute(params, arts)
        finally:
            self.gate.close()

    def ensure_run(self) -> None:
        """A scheduled (cron) run has no launcher to create its row: the first pod does."""
        try:
            self.store.get_run(self.run_id)
            return
        except NotFoundError:
            pass
        with contextlib.suppress(MetadataStoreError):  # a sibling pod created it first
            self.store.create_run(self.run_id, self.spec.name, self.spec.digest(), self.spec.to_json(), {},
                                  self.environ.get("CONVEYOR_ENVIRONMENT", "cluster"), {"executor": "argo"},
                                  status="running")

    def cached(self, entry: CacheEntry) -> None:
        mark_cached(self.store, self.run_id, self.task_id, self.args.task, self.key, entry)
        self.write_outputs(entry.outputs, entry.source_run_id, entry.source_task_id)
        self.metrics.task_finished(self.args.task, "succeeded", 0.0, cached=True, saved_s=entry.duration_s or 0.0,
                                   saved_usd=entry.cost_usd)
        self.push_metrics()
        log(f"task {self.task_id}: cached (from {entry.source_run_id}/{entry.source_task_id})")

    # -- compute -----------------------------------------------------------------------------
    def start_attempt(self, started: float) -> None:
        previous = self.store.list_attempts(self.run_id, self.task_id)
        for stale in (a for a in previous if a.status == "running"):  # its pod died without a word (OOM, kill -9)
            self.store.finish_attempt(stale.id, "failed", failure_class="killed",
                                      error="the pod ended without recording this attempt (killed or evicted)")
        self.number = len(previous) + 1
        self.attempt_id = begin(self.store, self.run_id, self.task_id, self.args.task, self.number, self.key,
                                os.getpid(), started)

    def compute(self, params: dict[str, Any], arts: dict[str, Any]) -> int:
        started = time.time()
        self.start_attempt(started)
        log(f"task {self.task_id}: attempt {self.number} running")
        with tempfile.TemporaryDirectory(prefix="conveyor-task-") as work:
            request = TaskRequest(run_id=self.run_id, task_id=self.task_id, component=self.component,
                                  parameters=params, artifacts=arts, artifact_root=self.artifact_root,
                                  workdir=work, result=str(Path(work) / "result.json"), workspace=self.args.workspace)
            os.environ["CONVEYOR_TASK_ID"] = self.task_id
            log_path = Path(work) / "log.txt"
            try:
                with captured(log_path), self.signals.interruptible():  # restored outside the SIGTERM window
                    code, result = execute(request)
            except Preempted:
                code, result = EXIT_PREEMPTED, None
            persist_log(self.store, self.artifacts, self.run_id, self.task_id, self.number, log_path)
        usage_now = resource.getrusage(resource.RUSAGE_SELF)
        usage = Usage(usage_now.ru_maxrss / 1024, usage_now.ru_utime + usage_now.ru_stime)
        if self.signals.preempted or result is None:
            return self.preempted(usage)
        if code == 0 and result.succeeded:
            self.succeeded(result, arts, started, usage)
            return 0
        return self.failed(code, result, started, usage)

    def _cost(self, seconds: float) -> float | None:
        try:
            from conveyor.metrics.cost import estimate_task_cost

            return estimate_task_cost(self.task.resources, seconds)
        except Exception:  # noqa: BLE001 - a price table problem must not fail a finished task
            return None

    def succeeded(self, result: TaskResult, inputs: dict[str, Any], started: float, usage: Usage) -> None:
        cost = self._cost(time.time() - started)
        ended = record_success(self.store, self.run_id, self.task_id, self.attempt_id, result, inputs, usage, started,
                               cost, self.key, self.component.cache_ttl_seconds, self.gate.leases.hand_back(self.key))
        self.write_outputs(result.outputs, self.run_id, self.task_id)
        self.metrics.task_finished(self.args.task, "succeeded", ended - started, peak_rss_mb=usage.peak_rss_mb,
                                   cost_usd=cost, cacheable=self.key is not None)
        self.push_metrics()
        log(f"task {self.task_id}: succeeded in {ended - started:.2f} s")

    def failed(self, code: int, result: TaskResult, started: float, usage: Usage) -> int:
        failure = result.failure_class or "transient"
        error = result.error or f"the task ended with code {code} and no result"
        will_retry = failure in RETRYABLE and self.number <= self.task.retry.num_retries
        record_attempt_failure(self.store, self.run_id, self.task_id, self.args.task, self.attempt_id, failure,
                               error, code, usage, will_retry, started)
        if will_retry:
            self.metrics.retry(self.args.task, failure)
        else:
            self.metrics.task_finished(self.args.task, "failed", time.time() - started)
        self.push_metrics()
        log(f"task {self.task_id}: attempt {self.number} failed ({failure}): {error}")
        return code

    def preempted(self, usage: Usage) -> int:
        error = "preempted: SIGTERM (the node is draining or its spot capacity was reclaimed)"
        record_attempt_failure(self.store, self.run_id, self.task_id, self.args.task, self.attempt_id, "preempted",
                               error, EXIT_PREEMPTED, usage, True, None)
        self.metrics.retry(self.args.task, "preempted")
        self.push_metrics()
        log(f"task {self.task_id}: attempt {self.number} preempted; Argo retries it")
        return EXIT_PREEMPTED

    # -- hand-off ----------------------------------------------------------------------------
    def write_outputs(self, outputs: dict[str, Any], run_id: str | None, task_id: str | None) -> None:
        """Each output as text in --outputs-dir, where Argo reads its output parameters."""
        out = Path(self.args.outputs_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, value in outputs.get("parameters", {}).items():
            (out / name).write_text(text_form(value))
        for name, art in outputs.get("artifacts", {}).items():
            (out / name).write_text(artifact_ref(art, run_id, task_id, name))

    def push_metrics(self) -> None:
        gateway = self.environ.get("CONVEYOR_PUSHGATEWAY_URL")
        if gateway:
            self.metrics.push(gateway)
