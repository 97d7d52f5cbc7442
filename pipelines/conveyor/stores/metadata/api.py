"""The MetadataStore interface (its record types live in `model.py` and are re-exported here).

The executor, launcher and CLI code against this module only; SQLite and Postgres sit behind one
SQLAlchemy implementation (`sql.py`). Records are frozen dataclasses so that callers can never
mistake a snapshot for a live row. Times are float seconds since the epoch (UTC) everywhere: they
compare and subtract the same on every backend.

Every mutating method commits before it returns, so a runner killed right after a call leaves the
state it reported (crash safety, issue 3/8).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

# Re-exported: callers import the record types from api.
from conveyor.stores.metadata.model import (  # noqa: F401
    ATTEMPT_STATUSES,
    COMPLETED_TASK_STATUSES,
    DIRECTIONS,
    FAILURE_CLASSES,
    RUN_ORDERINGS,
    RUN_STATUSES,
    TASK_STATUSES,
    TERMINAL_RUN_STATUSES,
    UNSET,
    ArtifactRecord,
    AttemptRecord,
    AttemptStatus,
    CacheClaim,
    CacheEntry,
    ConsistencyReport,
    Direction,
    FailureClass,
    LineageRecord,
    MetadataStoreError,
    MetricRecord,
    NotFoundError,
    RunRecord,
    RunStatus,
    ScheduleRecord,
    TaskOutputs,
    TaskRecord,
    TaskStatus,
    _Unset,
)

if TYPE_CHECKING:
    from conveyor.stores.metadata.browse import RunBrowser


class MetadataStore(abc.ABC):
    """Runs, tasks, attempts, artifacts, lineage, metrics and the cache, behind one interface.

    Implementations must be safe to use from many processes at once (50 runners on SQLite,
    200 on Postgres) and from several threads of one process.
    """

    url: str  # redacted; safe to print

    # -- runs -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_run(self, run_id: str, pipeline_name: str, pipeline_digest: str, spec_json: str,
                   arguments: dict[str, Any] | None = None, profile_name: str = "local",
                   labels: dict[str, str] | None = None, status: RunStatus = "queued",
                   now: float | None = None) -> RunRecord:
        """Insert a run. Raises MetadataStoreError if `run_id` already exists."""

    @abc.abstractmethod
    def set_run_status(self, run_id: str, status: RunStatus, error: str | None = None,
                       now: float | None = None) -> RunRecord:
        """Move a run to `status`. `running` stamps started_at (once); terminal statuses stamp ended_at."""

    @abc.abstractmethod
    def set_run_outputs(self, run_id: str, outputs: dict[str, Any]) -> None:
        """Record the pipeline's own outputs (JSON-serialisable)."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """Raises NotFoundError if absent."""

    @abc.abstractmethod
    def list_runs(self, limit: int = 50, status: RunStatus | None = None, pipeline: str | None = None,
                  order_by: str = "-created_at") -> list[RunRecord]:
        """Newest first by default; `order_by` is one of RUN_ORDERINGS ("-" = descending)."""

    # -- tasks ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def upsert_task(self, run_id: str, task_id: str, *, task_name: str | _Unset = UNSET,
                    status: TaskStatus | _Unset = UNSET, cache_key: str | None | _Unset = UNSET,
                    outputs: dict[str, Any] | None | _Unset = UNSET,
                    cached_from_run: str | None | _Unset = UNSET,
                    cached_from_task: str | None | _Unset = UNSET, error: str | None | _Unset = UNSET,
                    started_at: float | None | _Unset = UNSET, ended_at: float | None | _Unset = UNSET,
                    duration_s: float | None | _Unset = UNSET, peak_rss_mb: float | None | _Unset = UNSET,
                    cpu_time_s: float | None | _Unset = UNSET, cost_usd: float | None | _Unset = UNSET,
                    saved_s: float | None | _Unset = UNSET, now: float | None = None) -> TaskRecord:
        """Create the task or update only the fields passed. Creating needs task_name and status."""

    @abc.abstractmethod
    def get_task(self, run_id: str, task_id: str) -> TaskRecord:
        """Raises NotFoundError if absent."""

    @abc.abstractmethod
    def list_tasks(self, run_id: str) -> list[TaskRecord]:
        """In creation order."""

    @abc.abstractmethod
    def completed_tasks(self, run_id: str) -> dict[str, TaskRecord]:
        """task_id → record for tasks that succeeded or were cached: what `resume` reuses."""

    # -- attempts -------------------------------------------------------------------------------
    @abc.abstractmethod
    def start_attempt(self, run_id: str, task_id: str, number: int, pid: int | None = None,
                      now: float | None = None) -> int:
        """Record a running attempt; returns its id. The task row must exist."""

    @abc.abstractmethod
    def finish_attempt(self, attempt_id: int, status: AttemptStatus, failure_class: FailureClass | None = None,
                       error: str | None = None, exit_code: int | None = None,
                       peak_rss_mb: float | None = None, cpu_time_s: float | None = None,
                       now: float | None = None) -> AttemptRecord:
        ...

    @abc.abstractmethod
    def list_attempts(self, run_id: str, task_id: str | None = None) -> list[AttemptRecord]:
        ...

    @abc.abstractmethod
    def mark_stale_attempts(self, run_id: str, failure_class: FailureClass = "killed",
                            error: str = "runner died while the attempt was running",
                            now: float | None = None) -> int:
        """Close every attempt of the run still `running` as failed; returns how many."""

    # -- artifacts and lineage ------------------------------------------------------------------
    @abc.abstractmethod
    def record_artifact(self, uri: str, digest: str, size: int, producer_run_id: str | None = None,
                        producer_task_id: str | None = None, output_name: str | None = None,
                        type_name: str | None = None, metadata: dict[str, Any] | None = None,
                        now: float | None = None) -> ArtifactRecord:
        """Idempotent per (producer run, producer task, output name): re-recording updates the row."""

    @abc.abstractmethod
    def find_artifacts(self, uri: str | None = None, digest: str | None = None,
                       run_id: str | None = None) -> list[ArtifactRecord]:
        ...

    @abc.abstractmethod
    def record_lineage(self, run_id: str, task_id: str, artifact: int | str, direction: Direction,
                       now: float | None = None) -> LineageRecord:
        """`artifact` is an artifact id or a URI (the newest artifact row with that URI). Idempotent."""

    @abc.abstractmethod
    def list_lineage(self, run_id: str | None = None, artifact_id: int | None = None) -> list[LineageRecord]:
        ...

    # -- metrics --------------------------------------------------------------------------------
    @abc.abstractmethod
    def record_metric(self, run_id: str, task_id: str, name: str, value: float,
                      now: float | None = None) -> None:
        """Last write per (run, task, name) wins, like KFP's log_metric."""

    @abc.abstractmethod
    def list_metrics(self, run_id: str, task_id: str | None = None) -> list[MetricRecord]:
        ...

    # -- cache ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def cache_lookup(self, key: str, max_staleness_s: float | None = None,
                     now: float | None = None) -> CacheEntry | None:
        """The entry for `key` unless absent or too old for its TTL or the caller's staleness."""

    @abc.abstractmethod
    def cache_put(self, entry: CacheEntry) -> None:
        """Insert or replace the entry for entry.key."""

    @abc.abstractmethod
    def cache_invalidate(self, key: str) -> bool:
        """Drop the entry (e.g. its artifacts failed verification). True if one existed."""

    @abc.abstractmethod
    def cache_list(self, limit: int | None = None, older_than_s: float | None = None,
                   now: float | None = None) -> list[CacheEntry]:
        """Newest first."""

    @abc.abstractmethod
    def cache_prune(self, older_than_s: float | None = None, expired: bool = True, all: bool = False,
                    now: float | None = None) -> int:
        """Delete entries past their own TTL (`expired`), older than `older_than_s`, or `all`."""

    @abc.abstractmethod
    def cache_claim(self, key: str, owner: str, lease_s: float, now: float | None = None) -> bool:
        """Atomically take (or renew) the compute lease on `key`. False while another live owner holds it.

        A lease past its expiry belongs to a dead owner and is taken over. Renew long computes by
        claiming again before `lease_s` runs out. After a successful claim, look the key up once
        more: the previous owner may have put its entry and released just before you claimed.
        """

    @abc.abstractmethod
    def cache_release(self, key: str, owner: str) -> bool:
        """Give the lease back (only the owner can). True if it was held by `owner`."""

    @abc.abstractmethod
    def get_claim(self, key: str) -> CacheClaim | None:
        ...

    @abc.abstractmethod
    def cache_wait(self, key: str, timeout_s: float, max_staleness_s: float | None = None,
                   poll_s: float = 0.05) -> CacheEntry | None:
        """Wait while another owner computes `key`.

        Returns the entry as soon as it appears. Returns None when the lease is released or expires
        with no entry (the owner failed or died: try `cache_claim` yourself), or on timeout.
        """

    # -- a task's start and successful end, each ONE transaction (crash-atomic, fewer commits) ----
    @abc.abstractmethod
    def begin_attempt(self, run_id: str, task_id: str, task_name: str, number: int, cache_key: str | None,
                      pid: int | None = None, now: float | None = None) -> int:
        """Mark the task running (creating it) and record attempt `number`; returns the attempt id."""

    @abc.abstractmethod
    def complete_success(self, run_id: str, task_id: str, attempt_id: int, *, outputs: dict[str, Any],
                         input_uris: list[str], metrics: dict[str, float], task_fields: dict[str, Any],
                         peak_rss_mb: float | None = None, cpu_time_s: float | None = None,
                         cache_entry: CacheEntry | None = None, release: tuple[str, str] | None = None,
                         now: float | None = None) -> None:
        """Everything a successful attempt records, all or nothing: output artifacts and lineage, input
        lineage, metrics, the attempt's end, the cache entry, the task row (succeeded, plus
        `task_fields` such as duration and cost) and the release of the compute lease `(key, owner)`."""

    @abc.abstractmethod
    def record_schedule(self, name: str, pipeline_name: str, cron: str, timezone: str | None = None,
                        namespace: str = "", now: float | None = None) -> ScheduleRecord:
        """Create or replace the schedule `name` (what `conveyor schedule` made); read by the explorer."""

    def browser(self) -> RunBrowser:
        """The explorer's read side: summary columns, keyset pages (stores/metadata/browse.py)."""
        raise NotImplementedError(f"{type(self).__name__} has no run browser")

    # -- checks and lifecycle -------------------------------------------------------------------
    @abc.abstractmethod
    def consistency_report(self, run_id: str) -> ConsistencyReport:
        """Every completed task has outputs whose artifacts carry digests and are recorded;
        no attempt is left running once the run has ended."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
