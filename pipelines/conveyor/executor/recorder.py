"""Every state change of a local run, committed to the metadata store before the next step starts.

The scheduler decides; the recorder writes, through ``conveyor.runtime.protocol.record`` and
``.hits`` (the same writes a pod makes), and adds the run's Prometheus metrics. A task is
`succeeded` in the store only after its outputs, digests, lineage and metrics are recorded (one
transaction), so `resume` can trust any completed row it finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from conveyor.executor.graph import Instance
from conveyor.metrics.run import RunMetrics
from conveyor.runtime.protocol import record
from conveyor.runtime.protocol.hits import mark_cached
from conveyor.runtime.protocol.messages import TaskRequest, TaskResult
from conveyor.runtime.protocol.record import Usage
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

CostFn = Callable[[str, float], float | None]  # (task name, duration_s) -> usd


class RunRecorder:
    def __init__(self, store: MetadataStore, run_id: str, metrics: RunMetrics | None = None,
                 cost: CostFn | None = None):
        self.store = store
        self.run_id = run_id
        self.metrics = metrics
        self.cost = cost or (lambda task, seconds: None)

    def running(self, inst: Instance, cache_key: str | None, started_at: float, pid: int | None) -> int:
        return record.begin(self.store, self.run_id, inst.id, inst.task, inst.attempt_offset + inst.attempts,
                            cache_key, pid, started_at)

    def succeeded(self, inst: Instance, attempt_id: int, result: TaskResult, request: TaskRequest, usage: Usage,
                  started_at: float, cache_key: str | None, cache_ttl_s: float | None,
                  release: tuple[str, str] | None = None) -> float | None:
        """Record the success in one transaction and give back the lease; returns the estimated cost."""
        cost = self.cost(inst.task, time.time() - started_at)
        ended = record.record_success(self.store, self.run_id, inst.id, attempt_id, result, request.artifacts, usage,
                                      started_at, cost, cache_key, cache_ttl_s, release)
        if self.metrics:
            self.metrics.task_finished(inst.task, "succeeded", ended - started_at, peak_rss_mb=usage.peak_rss_mb,
                                       cost_usd=cost, queue_wait_s=inst.queue_wait_s)
        return cost

    def attempt_failed(self, inst: Instance, attempt_id: int, failure: str, error: str, exit_code: int | None,
                       usage: Usage, will_retry: bool, started_at: float | None = None) -> None:
        record.record_attempt_failure(self.store, self.run_id, inst.id, inst.task, attempt_id, failure, error,
                                      exit_code, usage, will_retry, started_at, end_task=False)
        if will_retry and self.metrics:
            self.metrics.retry(inst.task, failure)

    def failed(self, inst: Instance, error: str, started_at: float | None) -> None:
        duration = record.record_task_failed(self.store, self.run_id, inst.id, inst.task, error, started_at)
        if self.metrics:
            self.metrics.task_finished(inst.task, "failed", duration or 0.0)

    def skipped(self, inst: Instance, reason: str) -> None:
        self.store.upsert_task(self.run_id, inst.id, task_name=inst.task, status="skipped", error=reason)

    def cached(self, inst: Instance, entry: CacheEntry, key: str) -> None:
        mark_cached(self.store, self.run_id, inst.id, inst.task, key, entry)
        if self.metrics:
            self.metrics.task_finished(inst.task, "succeeded", 0.0, cached=True, saved_s=entry.duration_s or 0.0,
                                       saved_usd=entry.cost_usd)
