"""Every state change of a run, committed to the metadata store before the next step starts.

The scheduler decides; the recorder writes. Keeping writes in one place makes the crash-safety
argument easy to check: a task is `succeeded` in the store only after its outputs, digests,
lineage and metrics are recorded, so `resume` can trust any completed row it finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conveyor.executor.graph import Instance
from conveyor.metrics.run import RunMetrics
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

METRIC_ARTIFACT_TYPES = ("Metrics", "ClassificationMetrics")

CostFn = Callable[[str, float], float | None]  # (task name, duration_s) -> usd


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class RunRecorder:
    def __init__(self, store: MetadataStore, run_id: str, metrics: RunMetrics | None = None,
                 cost: CostFn | None = None):
        self.store = store
        self.run_id = run_id
        self.metrics = metrics
        self.cost = cost or (lambda task, seconds: None)

    # -- tasks -------------------------------------------------------------------------------
    def running(self, inst: Instance, cache_key: str | None, started_at: float, pid: int | None) -> int:
        return self.store.begin_attempt(self.run_id, inst.id, inst.task, inst.attempt_offset + inst.attempts,
                                        cache_key, pid=pid, now=started_at)

    def succeeded(self, inst: Instance, attempt_id: int, result: dict[str, Any], inputs: dict[str, Any],
                  peak_rss_mb: float | None, cpu_s: float | None, started_at: float,
                  cache_key: str | None, cache_ttl_s: float | None,
                  release: tuple[str, str] | None = None) -> float | None:
        """Record outputs, lineage, metrics, the cache entry and the task in one transaction, and give
        back the compute lease; returns the task's estimated cost."""
        ended = time.time()
        metrics = {}
        for art in result["artifacts"].values():
            if art.get("type") in METRIC_ARTIFACT_TYPES:
                metrics.update({k: float(v) for k, v in (art.get("metadata") or {}).items() if _numeric(v)})
        input_uris = [art["uri"] for value in inputs.values() for art in (value if isinstance(value, list) else [value])]
        duration = ended - started_at
        cost = self.cost(inst.task, duration)
        outputs = {"parameters": result["parameters"], "artifacts": result["artifacts"]}
        entry = None
        if cache_key is not None:
            entry = CacheEntry(key=cache_key, outputs=outputs, created_at=ended, duration_s=duration, cost_usd=cost,
                               source_run_id=self.run_id, source_task_id=inst.id, ttl_s=cache_ttl_s)
        self.store.complete_success(
            self.run_id, inst.id, attempt_id, outputs=outputs, input_uris=input_uris, metrics=metrics,
            task_fields={"duration_s": duration, "peak_rss_mb": peak_rss_mb, "cpu_time_s": cpu_s, "cost_usd": cost},
            peak_rss_mb=peak_rss_mb, cpu_time_s=cpu_s, cache_entry=entry, release=release, now=ended)
        if self.metrics:
            self.metrics.task_finished(inst.task, "succeeded", duration, peak_rss_mb=peak_rss_mb, cost_usd=cost,
                                       queue_wait_s=inst.queue_wait_s)
        return cost

    def attempt_failed(self, inst: Instance, attempt_id: int, failure: str, error: str, exit_code: int | None,
                       peak_rss_mb: float | None, cpu_s: float | None, will_retry: bool) -> None:
        self.store.finish_attempt(attempt_id, "failed", failure_class=failure, error=error, exit_code=exit_code,
                                  peak_rss_mb=peak_rss_mb, cpu_time_s=cpu_s)
        if will_retry:
            self.store.upsert_task(self.run_id, inst.id, status="pending", error=error)
            if self.metrics:
                self.metrics.retry(inst.task, failure)

    def failed(self, inst: Instance, error: str, started_at: float | None) -> None:
        ended = time.time()
        duration = ended - started_at if started_at else None
        self.store.upsert_task(self.run_id, inst.id, task_name=inst.task, status="failed", error=error,
                               ended_at=ended, duration_s=duration, now=ended)
        if self.metrics:
            self.metrics.task_finished(inst.task, "failed", duration or 0.0)

    def skipped(self, inst: Instance, reason: str) -> None:
        self.store.upsert_task(self.run_id, inst.id, task_name=inst.task, status="skipped", error=reason)

    def cached(self, inst: Instance, entry: CacheEntry, key: str) -> None:
        self.store.upsert_task(self.run_id, inst.id, task_name=inst.task, status="cached", cache_key=key,
                               outputs=entry.outputs, cached_from_run=entry.source_run_id,
                               cached_from_task=entry.source_task_id, saved_s=entry.duration_s,
                               duration_s=0.0, cost_usd=0.0)
        if self.metrics:
            self.metrics.task_finished(inst.task, "succeeded", 0.0, cached=True, saved_s=entry.duration_s or 0.0,
                                       saved_usd=entry.cost_usd)
