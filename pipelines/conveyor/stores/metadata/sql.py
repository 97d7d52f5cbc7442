"""SqlMetadataStore: the one MetadataStore implementation, for SQLite and Postgres alike.

This class only chooses the transaction kind (read or write) and the clock; the SQL lives in
runs.py, records.py, cache.py and consistency.py. Every write runs in its own transaction that is
committed before the method returns (crash safety) and retried on lock contention or connection
loss (see engine.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL

from conveyor.stores.metadata import cache, consistency, lifecycle, migrate, records, runs, schedules
from conveyor.stores.metadata.api import (
    UNSET,
    ArtifactRecord,
    AttemptRecord,
    CacheClaim,
    CacheEntry,
    ConsistencyReport,
    LineageRecord,
    MetadataStore,
    MetadataStoreError,
    MetricRecord,
    RunRecord,
    ScheduleRecord,
    TaskRecord,
)
from conveyor.stores.metadata.engine import SQLITE_BUSY_TIMEOUT_MS, Transactor, begin_write, build_engine
from conveyor.stores.metadata.urls import redact_url


class SqlMetadataStore(MetadataStore):
    def __init__(self, url: URL, *, clock: Callable[[], float] = time.time, retry_deadline_s: float = 60.0,
                 pool_size: int = 2, max_overflow: int = 8, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                 migrate_schema: bool = True, reach_deadline_s: float = 0.0):
        self.url = redact_url(url.render_as_string(hide_password=False))
        self.backend = url.get_backend_name()
        self._clock = clock
        try:
            engine = build_engine(url, pool_size=pool_size, max_overflow=max_overflow, busy_timeout_ms=busy_timeout_ms)
        except OSError as exc:
            raise MetadataStoreError(f"cannot open metadata store {self.url}: {exc.strerror or exc}") from None
        self._tx = Transactor(engine, url, self.url, retry_deadline_s=retry_deadline_s)
        self._tx.ping(reach_deadline_s)
        if migrate_schema:
            try:
                migrate.ensure_schema(engine, self.url, begin_write)
            except MetadataStoreError:
                raise
            except Exception as exc:  # a driver/alembic failure: name the URL, keep secrets out
                raise MetadataStoreError(
                    f"cannot migrate metadata store {self.url}: {type(exc).__name__}: {redact_url(str(exc))[:500]}"
                ) from None

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.url!r})"

    def browser(self):
        from conveyor.stores.metadata.browse_sql import SqlRunBrowser

        return SqlRunBrowser(self._tx)

    @property
    def engine(self):
        return self._tx.engine

    @property
    def retries(self) -> int:
        return self._tx.retries

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    # -- runs -----------------------------------------------------------------------------------
    def create_run(self, run_id, pipeline_name, pipeline_digest, spec_json, arguments=None, profile_name="local",
                   labels=None, status="queued", now=None) -> RunRecord:
        t = self._now(now)
        return self._tx.write(lambda c: runs.create_run(
            c, run_id, pipeline_name, pipeline_digest, spec_json, arguments or {}, profile_name, labels or {},
            status, t))

    def set_run_status(self, run_id, status, error=None, now=None) -> RunRecord:
        t = self._now(now)
        return self._tx.write(lambda c: runs.set_run_status(c, run_id, status, error, t))

    def set_run_outputs(self, run_id, outputs) -> None:
        self._tx.write(lambda c: runs.set_run_outputs(c, run_id, outputs))

    def get_run(self, run_id) -> RunRecord:
        return self._tx.read(lambda c: runs.get_run(c, run_id))

    def list_runs(self, limit=50, status=None, pipeline=None, order_by="-created_at") -> list[RunRecord]:
        return self._tx.read(lambda c: runs.list_runs(c, limit, status, pipeline, order_by))

    # -- tasks ----------------------------------------------------------------------------------
    def upsert_task(self, run_id, task_id, *, task_name=UNSET, status=UNSET, cache_key=UNSET, outputs=UNSET,
                    cached_from_run=UNSET, cached_from_task=UNSET, error=UNSET, started_at=UNSET, ended_at=UNSET,
                    duration_s=UNSET, peak_rss_mb=UNSET, cpu_time_s=UNSET, cost_usd=UNSET, saved_s=UNSET,
                    now=None) -> TaskRecord:
        fields: dict[str, Any] = dict(
            task_name=task_name, status=status, cache_key=cache_key, outputs=outputs,
            cached_from_run=cached_from_run, cached_from_task=cached_from_task, error=error,
            started_at=started_at, ended_at=ended_at, duration_s=duration_s, peak_rss_mb=peak_rss_mb,
            cpu_time_s=cpu_time_s, cost_usd=cost_usd, saved_s=saved_s)
        t = self._now(now)
        return self._tx.write(lambda c: runs.upsert_task(c, run_id, task_id, fields, t))

    def get_task(self, run_id, task_id) -> TaskRecord:
        return self._tx.read(lambda c: runs.get_task(c, run_id, task_id))

    def list_tasks(self, run_id) -> list[TaskRecord]:
        return self._tx.read(lambda c: runs.list_tasks(c, run_id))

    def completed_tasks(self, run_id) -> dict[str, TaskRecord]:
        return self._tx.read(lambda c: runs.completed_tasks(c, run_id))

    def begin_attempt(self, run_id, task_id, task_name, number, cache_key, pid=None, now=None) -> int:
        t = self._now(now)
        return self._tx.write(lambda c: lifecycle.begin_attempt(c, run_id, task_id, task_name, number, cache_key,
                                                                pid, t))

    def complete_success(self, run_id, task_id, attempt_id, *, outputs, input_uris, metrics, task_fields,
                         peak_rss_mb=None, cpu_time_s=None, cache_entry=None, release=None, now=None) -> None:
        t = self._now(now)
        self._tx.write(lambda c: lifecycle.complete_success(
            c, run_id, task_id, attempt_id, outputs=outputs, input_uris=input_uris, metrics=metrics,
            task_fields=task_fields, peak_rss_mb=peak_rss_mb, cpu_time_s=cpu_time_s, cache_entry=cache_entry,
            release=release, now=t))

    # -- attempts -------------------------------------------------------------------------------
    def start_attempt(self, run_id, task_id, number, pid=None, now=None) -> int:
        t = self._now(now)
        return self._tx.write(lambda c: runs.start_attempt(c, run_id, task_id, number, pid, t))

    def finish_attempt(self, attempt_id, status, failure_class=None, error=None, exit_code=None, peak_rss_mb=None,
                       cpu_time_s=None, now=None) -> AttemptRecord:
        t = self._now(now)
        return self._tx.write(lambda c: runs.finish_attempt(
            c, attempt_id, status, failure_class, error, exit_code, peak_rss_mb, cpu_time_s, t))

    def list_attempts(self, run_id, task_id=None) -> list[AttemptRecord]:
        return self._tx.read(lambda c: runs.list_attempts(c, run_id, task_id))

    def mark_stale_attempts(self, run_id, failure_class="killed",
                            error="runner died while the attempt was running", now=None) -> int:
        t = self._now(now)
        return self._tx.write(lambda c: runs.mark_stale_attempts(c, run_id, failure_class, error, t))

    # -- artifacts, lineage, metrics ------------------------------------------------------------
    def record_artifact(self, uri, digest, size, producer_run_id=None, producer_task_id=None, output_name=None,
                        type_name=None, metadata=None, now=None) -> ArtifactRecord:
        t = self._now(now)
        return self._tx.write(lambda c: records.record_artifact(
            c, uri, digest, size, producer_run_id, producer_task_id, output_name, type_name, metadata or {}, t))

    def find_artifacts(self, uri=None, digest=None, run_id=None) -> list[ArtifactRecord]:
        return self._tx.read(lambda c: records.find_artifacts(c, uri, digest, run_id))

    def record_lineage(self, run_id, task_id, artifact, direction, now=None) -> LineageRecord:
        t = self._now(now)
        return self._tx.write(lambda c: records.record_lineage(c, run_id, task_id, artifact, direction, t))

    def list_lineage(self, run_id=None, artifact_id=None) -> list[LineageRecord]:
        return self._tx.read(lambda c: records.list_lineage(c, run_id, artifact_id))

    def record_metric(self, run_id, task_id, name, value, now=None) -> None:
        t = self._now(now)
        self._tx.write(lambda c: records.record_metric(c, run_id, task_id, name, value, t))

    def list_metrics(self, run_id, task_id=None) -> list[MetricRecord]:
        return self._tx.read(lambda c: records.list_metrics(c, run_id, task_id))

    # -- cache ----------------------------------------------------------------------------------
    def cache_lookup(self, key, max_staleness_s=None, now=None) -> CacheEntry | None:
        t = self._now(now)
        return self._tx.read(lambda c: cache.lookup(c, key, max_staleness_s, t))

    def cache_put(self, entry: CacheEntry) -> None:
        self._tx.write(lambda c: cache.put(c, entry))

    def cache_invalidate(self, key) -> bool:
        return self._tx.write(lambda c: cache.invalidate(c, key))

    def cache_list(self, limit=None, older_than_s=None, now=None) -> list[CacheEntry]:
        t = self._now(now)
        return self._tx.read(lambda c: cache.list_entries(c, limit, older_than_s, t))

    def cache_prune(self, older_than_s=None, expired=True, all=False, now=None) -> int:
        t = self._now(now)
        return self._tx.write(lambda c: cache.prune(c, older_than_s, expired, all, t))

    def cache_claim(self, key, owner, lease_s, now=None) -> bool:
        t = self._now(now)
        return self._tx.write(lambda c: cache.claim(c, key, owner, lease_s, t))

    def cache_release(self, key, owner) -> bool:
        return self._tx.write(lambda c: cache.release(c, key, owner))

    def get_claim(self, key) -> CacheClaim | None:
        return self._tx.read(lambda c: cache.get_claim(c, key))

    def cache_wait(self, key, timeout_s, max_staleness_s=None, poll_s=0.05) -> CacheEntry | None:
        deadline = time.monotonic() + timeout_s
        while True:
            entry = self.cache_lookup(key, max_staleness_s)
            if entry is not None:
                return entry
            held = self.get_claim(key)
            if held is None or held.expires_at < self._clock():
                # Released (or abandoned) without a result — unless the result landed just now.
                return self.cache_lookup(key, max_staleness_s)
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll_s)

    # -- schedules ------------------------------------------------------------------------------
    def record_schedule(self, name, pipeline_name, cron, timezone=None, namespace="", now=None) -> ScheduleRecord:
        t = self._now(now)
        return self._tx.write(lambda c: schedules.record_schedule(c, name, pipeline_name, cron, timezone, namespace,
                                                                  t))

    # -- checks and lifecycle -------------------------------------------------------------------
    def consistency_report(self, run_id) -> ConsistencyReport:
        return self._tx.read(lambda c: consistency.report(c, run_id))

    def close(self) -> None:
        self._tx.engine.dispose()
