"""Every metric the conveyor runtime emits, created on a caller-owned CollectorRegistry.

Why one place: the alert rules and dashboards in components/assets/monitoring/ query these
names, and tests/monitoring checks that every `conveyor_*` name they use is defined here.
Why a private registry: the global default registry is shared with whatever else runs in
the process (a notebook, a library exporting its own metrics), and pushing it would send
those too, under our grouping key.

Label rules: `pipeline`, `task` (the IR task name, never an iteration or run id), `status`,
`reason`, `pool`, `capacity` — all bounded by pipeline definitions and cluster config.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

NAMESPACE = "conveyor"

# Seconds: from sub-second toy tasks to day-long training jobs.
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400)
# Queue wait: scheduler slots locally, pending pods / scale-up on a cluster.
QUEUE_BUCKETS = (0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
# Bytes: 64 MiB doubling to 64 GiB.
MEMORY_BUCKETS = tuple(float(64 * 2**20 * 2**i) for i in range(11))

RUN_STATUSES = ("succeeded", "failed", "cancelled")
TASK_STATUSES = ("succeeded", "failed", "cancelled", "skipped")
RETRY_REASONS = ("transient", "preempted", "timeout", "other")
CAPACITIES = ("on-demand", "spot", "local")


@dataclass(frozen=True)
class ConveyorMetrics:
    """The metric objects; built by `create(registry)`, shared by RunMetrics and delivery."""

    runs_started: Counter
    runs_finished: Counter
    run_duration: Histogram
    task_duration: Histogram
    cache_hits: Counter
    cache_misses: Counter
    cache_saved_seconds: Counter
    cache_saved_dollars: Counter
    task_cost_dollars: Counter
    retries: Counter
    queue_wait: Histogram
    peak_memory: Histogram
    metadata_push_failures: Counter
    metadata_last_failure: Gauge
    metadata_last_success: Gauge
    metrics_push_failures: Counter
    last_push: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ConveyorMetrics:
        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(name, doc, labels, namespace=NAMESPACE, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...]) -> Gauge:
            return Gauge(name, doc, labels, namespace=NAMESPACE, registry=registry)

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labels, namespace=NAMESPACE, registry=registry, buckets=buckets)

        return cls(
            runs_started=counter("runs_started", "Pipeline runs started.", ("pipeline",)),
            runs_finished=counter(
                "runs_finished", "Pipeline runs finished, by final status.", ("pipeline", "status")
            ),
            run_duration=histogram(
                "run_duration_seconds", "Wall time of whole runs.", ("pipeline", "status"), DURATION_BUCKETS
            ),
            task_duration=histogram(
                "task_duration_seconds",
                "Wall time of executed (not cached) tasks.",
                ("pipeline", "task", "status"),
                DURATION_BUCKETS,
            ),
            cache_hits=counter("cache_hits", "Tasks served from the cache.", ("pipeline", "task")),
            cache_misses=counter("cache_misses", "Cache lookups that had to execute.", ("pipeline", "task")),
            cache_saved_seconds=counter(
                "cache_saved_seconds", "Task seconds the cache avoided (original durations).", ("pipeline",)
            ),
            cache_saved_dollars=counter(
                "cache_saved_dollars", "Estimated cost the cache avoided, USD.", ("pipeline",)
            ),
            task_cost_dollars=counter(
                "task_cost_dollars",
                "Estimated cost of executed tasks, USD.",
                ("pipeline", "pool", "capacity"),
            ),
            retries=counter(
                "task_retries", "Task retries by reason.", ("pipeline", "task", "reason", "pool")
            ),
            queue_wait=histogram(
                "task_queue_wait_seconds", "Time from ready to started.", ("pipeline",), QUEUE_BUCKETS
            ),
            peak_memory=histogram(
                "task_peak_memory_bytes", "Peak RSS of a task.", ("pipeline", "task"), MEMORY_BUCKETS
            ),
            metadata_push_failures=counter(
                "metadata_push_failures", "Writes to the metadata DB that failed.", ("pipeline",)
            ),
            metadata_last_failure=gauge(
                "metadata_last_failure_timestamp_seconds",
                "Unix time of the latest failed metadata DB write (0 = never).",
                ("pipeline",),
            ),
            metadata_last_success=gauge(
                "metadata_last_success_timestamp_seconds",
                "Unix time of the latest successful metadata DB write (0 = never).",
                ("pipeline",),
            ),
            metrics_push_failures=counter(
                "metrics_push_failures",
                "Failed deliveries of these metrics; reported by the next delivery that succeeds.",
                ("pipeline",),
            ),
            last_push=gauge(
                "metrics_last_push_timestamp_seconds", "Unix time of this delivery.", ("pipeline",)
            ),
        )


def metric_names() -> set[str]:
    """Every series name (with `_total`, `_bucket`, … suffixes) these metrics expose."""
    registry = CollectorRegistry()
    ConveyorMetrics.create(registry)
    names: set[str] = set()
    for family in registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return names
