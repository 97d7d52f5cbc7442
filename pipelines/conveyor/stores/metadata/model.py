"""The metadata store's record types, statuses and errors: what every layer reads, with no behaviour.

Split from `api.py` so the interface stays one page; `api.py` re-exports every name, so callers
import from either. Records are frozen dataclasses so that callers can never mistake a snapshot for
a live row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from conveyor.stores.metadata.timing import Timed

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TaskStatus = Literal["pending", "running", "succeeded", "cached", "skipped", "failed"]
AttemptStatus = Literal["running", "succeeded", "failed"]
FailureClass = Literal["transient", "permanent", "preempted", "timeout", "killed"]
Direction = Literal["in", "out"]

RUN_STATUSES: Final = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL_RUN_STATUSES: Final = ("succeeded", "failed", "cancelled")
TASK_STATUSES: Final = ("pending", "running", "succeeded", "cached", "skipped", "failed")
COMPLETED_TASK_STATUSES: Final = ("succeeded", "cached")
ATTEMPT_STATUSES: Final = ("running", "succeeded", "failed")
FAILURE_CLASSES: Final = ("transient", "permanent", "preempted", "timeout", "killed")
DIRECTIONS: Final = ("in", "out")
RUN_ORDERINGS: Final = ("created_at", "-created_at", "cost", "-cost", "duration", "-duration")


class _Unset:
    """Marks a field an update leaves alone (None means "set to NULL")."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


class MetadataStoreError(Exception):
    """Any failure of the metadata store. Messages name the (redacted) URL and the cause."""


class NotFoundError(MetadataStoreError):
    """A run/task/attempt/artifact that the caller named does not exist."""


@dataclass(frozen=True)
class RunRecord(Timed):
    run_id: str
    pipeline_name: str
    pipeline_digest: str
    spec_json: str
    arguments: dict[str, Any]
    profile_name: str
    labels: dict[str, str]
    status: RunStatus
    error: str | None
    outputs: dict[str, Any]
    created_at: float
    started_at: float | None
    ended_at: float | None
    cost_usd: float  # sum of the run's task costs (0.0 when none is known)


@dataclass(frozen=True)
class TaskRecord:
    """One task instance of a run. `outputs` has the shape of `TaskOutputs` below (a plain dict)."""

    run_id: str
    task_id: str  # instance id, e.g. "train[2]"
    task_name: str
    status: TaskStatus
    cache_key: str | None
    outputs: dict[str, Any] | None
    cached_from_run: str | None
    cached_from_task: str | None
    error: str | None
    started_at: float | None
    ended_at: float | None
    duration_s: float | None
    peak_rss_mb: float | None
    cpu_time_s: float | None
    cost_usd: float | None
    saved_s: float | None
    attempts: int  # number of attempts recorded
    updated_at: float


# The documented shape of task outputs and cache-entry outputs (the store checks it in
# `consistency_report`; everything else is opaque to it):
#   {"parameters": {name: json-value, ...},
#    "artifacts": {name: {"uri": str, "digest": "sha256:<hex>", "size": int, ...}, ...}}
TaskOutputs = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class AttemptRecord:
    id: int
    run_id: str
    task_id: str
    number: int
    pid: int | None
    status: AttemptStatus
    failure_class: FailureClass | None
    error: str | None
    exit_code: int | None
    started_at: float
    ended_at: float | None
    peak_rss_mb: float | None
    cpu_time_s: float | None


@dataclass(frozen=True)
class ArtifactRecord:
    id: int
    uri: str
    digest: str
    size: int
    producer_run_id: str | None
    producer_task_id: str | None
    output_name: str | None
    type_name: str | None
    metadata: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class LineageRecord:
    run_id: str
    task_id: str
    artifact_id: int
    direction: Direction
    created_at: float


@dataclass(frozen=True)
class MetricRecord:
    run_id: str
    task_id: str
    name: str
    value: float
    created_at: float


@dataclass(frozen=True)
class CacheEntry:
    """A reusable result. `ttl_s` is the producing component's own TTL (None = forever)."""

    key: str
    outputs: dict[str, Any]
    created_at: float
    duration_s: float | None = None  # how long the original compute took (what a hit saves)
    cost_usd: float | None = None
    source_run_id: str | None = None
    source_task_id: str | None = None
    ttl_s: float | None = None

    def expired(self, now: float, max_staleness_s: float | None = None) -> bool:
        age = now - self.created_at
        if self.ttl_s is not None and age > self.ttl_s:
            return True
        return max_staleness_s is not None and age > max_staleness_s


@dataclass(frozen=True)
class CacheClaim:
    key: str
    owner: str
    claimed_at: float
    expires_at: float


@dataclass(frozen=True)
class ScheduleRecord:
    """A recurring run (an Argo CronWorkflow `name`); its firings are runs labelled `schedule=name`."""

    name: str
    pipeline_name: str
    cron: str  # 5-field cron or @daily-style, as Argo was given it
    timezone: str | None
    namespace: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ConsistencyReport:
    run_id: str
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems
