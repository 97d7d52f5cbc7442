"""RunMetrics: the small API the executor and launcher call while a run progresses.

Why a per-run object with its own registry: a process may run several pipelines (tests, a
notebook), and each run's metrics are pushed under its own grouping key (pipeline + instance).
Why delivery never raises: metrics are advisory; a down Pushgateway must not fail a training
run. A failed delivery logs one warning and is counted in `conveyor_metrics_push_failures_total`,
which the next successful delivery reports.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from conveyor.metrics import delivery
from conveyor.metrics.definitions import RETRY_REASONS, RUN_STATUSES, TASK_STATUSES, ConveyorMetrics

log = logging.getLogger("conveyor.metrics")

MIB = 2**20
DEFAULT_TIMEOUT_S = 5.0


def default_instance() -> str:
    """A stable name for this machine; CI runners with random hostnames should set the env var."""
    return os.environ.get("CONVEYOR_METRICS_INSTANCE") or socket.gethostname()


class RunMetrics:
    """Counts one pipeline's runs and tasks; call `push` or `write_textfile` to deliver them."""

    def __init__(
        self,
        pipeline: str,
        *,
        instance: str | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if not pipeline:
            raise ValueError("pipeline: must be a non-empty pipeline name")
        self.pipeline = pipeline
        self.instance = instance or default_instance()
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.m = ConveyorMetrics.create(self.registry)
        self._delivery = delivery.MergingDelivery(self.registry)
        self._started_at: float | None = None
        p = pipeline
        # Create the series alerts divide by, so a pipeline that only ever failed still has a
        # `succeeded` series at 0 and ratios evaluate instead of vanishing.
        self.m.runs_started.labels(p)
        for status in ("succeeded", "failed"):
            self.m.runs_finished.labels(p, status)
        self.m.cache_saved_seconds.labels(p)
        self.m.cache_saved_dollars.labels(p)
        self.m.metadata_push_failures.labels(p)
        self.m.metadata_last_failure.labels(p)
        self.m.metadata_last_success.labels(p)
        self.m.metrics_push_failures.labels(p)

    # -- runs -------------------------------------------------------------------------------
    def run_started(self) -> None:
        self._started_at = time.monotonic()
        self.m.runs_started.labels(self.pipeline).inc()

    def run_finished(self, status: str, duration_s: float | None = None) -> None:
        """`status` is one of succeeded, failed, cancelled; duration defaults to since run_started."""
        status = _check(status, RUN_STATUSES, "status")
        if duration_s is None:
            duration_s = time.monotonic() - self._started_at if self._started_at is not None else 0.0
        self.m.runs_finished.labels(self.pipeline, status).inc()
        self.m.run_duration.labels(self.pipeline, status).observe(max(duration_s, 0.0))

    # -- tasks ------------------------------------------------------------------------------
    def task_finished(
        self,
        task: str,
        status: str = "succeeded",
        duration_s: float = 0.0,
        *,
        cached: bool = False,
        cacheable: bool = True,
        saved_s: float = 0.0,
        peak_rss_mb: float | None = None,
        queue_wait_s: float | None = None,
        pool: str = "local",
        capacity: str = "local",
        cost_usd: float | None = None,
        saved_usd: float | None = None,
    ) -> None:
        """Record one task outcome. `task` is the IR task name, never an iteration or run id.

        A cached task counts a cache hit and the seconds (`saved_s`) and dollars (`saved_usd`) it
        avoided; its near-zero lookup time is not a task duration. An executed cacheable task counts
        a miss. `cacheable=False` tasks (caching disabled) count neither, so they cannot drag the
        hit ratio down.
        """
        p = self.pipeline
        hits, misses = self.m.cache_hits.labels(p, task), self.m.cache_misses.labels(p, task)
        if cached:
            hits.inc()
            if saved_s > 0:
                self.m.cache_saved_seconds.labels(p).inc(saved_s)
            if saved_usd:
                self.m.cache_saved_dollars.labels(p).inc(saved_usd)
            return
        status = _check(status, TASK_STATUSES, "status")
        if cacheable:
            misses.inc()
        self.m.task_duration.labels(p, task, status).observe(max(duration_s, 0.0))
        if queue_wait_s is not None:
            self.m.queue_wait.labels(p).observe(max(queue_wait_s, 0.0))
        if peak_rss_mb is not None:
            self.m.peak_memory.labels(p, task).observe(peak_rss_mb * MIB)
        if cost_usd:
            self.m.task_cost_dollars.labels(p, pool, capacity).inc(cost_usd)

    def retry(self, task: str, reason: str, pool: str = "local") -> None:
        """Count a retry; reasons outside transient/preempted/timeout are counted as `other`."""
        reason = reason if reason in RETRY_REASONS else "other"
        self.m.retries.labels(self.pipeline, task, reason, pool).inc()

    # -- metadata DB health (MetadataDBUnreachable) -----------------------------------------
    def metadata_push(self, ok: bool) -> None:
        """Record the outcome of a metadata DB write, after the store's own retries gave up."""
        now = time.time()
        if ok:
            self.m.metadata_last_success.labels(self.pipeline).set(now)
        else:
            self.m.metadata_push_failures.labels(self.pipeline).inc()
            self.m.metadata_last_failure.labels(self.pipeline).set(now)

    # -- delivery ---------------------------------------------------------------------------
    def push(self, gateway_url: str, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
        """Push to a Pushgateway under {pipeline, instance}; False (and a warning) on failure."""
        grouping = {"pipeline": self.pipeline, "instance": self.instance}
        return self._deliver(f"Pushgateway {gateway_url}", delivery.push, gateway_url, grouping, timeout)

    def write_textfile(self, path: str | os.PathLike[str]) -> bool:
        """Write for node-exporter's textfile collector; False (and a warning) on failure."""
        return self._deliver(f"textfile {path}", delivery.write_textfile, Path(path))

    def _deliver(self, where: str, fn, *args) -> bool:  # noqa: ANN001
        self.m.last_push.labels(self.pipeline).set(time.time())
        try:
            fn(self._delivery, *args)
        except Exception as exc:  # noqa: BLE001 - metrics must never fail a run
            self.m.metrics_push_failures.labels(self.pipeline).inc()
            log.warning("conveyor metrics: delivery to %s failed (%s: %s)", where, type(exc).__name__, exc)
            return False
        return True


def _check(value: str, allowed: tuple[str, ...], key: str) -> str:
    value = value.lower()
    if value not in allowed:
        raise ValueError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    return value
