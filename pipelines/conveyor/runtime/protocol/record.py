"""What a task attempt writes to the metadata store, the same for a local process and a pod.

- :func:`begin` - the task row ``running`` and attempt ``number``: one transaction;
- :func:`record_success` - output artifacts and lineage, input lineage, metric values, the
  attempt's end, the cache entry, the task row ``succeeded`` and the release of the compute
  lease: ONE transaction, so a process killed part-way leaves all of it or none;
- :func:`record_attempt_failure` - the attempt's end, and the task back to ``pending`` when
  another attempt follows, or ``failed`` when none does.

Metric values come from ``Metrics`` / ``ClassificationMetrics`` outputs' numeric metadata.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from conveyor.runtime.protocol.messages import TaskResult
from conveyor.stores.metadata.api import CacheEntry, MetadataStore

METRIC_ARTIFACT_TYPES = ("Metrics", "ClassificationMetrics")


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def metric_values(outputs: dict[str, Any]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for art in (outputs.get("artifacts") or {}).values():
        if art.get("type") in METRIC_ARTIFACT_TYPES:
            metrics.update({k: float(v) for k, v in (art.get("metadata") or {}).items() if _numeric(v)})
    return metrics


def input_uris(artifacts: dict[str, Any]) -> list[str]:
    return [a["uri"] for v in artifacts.values() for a in (v if isinstance(v, list) else [v])]


@dataclass(frozen=True)
class Usage:
    """What the attempt cost in resources (None where unknown)."""

    peak_rss_mb: float | None = None
    cpu_s: float | None = None


def begin(store: MetadataStore, run_id: str, task_id: str, task_name: str, number: int, key: str | None,
          pid: int | None, started_at: float) -> int:
    return store.begin_attempt(run_id, task_id, task_name, number, key, pid=pid, now=started_at)


def record_success(store: MetadataStore, run_id: str, task_id: str, attempt_id: int, result: TaskResult,
                   input_artifacts: dict[str, Any], usage: Usage, started_at: float, cost_usd: float | None,
                   key: str | None, ttl_s: float | None, release: tuple[str, str] | None) -> float:
    """Record the success in one transaction; returns its end time."""
    ended = time.time()
    duration = ended - started_at
    outputs = result.outputs
    entry = None
    if key is not None:
        entry = CacheEntry(key=key, outputs=outputs, created_at=ended, duration_s=duration, cost_usd=cost_usd,
                           source_run_id=run_id, source_task_id=task_id, ttl_s=ttl_s)
    store.complete_success(
        run_id, task_id, attempt_id, outputs=outputs, input_uris=input_uris(input_artifacts),
        metrics=metric_values(outputs),
        task_fields={"duration_s": duration, "peak_rss_mb": usage.peak_rss_mb, "cpu_time_s": usage.cpu_s,
                     "cost_usd": cost_usd},
        peak_rss_mb=usage.peak_rss_mb, cpu_time_s=usage.cpu_s, cache_entry=entry, release=release, now=ended)
    return ended


def record_attempt_failure(store: MetadataStore, run_id: str, task_id: str, task_name: str, attempt_id: int,
                           failure: str, error: str, exit_code: int | None, usage: Usage, will_retry: bool,
                           started_at: float | None, end_task: bool = True) -> None:
    """End the attempt as failed; the task goes back to ``pending`` (a retry follows) or, with
    ``end_task``, ``failed`` (the local scheduler ends it itself, with the run's failure)."""
    store.finish_attempt(attempt_id, "failed", failure_class=failure, error=error, exit_code=exit_code,
                         peak_rss_mb=usage.peak_rss_mb, cpu_time_s=usage.cpu_s)
    if will_retry:
        store.upsert_task(run_id, task_id, status="pending", error=error)
    elif end_task:
        record_task_failed(store, run_id, task_id, task_name, error, started_at)


def record_task_failed(store: MetadataStore, run_id: str, task_id: str, task_name: str, error: str,
                       started_at: float | None) -> float | None:
    """The task row ``failed``; returns its duration when it had started."""
    ended = time.time()
    duration = ended - started_at if started_at else None
    store.upsert_task(run_id, task_id, task_name=task_name, status="failed", error=error, ended_at=ended,
                      duration_s=duration, now=ended)
    return duration
