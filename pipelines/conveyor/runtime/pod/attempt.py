"""One pod = one attempt of one task: cache check, compute, record, hand outputs to Argo.

The writes mirror ``conveyor.executor.recorder.RunRecorder`` field for field (task row, attempt,
artifacts, lineage, metric values, cache entry), so `conveyor runs`/`show`/`resume` and the cache
cannot tell a pod's task from a locally run one. A task is ``succeeded`` only after its outputs
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
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from conveyor.ir.spec import PipelineSpec
from conveyor.metrics.run import RunMetrics
from conveyor.runtime.cachekey import task_cache_key
from conveyor.runtime.outcome import EXIT_PREEMPTED, RETRYABLE
from conveyor.runtime.pod.argv import PodArgs
from conveyor.runtime.pod.inputs import InputResolver, artifact_ref, instance_id, text_form
from conveyor.runtime.task import execute
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore, MetadataStoreError, NotFoundError

LEASE_S = 60.0
CACHE_WAIT_S = 3600.0
METRIC_ARTIFACT_TYPES = ("Metrics", "ClassificationMetrics")


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


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class PodAttempt:
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
        self.key: str | None = None
        self.attempt_id: int | None = None
        self.number = 0
        self._lease = threading.Event()

    # -- the whole attempt --------------------------------------------------------------------
    def run(self) -> int:
        self.ensure_run()
        with self.signals.interruptible():
            params, arts = InputResolver(self.spec, self.args, self.store).resolve()
        if self.task.caching and not self.args.no_cache:
            self.key = task_cache_key(self.component, params, arts)
            if self.try_cache() or not self.claim():
                return 0
        try:
            return self.compute(params, arts)
        finally:
            self.release()

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

    # -- cache -------------------------------------------------------------------------------
    def try_cache(self, entry: CacheEntry | None = None) -> bool:
        entry = entry or self.store.cache_lookup(self.key)
        if entry is None:
            return False
        with self.signals.interruptible():
            intact = all(self.artifacts.verify(a["uri"], a["digest"]) for a in entry.outputs.get("artifacts", {}).values())
        if not intact:
            log(f"task {self.task_id}: cache entry {self.key[:12]} failed verification (an output is gone); recomputing")
            self.store.cache_invalidate(self.key)
            return False
        self.store.upsert_task(self.run_id, self.task_id, task_name=self.args.task, status="cached", cache_key=self.key,
                               outputs=entry.outputs, cached_from_run=entry.source_run_id,
                               cached_from_task=entry.source_task_id, saved_s=entry.duration_s, duration_s=0.0,
                               cost_usd=0.0, error=None)
        self.write_outputs(entry.outputs, entry.source_run_id, entry.source_task_id)
        self.metrics.task_finished(self.args.task, "succeeded", 0.0, cached=True, saved_s=entry.duration_s or 0.0,
                                   saved_usd=entry.cost_usd)
        self.push_metrics()
        log(f"task {self.task_id}: cached (from {entry.source_run_id}/{entry.source_task_id})")
        return True

    def claim(self) -> bool:
        """Take the compute lease, or wait for the pod that holds it and reuse its result."""
        if not self.store.cache_claim(self.key, self.owner, LEASE_S):
            log(f"task {self.task_id}: another pod computes {self.key[:12]}; waiting for its result")
            with self.signals.interruptible():
                entry = self.store.cache_wait(self.key, CACHE_WAIT_S)
            if entry is not None and self.try_cache(entry):
                return False
            self.store.cache_claim(self.key, self.owner, LEASE_S)
        elif self.try_cache():  # the previous owner may have finished just before we claimed
            self.store.cache_release(self.key, self.owner)
            return False
        self._lease.set()
        threading.Thread(target=self._renew, daemon=True).start()
        return True

    def _renew(self) -> None:
        while self._lease.is_set():
            time.sleep(LEASE_S / 3)
            if self._lease.is_set():
                with contextlib.suppress(Exception):
                    self.store.cache_claim(self.key, self.owner, LEASE_S)

    def release(self) -> None:
        if self._lease.is_set():
            self._lease.clear()
            with contextlib.suppress(Exception):
                self.store.cache_release(self.key, self.owner)

    # -- compute -----------------------------------------------------------------------------
    def start_attempt(self, started: float) -> None:
        previous = self.store.list_attempts(self.run_id, self.task_id)
        for stale in (a for a in previous if a.status == "running"):  # its pod died without a word (OOM, kill -9)
            self.store.finish_attempt(stale.id, "failed", failure_class="killed",
                                      error="the pod ended without recording this attempt (killed or evicted)")
        self.number = len(previous) + 1
        self.store.upsert_task(self.run_id, self.task_id, task_name=self.args.task, status="running",
                               cache_key=self.key, started_at=started, error=None)
        self.attempt_id = self.store.start_attempt(self.run_id, self.task_id, self.number, pid=os.getpid(), now=started)

    def compute(self, params: dict[str, Any], arts: dict[str, Any]) -> int:
        started = time.time()
        self.start_attempt(started)
        log(f"task {self.task_id}: attempt {self.number} running")
        with tempfile.TemporaryDirectory(prefix="conveyor-task-") as work:
            request = {"run_id": self.run_id, "task_id": self.task_id,
                       "component": self.component.model_dump(mode="json"), "parameters": params,
                       "artifacts": arts, "artifact_root": self.artifact_root, "workdir": work,
                       "result": str(Path(work) / "result.json")}
            os.environ["CONVEYOR_TASK_ID"] = self.task_id
            try:
                with self.signals.interruptible():
                    code, result = execute(request)
            except Preempted:
                code, result = EXIT_PREEMPTED, {}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        rss_mb, cpu_s = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        if self.signals.preempted:
            return self.preempted(rss_mb, cpu_s)
        if code == 0 and result.get("status") == "succeeded":
            self.succeeded(result, arts, started, rss_mb, cpu_s)
            return 0
        return self.failed(code, result, started, rss_mb, cpu_s)

    def _cost(self, seconds: float) -> float | None:
        try:
            from conveyor.metrics.cost import estimate_task_cost

            return estimate_task_cost(self.task.resources, seconds)
        except Exception:  # noqa: BLE001 - a price table problem must not fail a finished task
            return None

    def succeeded(self, result: dict[str, Any], inputs: dict[str, Any], started: float, rss_mb: float,
                  cpu_s: float) -> None:
        ended = time.time()
        for name, art in result["artifacts"].items():
            self.store.record_artifact(art["uri"], art["digest"], art["size"], self.run_id, self.task_id, name,
                                       art.get("type"), art.get("metadata") or {}, now=ended)
            self.store.record_lineage(self.run_id, self.task_id, art["uri"], "out", now=ended)
            if art.get("type") in METRIC_ARTIFACT_TYPES:
                for metric, value in (art.get("metadata") or {}).items():
                    if _numeric(value):
                        self.store.record_metric(self.run_id, self.task_id, metric, float(value), now=ended)
        for value in inputs.values():
            for art in value if isinstance(value, list) else [value]:
                self.store.record_lineage(self.run_id, self.task_id, art["uri"], "in", now=ended)
        duration = ended - started
        cost = self._cost(duration)
        outputs = {"parameters": result["parameters"], "artifacts": result["artifacts"]}
        self.store.finish_attempt(self.attempt_id, "succeeded", peak_rss_mb=rss_mb, cpu_time_s=cpu_s, now=ended)
        if self.key is not None:
            self.store.cache_put(CacheEntry(key=self.key, outputs=outputs, created_at=ended, duration_s=duration,
                                            cost_usd=cost, source_run_id=self.run_id, source_task_id=self.task_id,
                                            ttl_s=self.component.cache_ttl_seconds))
        self.store.upsert_task(self.run_id, self.task_id, status="succeeded", outputs=outputs, ended_at=ended,
                               duration_s=duration, peak_rss_mb=rss_mb, cpu_time_s=cpu_s, cost_usd=cost,
                               error=None, now=ended)
        self.write_outputs(outputs, self.run_id, self.task_id)
        self.metrics.task_finished(self.args.task, "succeeded", duration, peak_rss_mb=rss_mb, cost_usd=cost,
                                   cacheable=self.key is not None)
        self.push_metrics()
        log(f"task {self.task_id}: succeeded in {duration:.2f} s")

    def failed(self, code: int, result: dict[str, Any], started: float, rss_mb: float, cpu_s: float) -> int:
        failure = result.get("failure_class") or "transient"
        error = result.get("error") or f"the task ended with code {code} and no result"
        will_retry = failure in RETRYABLE and self.number <= self.task.retry.num_retries
        self.store.finish_attempt(self.attempt_id, "failed", failure_class=failure, error=error, exit_code=code,
                                  peak_rss_mb=rss_mb, cpu_time_s=cpu_s)
        if will_retry:
            self.store.upsert_task(self.run_id, self.task_id, status="pending", error=error)
            self.metrics.retry(self.args.task, failure)
        else:
            ended = time.time()
            self.store.upsert_task(self.run_id, self.task_id, status="failed", error=error, ended_at=ended,
                                   duration_s=ended - started, now=ended)
            self.metrics.task_finished(self.args.task, "failed", ended - started)
        self.push_metrics()
        log(f"task {self.task_id}: attempt {self.number} failed ({failure}): {error}")
        return code

    def preempted(self, rss_mb: float, cpu_s: float) -> int:
        error = "preempted: SIGTERM (the node is draining or its spot capacity was reclaimed)"
        self.store.finish_attempt(self.attempt_id, "failed", failure_class="preempted", error=error,
                                  exit_code=EXIT_PREEMPTED, peak_rss_mb=rss_mb, cpu_time_s=cpu_s)
        self.store.upsert_task(self.run_id, self.task_id, status="pending", error=error)
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
